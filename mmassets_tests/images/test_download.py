"""The downloader against a real HTTP server on 127.0.0.1: retries, backoff, Retry-After, timeouts,
an attempt deadline against servers that drip, redirects, size limits, content-encoding bombs,
hostile bodies, refused URLs, atomic files."""

import asyncio
import contextlib
import functools
import io
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from mmassets.images.download import PERMANENT, REFUSED, TRANSIENT, DownloadSettings, Job, check_url, download
from mmassets.images.shards import summary, merge_status

JPEG = io.BytesIO()
Image.new("RGB", (640, 480), (30, 120, 200)).save(JPEG, format="JPEG")
JPEG = JPEG.getvalue()
DRIP_INTERVAL_S = 0.5


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return packer.compress(data) + packer.flush()


@functools.cache
def zeros_packed(megabytes: int, wbits: int = zlib.MAX_WBITS | 16) -> bytes:
    """``megabytes`` MiB of zeros packed a MiB at a time (about a thousandth of that): gzip, or with
    other ``wbits`` zlib-wrapped deflate."""
    packer, zeros = zlib.compressobj(9, zlib.DEFLATED, wbits), bytes(1 << 20)
    return b"".join([*(packer.compress(zeros) for _ in range(megabytes)), packer.flush()])


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
        try:
            self.wfile.write(body)
        except OSError:  # the client hung up (as it does on a body over the limit)
            self.close_connection = True

    def _drip(self, head: bytes, body_bytes: int) -> None:
        """``head`` at once, then one byte every DRIP_INTERVAL_S (at most 40: an old downloader that
        waits for the end still ends, after 20 s)."""
        self.wfile.write(head)
        self.wfile.flush()
        for _ in range(body_bytes):
            time.sleep(DRIP_INTERVAL_S)
            try:
                self.wfile.write(b"\0")
                self.wfile.flush()
            except OSError:  # the client hung up
                return
        self.close_connection = True

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
        elif route == "/drip-body.jpg":  # headers at once, then a byte a while
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 40\r\n\r\n", 40)
        elif route == "/drip-headers.jpg":  # the status line, then the headers a byte a while
            self._drip(b"HTTP/1.1 200 OK\r\nX-Slow: ", 40)
        elif route == "/gzip-gzip.jpg":  # 1 kB that is 128 MiB once both layers are undone
            self._send(200, gzip(zeros_packed(128)), {"Content-Encoding": "gzip, gzip"})
        elif route == "/gzip-twice.jpg":  # the same as two headers
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Encoding", "gzip")
            body = gzip(zeros_packed(128))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client may hang up at the headers
                self.wfile.write(body)
        elif route == "/gzip-bomb.jpg":  # 130 kB that is 128 MiB once decoded
            self._send(200, zeros_packed(128), {"Content-Encoding": "gzip"})
        elif route == "/deflate-bomb.jpg":  # the same as zlib-wrapped deflate
            self._send(200, zeros_packed(128, zlib.MAX_WBITS), {"Content-Encoding": "deflate"})
        elif route == "/brotli.jpg":
            self._send(200, b"\x1b\x00\x00", {"Content-Encoding": "br"})
        elif route == "/gzipped.jpg":  # an honest gzip-encoded image
            self._send(200, gzip(JPEG), {"Content-Encoding": "gzip"})
        elif route == "/deflated.jpg":  # an honest raw-deflate-encoded image (as some servers send it)
            packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._send(200, packer.compress(JPEG) + packer.flush(), {"Content-Encoding": "deflate"})
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


def test_a_server_that_drips_bytes_is_cut_off_at_the_attempt_deadline(server, settings, tmp_path):
    from dataclasses import replace

    # each read comes well within the 2 s timeout: only a deadline on the whole attempt ends these
    dripping = replace(settings, timeout_s=2.0, attempt_deadline_s=1.0, retries=1)
    names = ["drip-body", "drip-headers", "ok"]
    jobs = [Job(i, f"{server}/{name}.jpg", tmp_path / f"{i}.jpg") for i, name in enumerate(names)]
    started = time.monotonic()
    outcomes = download(jobs, dripping)
    elapsed = time.monotonic() - started
    assert elapsed < 2 * 1.0 + 3, elapsed  # two attempts of at most 1 s each and a short backoff (20 s without)
    assert outcomes[2].status == "ok"
    for outcome in outcomes[:2]:
        assert (outcome.status, outcome.attempts) == (TRANSIENT, 2), outcome  # retried, as a timeout is
        assert outcome.error.startswith("too slow: no complete response within the 1 s attempt deadline"), outcome
    assert "bytes received" in outcomes[0].error and not (tmp_path / "0.jpg").exists()
    status = merge_status(None, outcomes, range(3))  # every URL has its row, the failures counted by kind
    assert list(status["status"]) == [TRANSIENT, TRANSIENT, "ok"]
    assert summary(status)["errors by kind"] == {"too slow": 2}


