"""The sample profile's stand-in for the web: a local HTTP server on 127.0.0.1 that serves the
sample's web-caption images, so that ``make run`` exercises the downloader for real.

The sample's URLs (web captions, llm-jp's Step-1 pairs) name a host that never resolves (``SAMPLE_HOST``, under ``.invalid``); the
images asset maps that prefix to this server (the downloader's ``mirrors``). Paths under
``/img/`` serve the file of that name from the server's folder (404 when there is none); paths
under ``/fail/`` answer 500; paths under ``/slow/`` serve the file after ``SLOW_S`` seconds. A
corrupt body is simply a file of the folder that is not an image.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SAMPLE_HOST = "http://images.sample.mmassets.invalid/"
SERVER_FOLDER = "sample_web"
"""The folder of the sample raw root the server serves (the sample's web, not an upstream dataset)."""
SLOW_S = 1.0
POLL_S = 0.02
"""How often the serving loop looks for its stop: ``serve`` returns within this once the block ends
(``socketserver``'s default, half a second, cost each images asset that much)."""


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real image hosts

        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            kind, _, name = self.path.lstrip("/").partition("/")
            if kind == "fail":
                return self._send(500, b"sample server error")
            if kind == "slow":
                time.sleep(SLOW_S)
            path = folder / name
            if kind not in ("img", "slow") or "/" in name or name.startswith(".") or not path.is_file():
                return self._send(404, b"not found")
            self._send(200, path.read_bytes(), "image/jpeg")

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # the build's console is for people
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return  # a client closed its keep-alive connection: how a download ends, not an error
        super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1 while the block runs; yields the base URL."""
    server = _Server(("127.0.0.1", 0), _handler(Path(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_S},
                              name="mmassets-sample-web", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
