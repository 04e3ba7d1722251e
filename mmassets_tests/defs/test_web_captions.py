"""Web captions through `mmassets build` on a production raw root whose URLs point at a real local
server: mBLIP's released sample used as published, reruns that request only what failed
transiently, images already on disk adopted, and caption matching from the web captions."""

import hashlib
import io
import json
import shutil
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pandas as pd
import pytest
from PIL import Image

from builds import materialization_metadata, run_build
from mmassets.definitions import build_definitions
from mmassets.images import shards
from mmassets.sample.coco import write_coco
from mmassets.settings import Settings
from mmassets.sources.blip import SAMPLE_FILE

GONE, FAILING, CORRUPT = 2, 4, 6
ENTRIES = 12
ALLOW_PRIVATE = {"MMASSETS_DOWNLOAD_ALLOW_PRIVATE": "1"}


def _jpeg(i: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400 + 10 * i, 300), (20 * i, 100, 200)).save(out, format="JPEG")
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        Handler.hits[self.path] += 1
        i = int(self.path.rsplit("/", 1)[-1].split(".")[0])
        status, body = (404, b"") if i == GONE else (500, b"") if i == FAILING else \
            (200, b"garbage" * 50) if i == CORRUPT else (200, _jpeg(i))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def released(server, tmp_path_factory):
    """A raw root with mBLIP's released sample (its `jpg` names have gaps, as after mBLIP's
    download) and COCO, built up to the web-caption records."""
    raw = tmp_path_factory.mktemp("released") / "raw"
    write_coco(raw)
    entries = [{"url": f"{server}/img/{i}.jpg", "caption": f"a photo of a red kite number {i} over the hills",
                "jpg": f"./images/{3 * i:08d}.jpg"} for i in range(ENTRIES)]
    (raw / SAMPLE_FILE).parent.mkdir(parents=True)
    (raw / SAMPLE_FILE).write_text(json.dumps(entries), encoding="utf-8")
    data = raw.parent / "data"
    Handler.hits.clear()
    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw), "--select", "*english/web_captions",
                          env=ALLOW_PRIVATE)
    return raw, data, code, out, Counter(Handler.hits)


def _status(data) -> pd.DataFrame:
    return pd.read_parquet(data / "assets" / "images" / "web_captions.parquet")


def test_the_released_sample_is_used_as_published_with_its_file_names(released):
    raw, data, code, out, hits = released
    assert code == 0, out
    sample = pd.read_parquet(data / "assets" / "english" / "web_caption_sample.parquet")
    assert sample["image_id"].tolist() == [f"{3 * i:08d}.jpg" for i in range(ENTRIES)]
    assert json.loads((data / "exports" / "web_captions" / "concept_manifest.json").read_text()) == {}
    images = sorted(p.name for p in (raw / "blip" / "images").iterdir() if p.name != shards.RECORDS_FOLDER)
    assert images == [f"{3 * i:08d}.jpg" for i in range(ENTRIES) if i not in (GONE, FAILING, CORRUPT)]
    records = pd.read_parquet(raw / "blip" / "images" / shards.RECORDS_FOLDER / "web_captions" / "shard-00000.parquet")
    assert records["path"].tolist() == images and list(records.columns) == list(shards.RECORD_COLUMNS)
    with Image.open(raw / "blip" / "images" / "00000000.jpg") as image:
        assert image.size == (256, 256) and image.format == "JPEG"  # mBLIP's rule: 400x300 → 256, padded
    status = _status(data).set_index("index")
    assert status.loc[GONE, "status"] == "permanent" and status.loc[GONE, "http_status"] == 404
    assert status.loc[FAILING, "status"] == "transient" and status.loc[FAILING, "attempts"] == 3  # retried twice
    assert status.loc[CORRUPT, "status"] == "permanent" and "not an image" in status.loc[CORRUPT, "error"]
    assert hits[f"/img/{FAILING}.jpg"] == 3 and hits[f"/img/{GONE}.jpg"] == 1
    english = pd.read_parquet(data / "assets" / "english" / "web_captions.parquet")
    assert len(english) == ENTRIES - 3 and set(english["image_id"]) == set(images)
    assert english["source_id"].tolist() == [i for i in range(ENTRIES) if i not in (GONE, FAILING, CORRUPT)]


def test_a_rerun_requests_only_the_transient_failure(released, server):
    raw, data, *_ = released
    Handler.hits.clear()
    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw), "--select", "images/web_captions",
                          env=ALLOW_PRIVATE)
    assert code == 0, out
    assert dict(Handler.hits) == {f"/img/{FAILING}.jpg": 3}


