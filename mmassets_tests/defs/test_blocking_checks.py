"""A failed blocking check stops what is built from its asset: its exports are not written (the
last good ones stay, and the summary says so), and nothing downstream is built — in the same build,
in a later `mmassets build` that does not rebuild it, and in a run launched as the UI launches one."""

import json
import shutil

import dagster as dg
import pytest

from builds import launch_alone, run_build
from mmassets.definitions import build_definitions
from mmassets.settings import Settings

MIXTURE = "mixture/dataoptim_all"
SELECT = ["--select", f'+key:"{MIXTURE}"']


def line_of(out: str, asset: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(asset + " "))


@pytest.fixture()
def blocked(tmp_path, sample_raw):
    """DataOptim's sources and their mixture built from a copy of the sample, then built again
    with one Flickr30k image gone (dataoptim/flickr30k and dataoptim/shikra name it)."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    data = tmp_path / "data"
    args = ["--profile", "production", "--raw-dir", str(raw), *SELECT]
    code, out = run_build(data, *args)
    assert code == 0, out
    exports = data / "exports"
    good = {path: path.read_bytes() for path in (exports / "dataoptim" / "flickr30k.json",
                                                  exports / "mixtures" / "dataoptim_all" / "train.llava.json")}
    image = json.loads(next(iter(good)).read_text(encoding="utf-8"))[0]["image"]  # flickr30k/<name>.jpg
    (raw / "flickr30k" / "images" / image.split("/", 1)[1]).unlink()
    code, out = run_build(data, *args)
    return raw, data, args, good, code, out


def test_a_blocked_asset_keeps_its_last_good_export_and_blocks_the_mixture(capsys, blocked):
    raw, data, _, good, code, out = blocked
    console = capsys.readouterr().err  # Dagster's console logger writes to stderr

    assert code == 1, out
    assert line_of(out, "dataoptim/flickr30k").endswith("blocked by check"), out
    assert "dataoptim/flickr30k: check images_resolve failed" in out
    assert ("dataoptim/flickr30k: blocked by check images_resolve: exports not written; the last good ones stay: "
            f"{data / 'exports' / 'dataoptim' / 'flickr30k.json'}") in out
    # the mixture merges the entries present (missing: skip), but a blocked one stops it
    assert line_of(out, MIXTURE).endswith("skipped: dataoptim/flickr30k blocked by check images_resolve"), out
    for path, before in good.items():  # byte for byte the exports of the good build
        assert path.read_bytes() == before, path
    assert line_of(out, "dataoptim/coco").endswith(" ok")  # what does not depend on the image still builds
    assert ("dataoptim__flickr30k blocked by a failed check (dataoptim/flickr30k: images_resolve): its exports are "
            "not written and nothing is built from it") in console, console
    assert "DagsterAssetCheckFailedError" not in console + out

    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    metadata = instance.get_latest_materialization_event(
        dg.AssetKey(["dataoptim", "flickr30k"])).asset_materialization.metadata
    assert metadata["exports withheld"].value.startswith("blocked by check images_resolve")
    assert "export" not in metadata


def test_a_later_build_does_not_build_on_a_blocked_asset(blocked):
    raw, data, _, good, _, _ = blocked

    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw), "--select", f'key:"{MIXTURE}"')

    assert code == 1, out
    assert line_of(out, MIXTURE).endswith("skipped: dataoptim/flickr30k blocked by check images_resolve"), out
    assert "1 runs" not in out and "0/1 assets materialized in 0 runs" in out


def test_a_run_launched_outside_the_build_refuses_a_blocked_upstream(blocked):
    raw, data, _, good, _, _ = blocked

    message = launch_alone(raw, data, MIXTURE)

    assert (f"{MIXTURE} is not built: dataoptim/flickr30k blocked by check images_resolve in its latest "
            "materialization") in message, message
    for path, before in good.items():
        assert path.read_bytes() == before, path


def requested_by_automation(raw, data, cursor):
    """One evaluation of the automation conditions (what the daemon's sensor does): the assets it
    asks for, and the cursor for the next."""
    defs = build_definitions(Settings.from_env({}, profile="production", raw_dir=str(raw), data_dir=str(data)))
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    return {r.key.to_user_string() for r in result.results if isinstance(r.key, dg.AssetKey) and r.true_subset.size}, \
        result.cursor


def test_automation_waits_for_the_check_and_the_asset_that_passes_again_unblocks(blocked, sample_raw):
    raw, data, args, good, _, _ = blocked
    production = ["--profile", "production", "--raw-dir", str(raw), "--select"]
    _, cursor = requested_by_automation(raw, data, None)
    code, out = run_build(data, *production, 'key:"dataoptim/flickr30k"')  # updated, and blocked again
    assert code == 1, out
    requested, cursor = requested_by_automation(raw, data, cursor)
    assert MIXTURE not in requested, requested

    image = json.loads(next(iter(good)).read_text(encoding="utf-8"))[0]["image"].split("/", 1)[1]
    shutil.copy(sample_raw / "flickr30k" / "images" / image, raw / "flickr30k" / "images" / image)
    code, out = run_build(data, *production, 'key:"dataoptim/flickr30k" or key:"dataoptim/shikra"')
    assert code == 0, out
    requested, _ = requested_by_automation(raw, data, cursor)
    assert MIXTURE in requested, requested
    code, out = run_build(data, *production, f'key:"{MIXTURE}"')
    assert code == 0, out
    assert line_of(out, MIXTURE).endswith(" ok")
    for path, before in good.items():
        assert path.read_bytes() == before, path


def test_blocked_vila_shards_leave_the_last_good_folder(tmp_path, sample_raw):
    """VILA shards are checked before they replace their folder: a collapsed row count (most pairs
    gone from the raw files) keeps the shards of the last good build, byte for byte."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    data = tmp_path / "data"
    select = ["--raw-dir", str(raw), "--select", '+key:"train/llm_jp_pair_step1" or key:"mixture/vila_ja_step1"']
    code, out = run_build(data, "--raw-dir", str(raw), "--select", '+key:"mixture/vila_ja_step1"')
    assert code == 0, out
    folder = data / "exports" / "vila" / "llm_jp_mm_pair_step1_6m"
    good = {path.name: path.read_bytes() for path in folder.iterdir()}
    for pairs in sorted((raw / "llm_jp" / "alt_pair_ja").glob("*.jsonl")):
        pairs.write_text(pairs.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")

    code, out = run_build(data, *select)

    assert code == 1, out
    assert line_of(out, "train/llm_jp_pair_step1").endswith("blocked by check"), out
    assert f"train/llm_jp_pair_step1: blocked by check row_count_stable: exports not written; the last good ones " \
           f"stay: {folder}" in out
    assert line_of(out, "mixture/vila_ja_step1").endswith(
        "skipped: train/llm_jp_pair_step1 blocked by check row_count_stable"), out
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == good
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
