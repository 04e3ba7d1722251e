"""The downloader against a real HTTP server on 127.0.0.1: retries, backoff, Retry-After, timeouts,
redirects, size limits, hostile bodies, refused URLs, atomic files."""

import io
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from mmassets.images.download import PERMANENT, REFUSED, TRANSIENT, DownloadSettings, Job, download

JPEG = io.BytesIO()
Image.new("RGB", (640, 480), (30, 120, 200)).save(JPEG, format="JPEG")
JPEG = JPEG.getvalue()


class Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    agents: set = set()

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        Handler.hits[self.path] += 1
        Handler.agents.add(self.headers.get("User-Agent"))
        seen = Handler.hits[self.path]
        route = self.path.split("?", 1)[0]
        if route == "/ok.jpg":
            self._send(200, JPEG, {"Content-Type": "image/jpeg"})
        elif route == "/missing.jpg":
            self._send(404, b"not found")
        elif route == "/flaky.jpg":  # one server error, then the image
            self._send(500) if seen == 1 else self._send(200, JPEG)
        elif route == "/busy.jpg":  # 429 with Retry-After, then the image
            self._send(429, b"", {"Retry-After": "1"}) if seen == 1 else self._send(200, JPEG)
        elif route == "/down.jpg":
            self._send(503)
        elif route == "/slow.jpg":
            time.sleep(1.5)
            self._send(200, JPEG)
        elif route == "/corrupt.jpg":
            self._send(200, b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
        elif route == "/redirect.jpg":
            self._send(302, b"", {"Location": "/ok.jpg"})
        elif route == "/loop.jpg":
            self._send(302, b"", {"Location": "/loop.jpg"})
        elif route == "/huge.jpg":
            self._send(200, JPEG + b"\0" * 200_000)
        else:
            self._send(404)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def settings():
    Handler.hits.clear()
    return DownloadSettings(concurrency=8, timeout_s=0.5, retries=2, backoff_s=0.05, max_bytes=150_000,
                            allow_private=True, decode_threads=2)


def test_every_kind_of_url_gets_the_outcome_it_deserves(server, settings, tmp_path):
    names = ["ok", "missing", "flaky", "busy", "down", "slow", "corrupt", "redirect", "loop", "huge"]
    jobs = [Job(i, f"{server}/{name}.jpg", tmp_path / f"{i:08d}.jpg") for i, name in enumerate(names)]
    started = time.monotonic()
    outcomes = {name: o for name, o in zip(names, download(jobs, settings))}
    assert [o.index for o in outcomes.values()] == list(range(len(names)))  # in job order
    for name in ("ok", "flaky", "busy", "redirect"):
        o = outcomes[name]
        assert o.status == "ok" and (o.width, o.height) == (256, 256) and o.http_status == 200, o
        assert (tmp_path / f"{names.index(name):08d}.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert outcomes["ok"].attempts == 1 and outcomes["flaky"].attempts == 2 and outcomes["busy"].attempts == 2
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert (outcomes["missing"].status, outcomes["missing"].http_status, outcomes["missing"].attempts) == (PERMANENT, 404, 1)
    assert (outcomes["down"].status, outcomes["down"].http_status, outcomes["down"].attempts) == (TRANSIENT, 503, 3)
    assert outcomes["slow"].status == TRANSIENT and "timeout" in outcomes["slow"].error
    assert outcomes["corrupt"].status == PERMANENT and "not an image" in outcomes["corrupt"].error
    assert outcomes["loop"].status == PERMANENT and "redirects" in outcomes["loop"].error
    assert outcomes["huge"].status == PERMANENT and "limit" in outcomes["huge"].error
    assert Handler.hits["/missing.jpg"] == 1 and Handler.hits["/down.jpg"] == 3  # 4xx never retried
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"{names.index(n):08d}.jpg" for n in ("ok", "flaky", "busy", "redirect")]  # no temp files


def test_urls_that_are_not_http_or_point_inside_the_network_are_refused(server, settings, tmp_path):
    strict = DownloadSettings(timeout_s=0.5, retries=0)
    jobs = [Job(0, f"{server}/ok.jpg", tmp_path / "a.jpg"), Job(1, "file:///etc/passwd", tmp_path / "b.jpg"),
            Job(2, "ftp://example.org/x.jpg", tmp_path / "c.jpg"), Job(3, "http://169.254.169.254/latest/", tmp_path / "d.jpg"),
            Job(4, "http://[::1]:9/x.jpg", tmp_path / "e.jpg")]
    outcomes = download(jobs, strict)
    # a private address is refused until the setting allows it; a scheme other than http(s) for good
    assert [o.status for o in outcomes] == [REFUSED, PERMANENT, PERMANENT, REFUSED, REFUSED], outcomes
    assert "loopback/private/reserved" in outcomes[0].error and "MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1" in outcomes[0].error
    assert "unsupported scheme 'file'" in outcomes[1].error and "unsupported scheme 'ftp'" in outcomes[2].error
    assert "169.254.169.254" in outcomes[3].error and "::1" in outcomes[4].error
    assert Handler.hits["/ok.jpg"] == 0 and not list(tmp_path.iterdir())


def test_outcomes_reach_the_callback_as_they_arrive(server, settings, tmp_path):
    seen = []
    jobs = [Job(i, f"{server}/ok.jpg?{i}", Path(tmp_path / f"{i}.jpg")) for i in range(20)]
    outcomes = download(jobs, settings, on_done=seen.append)
    assert sorted(o.index for o in seen) == list(range(20)) and all(o.status == "ok" for o in outcomes)
    assert len({o.sha256 for o in outcomes}) == 1 and outcomes[0].as_row()["bytes"] == len(JPEG)


def test_every_request_carries_the_user_agent_setting(server, settings, tmp_path):
    from dataclasses import replace

    Handler.agents.clear()
    download([Job(0, f"{server}/ok.jpg", tmp_path / "0.jpg")], replace(settings, user_agent="my-lab-crawler/2.0"))
    assert Handler.agents == {"my-lab-crawler/2.0"}


def test_a_mirror_prefix_fetches_from_elsewhere_and_keeps_the_original_url(server, settings, tmp_path):
    from dataclasses import replace

    mirrored = replace(settings, mirrors=(("http://images.example.invalid/", f"{server}/"),))
    (outcome,) = download([Job(0, "http://images.example.invalid/ok.jpg", tmp_path / "0.jpg")], mirrored)
    assert outcome.status == "ok" and outcome.url == "http://images.example.invalid/ok.jpg"
    assert Handler.hits["/ok.jpg"] == 1
    strict = replace(mirrored, allow_private=False)  # the mirror's own address is checked
    (refused,) = download([Job(1, "http://images.example.invalid/ok.jpg", tmp_path / "1.jpg")], strict)
    assert refused.status == REFUSED and "loopback/private/reserved" in refused.error