def test_images_on_disk_without_a_status_row_are_adopted_not_fetched(released):
    """As after a build killed once it had recorded its images under the image root, but before it
    wrote its status table: the recorded images are adopted (their URL is the one recorded)."""
    raw, data, *_ = released
    for table in (data / "downloads" / "web_captions").glob("shard-*.parquet"):
        table.unlink()  # as after a build killed before it wrote its status table
    before = _status(data)
    Handler.hits.clear()
    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw), "--select", "images/web_captions",
                          env=ALLOW_PRIVATE)
    assert code == 0, out
    assert "/img/0.jpg" not in Handler.hits and len(Handler.hits) == 3  # only the three that are not on disk
    after = _status(data).set_index("index")
    ok = before[before["status"] == "ok"].set_index("index")
    assert (after.loc[ok.index, "status"] == "ok").all() and (after.loc[ok.index, "sha256"] == ok["sha256"]).all()
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    metadata = instance.get_latest_materialization_event(dg.AssetKey(["images", "web_captions"])).asset_materialization.metadata
    assert metadata["found on disk"].value == len(ok) and metadata["fetched this run"].value == 3
    assert metadata[shards.ADOPTED_RECORDED].value == len(ok) and metadata[shards.ADOPTED_UNRECORDED].value == 0


def test_without_the_private_address_setting_every_local_url_is_refused(released, tmp_path):
    raw, *_ = released
    Handler.hits.clear()
    code, out = run_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw), "--select",
                          "*images/web_captions")
    assert code == 0, out  # the build goes on; the advisory success-rate check warns
    assert "images/web_captions: check download_success_rate failed" in out
    assert not Handler.hits
    status = _status(tmp_path / "data")
    tried = status[status["attempts"] > 0]  # the others are the earlier build's images, found on disk
    assert len(tried) == 3 and (tried["status"] == "refused").all()
    assert tried["error"].str.contains("MMASSETS_DOWNLOAD_ALLOW_PRIVATE").all()


