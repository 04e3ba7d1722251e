"""Resumable shards against a real local server: a rerun requests only what failed transiently (and
what went missing), never a permanent failure unless asked."""

import hashlib
import io
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from mmassets.images import shards
from mmassets.images.download import DownloadSettings, download
from mmassets.images.resize import ResizeSettings
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
        elif self.path.startswith("/pic/"):
            status, body = 200, _picture(int(self.path.rsplit("/", 1)[-1].split(".")[0]))
        elif self.path in FlakyHandler.down:
            status, body = 503, b""
        else:
            status, body = 200, JPEG
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _picture(n: int) -> bytes:
    """A picture of its own for each ``n`` (its size and colour)."""
    out = io.BytesIO()
    Image.new("RGB", (480 - n, 360), (10 * n % 256, 80, 160)).save(out, format="JPEG")
    return out.getvalue()


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


def _run_shard(urls, names, root, status, *, adopt_unrecorded=False):
    """One shard as ``download_images`` runs it: adopt what the image root records (or, when asked,
    what it holds without a record), fetch the rest, write the status table's records beside the images."""
    settings = DownloadSettings(retries=0, allow_private=True, decode_threads=1)
    indices = range(len(urls))
    records = shards.DownloadRecords(root, "pairs")
    adoption = shards.adopt_existing(urls, indices, lambda i: root / names[i], status,
                                     lambda i: records.of(names[i], "00000"), adopt_unrecorded=adopt_unrecorded)
    known = adoption.apply(status, indices)
    jobs = jobs_to_run(urls, indices, lambda i: root / names[i], known, checked={o.index for o in adoption.outcomes})
    table = merge_status(known, download(jobs, settings, ResizeSettings(mode="no")), indices)
    records.write("00000", shards.shard_records(table, names, adoption.recorded))
    return table, adoption


def _sha256s(root, names) -> list[str]:
    return [hashlib.sha256((root / name).read_bytes()).hexdigest() for name in names]


def test_files_named_by_position_are_adopted_only_for_the_url_their_record_names(server, tmp_path):
    """A pairs file replaced by other URLs at the same positions: with no status table (a new data
    folder), the old images are not taken for the new URLs — the record beside them names the old
    URLs — and the new URLs' images are fetched; a later new data folder adopts them without a request."""
    names = [f"pairs_000/{i:08d}.jpg" for i in range(4)]
    old, new = [f"{server}/pic/{i}.jpg" for i in range(4)], [f"{server}/pic/{10 + i}.jpg" for i in range(4)]
    root, reference = tmp_path / "images", tmp_path / "reference"
    first, _ = _run_shard(old, names, root, None)
    assert (first["status"] == "ok").all()
    assert (root / shards.RECORDS_FOLDER / "pairs" / "shard-00000.parquet").is_file()
    old_files = _sha256s(root, names)
    expected, _ = _run_shard(new, names, reference, None)  # the new URLs' images, fetched into a folder of their own

    FlakyHandler.hits.clear()
    table, adoption = _run_shard(new, names, root, None)  # a new data folder: no status table
    assert sorted(FlakyHandler.hits) == [f"/pic/{10 + i}.jpg" for i in range(4)]
    assert adoption.outcomes == [] and adoption.counts[shards.NOT_ADOPTED_OTHER_URL] == 4
    assert _sha256s(root, names) == _sha256s(reference, names) == table["sha256"].tolist()
    assert table["sha256"].tolist() == expected["sha256"].tolist()
    assert not set(old_files) & set(_sha256s(root, names))
    assert [Image.open(root / name).size for name in names] == [(480 - 10 - i, 360) for i in range(4)]

    FlakyHandler.hits.clear()
    again, adoption = _run_shard(new, names, root, None)  # another new data folder: the records are with the images
    assert not FlakyHandler.hits and adoption.counts[shards.ADOPTED_RECORDED] == 4
    assert again.drop(columns=["http_status", "attempts"]).equals(table.drop(columns=["http_status", "attempts"]))
    assert (again["attempts"] == 0).all()


def test_images_without_a_record_are_fetched_unless_adopting_them_is_asked_for_then_counted(server, tmp_path):
    names = [f"{i:08d}.jpg" for i in range(3)]
    urls = [f"{server}/pic/{i}.jpg" for i in range(3)]
    own = tmp_path / "own"  # your own earlier download under mBLIP's names: no record
    for i, name in enumerate(names):
        (own / name).parent.mkdir(parents=True, exist_ok=True)
        (own / name).write_bytes(_picture(20 + i))
    FlakyHandler.hits.clear()
    table, adoption = _run_shard(urls, names, own, None)
    assert adoption.counts[shards.NOT_ADOPTED_UNRECORDED] == 3 and len(FlakyHandler.hits) == 3
    assert (table["attempts"] == 1).all() and _sha256s(own, names) == table["sha256"].tolist()

    asked = tmp_path / "asked"
    for i, name in enumerate(names):
        (asked / name).parent.mkdir(parents=True, exist_ok=True)
        (asked / name).write_bytes(_picture(20 + i))
    FlakyHandler.hits.clear()
    table, adoption = _run_shard(urls, names, asked, None, adopt_unrecorded=True)
    assert not FlakyHandler.hits and adoption.counts[shards.ADOPTED_UNRECORDED] == 3
    assert (table["attempts"] == 0).all() and table["sha256"].tolist() == _sha256s(asked, names)
    assert not (asked / shards.RECORDS_FOLDER).exists()  # nothing says what URL they are: not recorded
    # the same table later, without the setting: those images are not trusted any more, and fetched
    FlakyHandler.hits.clear()
    table, adoption = _run_shard(urls, names, asked, table)
    assert len(FlakyHandler.hits) == 3 and (table["attempts"] == 1).all()
    assert adoption.counts[shards.NOT_ADOPTED_UNRECORDED] == 3


def test_a_status_table_that_took_another_urls_image_from_disk_is_repaired(server, tmp_path):
    """A table written by an earlier version, which adopted the old images for the new URLs
    (``ok``, ``attempts`` 0): a rerun fetches the new URLs' images."""
    names = [f"{i:08d}.jpg" for i in range(2)]
    old, new = [f"{server}/pic/{i}.jpg" for i in range(2)], [f"{server}/pic/{30 + i}.jpg" for i in range(2)]
    root = tmp_path / "images"
    first, _ = _run_shard(old, names, root, None)
    wrongly = first.assign(url=new, attempts=0, http_status=None)
    FlakyHandler.hits.clear()
    table, adoption = _run_shard(new, names, root, wrongly)
    assert sorted(FlakyHandler.hits) == ["/pic/30.jpg", "/pic/31.jpg"]
    assert adoption.counts[shards.NOT_ADOPTED_OTHER_URL] == 2 and (table["attempts"] == 1).all()
    assert [Image.open(root / name).size for name in names] == [(450, 360), (449, 360)]