def test_content_encoding_bombs_are_permanent_failures_in_bounded_memory(server, settings, tmp_path):
    from dataclasses import replace

    bounded = replace(settings, max_bytes=1_000_000)  # the raw bombs (at most 130 kB) are well under it
    names = ["gzip-gzip", "gzip-twice", "gzip-bomb", "deflate-bomb", "brotli", "gzipped", "deflated"]
    zeros_packed(128), zeros_packed(128, zlib.MAX_WBITS)  # built before measuring
    jobs = [Job(i, f"{server}/{name}.jpg", tmp_path / f"{i}.jpg") for i, name in enumerate(names)]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        outcomes = dict(zip(names, download(jobs, bounded)))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # 128 MiB behind every bomb; the downloader held a few MB at most (the server's bodies included)
    assert peak < 32 * 1024 * 1024, f"{peak:,} bytes"
    for name in ("gzip-gzip", "gzip-twice"):
        o = outcomes[name]
        assert (o.status, o.attempts, o.http_status) == (PERMANENT, 1, 200), o
        assert o.error.startswith("unsupported content encoding: 'gzip, gzip'"), o
    for name, encoding in (("gzip-bomb", "gzip"), ("deflate-bomb", "deflate")):
        o = outcomes[name]
        assert (o.status, o.attempts) == (PERMANENT, 1), o
        assert o.error == f"response over the 1,000,000-byte limit once its {encoding} encoding is decoded", o
    brotli = outcomes["brotli"]
    assert brotli.status == PERMANENT and brotli.error.startswith("unsupported content encoding: 'br'"), brotli
    for name in ("gzipped", "deflated"):  # one honest encoding is still decoded
        assert outcomes[name].status == "ok" and outcomes[name].bytes == len(JPEG), outcomes[name]
    status = merge_status(None, list(outcomes.values()), range(len(names)))
    assert list(status["status"]) == [PERMANENT] * 5 + ["ok"] * 2  # every URL has its row, counted by kind
    assert summary(status)["errors by kind"] == {"unsupported content encoding": 3, "response": 2}


def test_every_address_that_is_not_global_is_refused(server, settings, tmp_path):
    strict = DownloadSettings(timeout_s=0.5, retries=0, attempt_deadline_s=2.0)
    hosts = ["100.64.0.1", "100.100.100.200", "100.127.255.254", "[::ffff:100.100.100.200]",
             "[2002:a9fe:a9fe::1]", "[fec0::1]", "[64:ff9b::a9fe:a9fe]", "224.0.0.251", "0.0.0.0", "198.18.0.1"]
    jobs = [Job(i, f"http://{host}/latest/meta-data/", tmp_path / f"{i}.jpg") for i, host in enumerate(hosts)]
    outcomes = download(jobs, strict)
    for host, outcome in zip(hosts, outcomes):
        assert outcome.status == REFUSED and outcome.attempts == 1, outcome  # not fetched, and no retry
        assert "resolves to a loopback/private/reserved address" in outcome.error, outcome
        assert "MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1" in outcome.error and host.strip("[]") in outcome.error
    assert summary(merge_status(None, outcomes, range(len(hosts))))["errors by kind"] == {"private address": len(hosts)}
    for url in ("http://8.8.8.8/x.jpg", "http://[2606:4700:4700::1111]/x.jpg", "http://100.128.0.1/x.jpg"):
        asyncio.run(check_url(url, strict))  # global addresses pass (checked, not fetched)


def test_a_malformed_url_is_a_counted_permanent_failure_not_a_failed_download(server, settings, tmp_path):
    from dataclasses import replace

    # before: ValueError or UnicodeError out of the whole download, and no URL got a status row
    urls = ["http://[::1/x.jpg", "http://example.invalid:99999/x.jpg", "http://a..b/x.jpg",
            f"http://{'a' * 300}.invalid/x.jpg"]
    outcomes = download([Job(i, url, tmp_path / f"{i}.jpg") for i, url in enumerate(urls)],
                        replace(settings, allow_private=False))
    assert [(o.status, o.attempts) for o in outcomes] == [(PERMANENT, 1)] * 4, outcomes
    assert all(o.error.startswith("refused: malformed URL (") for o in outcomes), outcomes
    status = merge_status(None, outcomes, range(4))  # each has its row, counted
    assert summary(status)["errors by kind"] == {"refused": 4} and status["status"].eq(PERMANENT).all()
    unchecked = download([Job(0, "http://[::1/x.jpg", tmp_path / "0.jpg"),  # allow_private skips resolving, not parsing
                          Job(1, f"{server}/ok.jpg", tmp_path / "1.jpg")], settings)
    assert [o.status for o in unchecked] == [PERMANENT, "ok"], unchecked