def _centre_colour(path) -> tuple[int, ...]:
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def test_a_new_url_list_over_the_same_image_names_gets_its_own_images(tmp_path):
    """The released sample's file (`jpg` names) replaced by other URLs at the same names, built into
    a new data folder over the same image root: the old images are not taken for the new URLs (the
    record beside them names the old URLs), the new ones are fetched; another new data folder then
    requests nothing (recorded). Without the record (your own folder of images) they are fetched
    again, unless `adopt_unrecorded: true`, which takes them and counts them."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server_url = f"http://127.0.0.1:{httpd.server_address[1]}"

    def server_entries(ids) -> list[dict]:
        return [{"url": f"{server_url}/img/{i}.jpg", "caption": f"a photo of kite {i} over hills",
                 "jpg": f"./images/{k:08d}.jpg"} for k, i in enumerate(ids)]

    try:
        old, new = (0, 1, 3, 5), (7, 8, 9, 10)  # each serves a picture of its own colour
        raw = _raw_with_sample(tmp_path, server_entries(old))
        images, names = raw / "blip" / "images", [f"{k:08d}.jpg" for k in range(4)]

        def build(data: str, *extra: str) -> dict:
            code, out = run_build(tmp_path / data, "--profile", "production", "--raw-dir", str(raw), *extra,
                                  "--select", "*images/web_captions", env=ALLOW_PRIVATE)
            assert code == 0, out
            return materialization_metadata(tmp_path / data, "images/web_captions")

        build("data1")
        assert [_centre_colour(images / n)[0] for n in names] == pytest.approx([20 * i for i in old], abs=8)
        (raw / SAMPLE_FILE).write_text(json.dumps(server_entries(new)), encoding="utf-8")
        Handler.hits.clear()
        metadata = build("data2")  # a new data folder: no status table knows these files
        assert sorted(Handler.hits) == sorted(f"/img/{i}.jpg" for i in new)
        assert [_centre_colour(images / n)[0] for n in names] == pytest.approx([20 * i for i in new], abs=8)
        status = _status(tmp_path / "data2")
        assert status["url"].tolist() == [f"{server_url}/img/{i}.jpg" for i in new] and (status["attempts"] == 1).all()
        assert status["sha256"].tolist() == [hashlib.sha256((images / n).read_bytes()).hexdigest() for n in names]
        assert metadata[shards.NOT_ADOPTED_OTHER_URL] == 4 and metadata["found on disk"] == 0

        Handler.hits.clear()
        metadata = build("data3")  # another new data folder: the images' record says they are these URLs'
        assert not Handler.hits and metadata[shards.ADOPTED_RECORDED] == 4 and metadata["fetched this run"] == 0
        assert _status(tmp_path / "data3")["sha256"].tolist() == status["sha256"].tolist()

        shutil.rmtree(images / shards.RECORDS_FOLDER)  # a folder of images with no record: your own
        Handler.hits.clear()
        metadata = build("data4")
        assert len(Handler.hits) == 4 and metadata[shards.NOT_ADOPTED_UNRECORDED] == 4

        shutil.rmtree(images / shards.RECORDS_FOLDER)
        config = tmp_path / "adopt.yaml"
        config.write_text("images/web_captions:\n  adopt_unrecorded: true\n", encoding="utf-8")
        Handler.hits.clear()
        metadata = build("data5", "--config", str(config))
        assert not Handler.hits and metadata[shards.ADOPTED_UNRECORDED] == 4 and metadata["found on disk"] == 4
        assert (_status(tmp_path / "data5")["attempts"] == 0).all()
    finally:
        httpd.shutdown()
        httpd.server_close()


def _raw_with_sample(folder, entries: list[dict]):
    raw = folder / "raw"
    (raw / SAMPLE_FILE).parent.mkdir(parents=True)
    (raw / SAMPLE_FILE).write_text(json.dumps(entries), encoding="utf-8")
    return raw


def _summary_row(out: str, key: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(key + " "))


@pytest.mark.parametrize("written_as", ["refused", "permanent"])
def test_urls_refused_as_private_are_fetched_by_the_rerun_the_setting_allows(released, tmp_path, written_as):
    """The hint of a refusal, followed: a rerun with MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1 (and nothing
    else) fetches the URLs refused, from a status table of this version (``refused``) or of one
    before it (``permanent``, the refusal's words in ``error``)."""
    raw = _raw_with_sample(tmp_path, json.loads((released[0] / SAMPLE_FILE).read_text(encoding="utf-8")))
    data = tmp_path / "data"
    args = ["--profile", "production", "--raw-dir", str(raw), "--select", "*images/web_captions"]
    Handler.hits.clear()
    code, out = run_build(data, *args)
    assert code == 1 and not Handler.hits, out
    failure = next(line for line in out.splitlines() if line.startswith("  images/web_captions: "))
    assert failure.startswith(f"  images/web_captions: NothingDownloaded: 0 of {ENTRIES} URLs downloaded (private "
                              f"address: {ENTRIES}): set MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1 to fetch from loopback/"
                              "private addresses (a rerun then fetches the URLs refused)"), failure
    for table in (data / "downloads" / "web_captions").glob("shard-*.parquet"):
        frame = pd.read_parquet(table)
        assert (frame["status"] == "refused").all() and frame["error"].str.contains("a rerun then fetches it").all()
        frame.assign(status=written_as).to_parquet(table)

    Handler.hits.clear()
    code, out = run_build(data, *args, env=ALLOW_PRIVATE)
    assert code == 0, out
    assert set(Handler.hits) == {f"/img/{i}.jpg" for i in range(ENTRIES)}
    status = _status(data).set_index("index")
    assert (status["status"] == "ok").sum() == ENTRIES - 3 and status.loc[GONE, "http_status"] == 404
    assert _summary_row(out, "images/web_captions").endswith(" ok")
    if written_as == "refused":  # the other hint of a failed download: a 404 is asked for again only so
        config = tmp_path / "retry.yaml"
        config.write_text("images/web_captions:\n  retry_permanent: true\n", encoding="utf-8")
        Handler.hits.clear()
        assert run_build(data, *args, "--config", str(config), env=ALLOW_PRIVATE)[0] == 0
        assert Handler.hits[f"/img/{GONE}.jpg"] == 1 and Handler.hits[f"/img/{CORRUPT}.jpg"] == 1


def test_when_no_image_downloads_the_download_fails_with_the_counts_and_nothing_is_built_from_it(tmp_path):
    """As on a machine without network: no host resolves. The download fails saying so, with its
    failures counted by kind; what is built from it is skipped, not built from an empty folder."""
    raw = _raw_with_sample(tmp_path, [{"url": f"http://images{i % 3}.mmassets-offline.invalid/{i}.jpg",
                                       "caption": f"a photo of a red kite number {i}", "jpg": f"./images/{i:08d}.jpg"}
                                      for i in range(ENTRIES)])
    data = tmp_path / "data"
    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw), "--select", "*english/web_captions")
    assert code == 1, out
    lines = out.splitlines()
    failure = next(line for line in lines if line.startswith("  images/web_captions: "))
    assert failure.startswith(f"  images/web_captions: NothingDownloaded: 0 of {ENTRIES} URLs downloaded (cannot "
                              f"resolve host: {ENTRIES}): is this machine offline, or are the image hosts down? A "
                              "rerun retries the transient failures; "), failure
    assert failure.endswith(f"each URL's error is in the status tables under {data}/downloads/web_captions")
    assert _summary_row(out, "english/web_captions").endswith("skipped: images/web_captions failed"), out
    assert not (raw / "blip" / "images").exists() or not any((raw / "blip" / "images").iterdir())
    status = pd.concat(pd.read_parquet(t) for t in (data / "downloads" / "web_captions").glob("shard-*.parquet"))
    assert len(status) == ENTRIES and (status["status"] == "transient").all()  # a rerun retries them


