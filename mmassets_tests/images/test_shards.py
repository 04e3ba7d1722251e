"""Resumable shards against a real local server: a rerun requests only what failed transiently (and
what went missing), never a permanent failure unless asked."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mmassets.images.download import DownloadSettings, download
from mmassets.images.shards import jobs_to_run, merge_status, shard_ranges, summary
from test_download import JPEG


class FlakyHandler(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    down: set = set()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        FlakyHandler.hits[self.path] += 1
        if self.path.startswith("/gone"):
            status, body = 404, b""
        elif self.path in FlakyHandler.down:
            status, body = 503, b""
        else:
            status, body = 200, JPEG
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    FlakyHandler.hits.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_shard_ranges_cover_every_url_once():
    assert shard_ranges(25, 10) == [("00000", 0, 10), ("00001", 10, 20), ("00002", 20, 25)]
    assert shard_ranges(0, 10) == []


def test_a_rerun_fetches_only_the_transient_failures_and_missing_files(server, tmp_path):
    settings = DownloadSettings(retries=0, timeout_s=2, allow_private=True, concurrency=4, decode_threads=1)
    urls = [f"{server}/img{i}.jpg" for i in range(8)] + [f"{server}/gone{i}.jpg" for i in range(2)]
    indices = list(range(100, 110))
    path_of = lambda i: tmp_path / f"{i:08d}.jpg"  # noqa: E731
    FlakyHandler.down = {"/img2.jpg", "/img5.jpg"}

    first = jobs_to_run(urls, indices, path_of, None)
    assert [j.index for j in first] == indices
    status = merge_status(None, download(first, settings), indices)
    assert summary(status)["ok"] == 6 and summary(status)["failed transiently"] == 2
    assert summary(status)["errors by kind"] == {"HTTP 503": 2, "HTTP 404": 2}

    FlakyHandler.down = set()
    path_of(100).unlink()  # a file lost since
    FlakyHandler.hits.clear()
    again = jobs_to_run(urls, indices, path_of, status)
    assert sorted(j.index for j in again) == [100, 102, 105]
    status = merge_status(status, download(again, settings), indices)
    assert set(FlakyHandler.hits) == {"/img0.jpg", "/img2.jpg", "/img5.jpg"}  # nothing else was requested
    assert summary(status) == {"urls": 10, "ok": 8, "success rate": 0.8, "failed transiently": 0,
                               "failed permanently": 2, "errors by kind": {"HTTP 404": 2},
                               "bytes": 8 * len(JPEG)}
    assert status["index"].tolist() == indices
    assert jobs_to_run(urls, indices, path_of, status) == []  # all done
    assert [j.index for j in jobs_to_run(urls, indices, path_of, status, retry_permanent=True)] == [108, 109]


def test_a_corrupted_file_or_a_changed_url_is_fetched_again(server, tmp_path):
    settings = DownloadSettings(retries=0, allow_private=True, decode_threads=1)
    urls, indices = [f"{server}/a.jpg", f"{server}/b.jpg"], [0, 1]
    path_of = lambda i: tmp_path / f"{i}.jpg"  # noqa: E731
    status = merge_status(None, download(jobs_to_run(urls, indices, path_of, None), settings), indices)
    path_of(0).write_bytes(b"scribbled over")
    changed = [urls[0], f"{server}/c.jpg"]
    assert [(j.index, j.url) for j in jobs_to_run(changed, indices, path_of, status)] == [(0, urls[0]), (1, changed[1])]


def test_the_slices_of_a_download_share_its_shards_out_each_to_one_slice():
    from mmassets.images.shards import in_slice, slice_keys

    assert slice_keys(1) == ["0-of-1"] and slice_keys(3) == ["0-of-3", "1-of-3", "2-of-3"]
    assert slice_keys(12)[:2] == ["00-of-12", "01-of-12"] and sorted(slice_keys(12)) == slice_keys(12)
    keys = [key for key, _, _ in shard_ranges(95, 10)]
    owners = {key: [s for s in slice_keys(4) if in_slice(key, s)] for key in keys}
    assert all(len(owner) == 1 for owner in owners.values())
    assert [key for key in keys if owners[key] == ["1-of-4"]] == ["00001", "00005", "00009"]
    assert all(in_slice(key, None) for key in keys)  # a download in one piece owns every shard
    with pytest.raises(ValueError):
        slice_keys(0)
