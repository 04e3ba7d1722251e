"""Resumable shards against a real local server: a rerun requests only what failed transiently (and
what went missing), never a permanent failure unless asked."""

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mmassets.images.download import DownloadSettings, download
from mmassets.images.shards import jobs_to_run, merge_status, nothing_downloaded, shard_ranges, summary
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
                               "failed permanently": 2, "refused": 0, "errors by kind": {"HTTP 404": 2},
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


def test_a_url_refused_as_private_is_fetched_once_the_setting_allows_it_even_from_an_older_table(server, tmp_path):
    """Refusals that a setting lifts are kept as such (``refused``), and a table written before
    they had a status of their own (``permanent``, the refusal's words in ``error``) is read so too."""
    urls, indices = [f"{server}/img{i}.jpg" for i in range(3)] + [f"{server}/gone0.jpg"], [0, 1, 2, 3]
    path_of = lambda i: tmp_path / f"{i}.jpg"  # noqa: E731
    strict = DownloadSettings(retries=0, allow_private=False, decode_threads=1)
    status = merge_status(None, download(jobs_to_run(urls, indices, path_of, None), strict), indices)
    assert status["status"].tolist() == ["refused"] * 4 and not FlakyHandler.hits
    assert summary(status)["refused"] == 4 and summary(status)["errors by kind"] == {"private address": 4}
    older = status.assign(status="permanent")  # as written before: same error, status permanent
    older.loc[0, "error"] = "refused: unsupported scheme 'ftp'"  # a refusal no setting lifts
    for table in (status, older):
        assert jobs_to_run(urls, indices, path_of, table) == []  # not without the setting
        again = jobs_to_run(urls, indices, path_of, table, allow_private=True)
        assert [j.index for j in again] == ([0, 1, 2, 3] if table is status else [1, 2, 3])
    assert merge_status(older, [], indices)["status"].tolist() == ["permanent"] + ["refused"] * 3

    allowed = DownloadSettings(retries=0, allow_private=True, decode_threads=1)
    status = merge_status(status, download(jobs_to_run(urls, indices, path_of, status, allow_private=True), allowed),
                          indices)
    assert status["status"].tolist() == ["ok", "ok", "ok", "permanent"]
    assert sorted(FlakyHandler.hits) == ["/gone0.jpg", "/img0.jpg", "/img1.jpg", "/img2.jpg"]


def test_a_download_that_fetched_nothing_says_why_with_the_counts(server, tmp_path):
    closed = f"http://127.0.0.1:{_closed_port()}"
    urls, indices = [f"{closed}/a{i}.jpg" for i in range(3)] + [f"{server}/gone{i}.jpg" for i in range(2)], range(5)
    path_of = lambda i: tmp_path / f"{i}.jpg"  # noqa: E731
    settings = DownloadSettings(retries=0, allow_private=True, decode_threads=1)
    status = merge_status(None, download(jobs_to_run(urls, indices, path_of, None), settings), indices)
    message = nothing_downloaded(status, "/data/downloads/x")
    assert message.startswith("0 of 5 URLs downloaded (connection error: 3, HTTP 404: 2): is this machine offline"), \
        message
    assert "retry_permanent: true" in message and message.endswith("status tables under /data/downloads/x")
    assert "\n" not in message and "MMASSETS_DOWNLOAD_ALLOW_PRIVATE" not in message
    refused = merge_status(None, download(jobs_to_run(urls[3:], indices[3:], path_of, None),
                                          DownloadSettings(retries=0, decode_threads=1)), indices[3:])
    message = nothing_downloaded(refused, "t")
    assert message.startswith("0 of 2 URLs downloaded (private address: 2): set MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1")
    assert "offline" not in message and "retry_permanent" not in message
    status.loc[4, "status"] = "ok"  # one image is enough
    assert nothing_downloaded(status, "t") is None and nothing_downloaded(status.iloc[:0], "t") is None


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused, as with no network)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