def test_caption_matching_can_take_the_web_captions_as_mblip_does(released, capsys):
    raw, data, *_ = released
    config = data / "matching.yaml"
    config.write_text("english/caption_matching:\n  captions_from: web_captions\n  web_caption_rows: [1, 8]\n")
    args = ["--profile", "production", "--raw-dir", str(raw), "--config", str(config)]
    code, out = run_build(data, *args, "--select",
                          'key:"raw/coco_karpathy" or key:"english/caption_matching"')
    assert code == 0, out
    frame = pd.read_parquet(data / "assets" / "english" / "caption_matching.parquet")
    english = pd.read_parquet(data / "assets" / "english" / "web_captions.parquet")
    assert len(frame) == 7 and set(frame["image_id"]) <= set(english["image_id"].iloc[1:8])
    assert set(frame["image_root"]) == {"web_captions"}

    config.write_text("english/caption_matching:\n  captions_from: web_captions\n  colour: red\n")
    assert run_build(data, *args, "--select", 'key:"english/caption_matching"')[0] == 2
    err = capsys.readouterr().err
    assert "does not fit" in err and "colour" in err
    config.write_text("english/no_such_asset: {}\n")
    assert run_build(data, *args)[0] == 2
    assert f"{config}: no asset 'english/no_such_asset' in the graph" in capsys.readouterr().err


SLICES = {"MMASSETS_IMAGE_SLICES": "3"}
IMAGES = dg.AssetKey(["images", "web_captions"])


def test_a_download_in_slices_fetches_each_slices_shards_and_the_records_are_the_same(released, tmp_path):
    """Three slices of shards of two URLs: slice 1 of 3 alone (as one worker of a backfill) fetches
    its shards (1 and 4) only and removes the stale status tables of its slice only; the build of
    all slices then fetches the others, and the records are those of the download in one piece."""
    raw = tmp_path / "raw"
    (raw / SAMPLE_FILE).parent.mkdir(parents=True)
    (raw / SAMPLE_FILE).write_bytes((released[0] / SAMPLE_FILE).read_bytes())
    data, config = tmp_path / "data", tmp_path / "shards.yaml"
    config.write_text("images/web_captions:\n  shard_size: 2\n", encoding="utf-8")
    args = ["--profile", "production", "--raw-dir", str(raw), "--config", str(config)]
    code, out = run_build(data, *args, "--select", "*english/web_caption_sample", env={**ALLOW_PRIVATE, **SLICES})
    assert code == 0, out
    tables = data / "downloads" / "web_captions"
    tables.mkdir(parents=True)
    for stale in ("00007", "00008"):  # of a larger sample: slices 1 and 2
        shards.empty_status().to_parquet(tables / f"shard-{stale}.parquet")

    defs = build_definitions(Settings.from_env({**ALLOW_PRIVATE, **SLICES}, profile="production", raw_dir=str(raw),
                                               data_dir=str(data)))
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    Handler.hits.clear()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        asset_selection=[IMAGES], partition_key="1-of-3", instance=instance,
        run_config={"ops": {"images__web_captions": {"config": {"shard_size": 2}}}})
    assert result.success
    assert dict(Handler.hits) == {f"/img/{i}.jpg": 1 for i in (2, 3, 8, 9)}  # shards 1 and 4; 2 is GONE (404)
    assert sorted(p.name for p in tables.iterdir()) == ["shard-00001.parquet", "shard-00004.parquet",
                                                        "shard-00008.parquet"]
    assert instance.get_materialized_partitions(IMAGES) == {"1-of-3"}
    metadata = materialization_metadata(data, "images/web_captions", "1-of-3")
    assert metadata["success rate per shard"] == {"00001": 0.5, "00004": 1.0} and metadata["fetched this run"] == 4

    Handler.hits.clear()
    code, out = run_build(data, *args, "--select", 'key:"images/web_captions" or key:"english/web_captions"',
                          env={**ALLOW_PRIVATE, **SLICES})
    assert code == 0, out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("images/web_captions ")] == ["3/3"]
    assert set(Handler.hits) == {f"/img/{i}.jpg" for i in range(ENTRIES) if i // 2 % 3 != 1}  # none of slice 1
    assert Handler.hits[f"/img/{FAILING}.jpg"] == 3
    assert sorted(p.name for p in tables.iterdir()) == [f"shard-{n:05d}.parquet" for n in range(6)]
    assert sorted(p.name for p in (data / "assets" / "images" / "web_captions").iterdir()) == [
        "0-of-3.parquet", "1-of-3.parquet", "2-of-3.parquet"]
    whole = released[1] / "assets" / "english" / "web_captions.parquet"
    assert pd.read_parquet(data / "assets" / "english" / "web_captions.parquet").equals(pd.read_parquet(whole))
