"""A build never destroys what it did not make and never wedges: user folders given to the sample
profile, interrupts, empty raw files, names that would become paths (issue 10). The kill -9 case
is in test_build_sample (it compares against the shared full build)."""

import json
import os
import signal
from pathlib import Path

import dagster as dg
import pytest

from builds import finish, run_build, start_build, wait_for_pool_slot
from mmassets.defs.common.io import stored_path
from mmassets.files import safe_name
from mmassets.languages import LanguageTable


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_sample_profile_refuses_a_users_raw_dir_and_leaves_it_byte_for_byte(tmp_path, capsys):
    mine = tmp_path / "my_raw"
    (mine / "coco").mkdir(parents=True)
    (mine / "coco" / "dataset_coco.json").write_text('{"images": [{"cocoid": 1}]}')
    (mine / "thesis.tex").write_text("three years of work")
    before = _files(mine)
    code, out = run_build(tmp_path / "data", "--raw-dir", str(mine))
    assert code == 2, out
    err = capsys.readouterr().err
    assert f"{mine} is not empty and was not made by the sample generator" in err
    assert "--profile production" in err
    assert _files(mine) == before
    assert not (tmp_path / "data" / "assets").exists()


def test_a_folder_the_sample_generator_made_is_accepted_as_raw_dir(tmp_path, sample_raw):
    code, out = run_build(tmp_path / "data", "--raw-dir", str(sample_raw), "--select", 'key:"raw/coco_karpathy"')
    assert code == 0, out


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_stops_the_build_frees_its_slots_and_writes_no_mixture(tmp_path, sample_raw, signum):
    data_dir = tmp_path / "data"
    build = start_build(data_dir, "--raw-dir", str(sample_raw))
    wait_for_pool_slot(data_dir, build)
    if signum == signal.SIGINT:
        os.killpg(build.pid, signum)  # Ctrl-C reaches the whole process group
    else:
        build.send_signal(signum)
    out = finish(build, 120, "the build went on after the interrupt")
    assert build.returncode == 130, out
    assert "interrupted: the build stopped after the interrupted run" in out
    assert "skipped: the build was interrupted" in out
    assert not (data_dir / "exports" / "train").exists(), "no train file or mixture from a partial set"
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    assert not instance.event_log_storage.get_concurrency_info("gpu").claimed_slots
    in_flight = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED]
    assert not instance.get_runs(filters=dg.RunsFilter(statuses=in_flight))
    assert instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))


def test_an_empty_required_file_fails_naming_it_and_keeps_the_previous_exports(xm3600_built):
    raw, data_dir, args = xm3600_built
    exports = data_dir / "exports" / "eval" / "xm3600"
    before = _files(exports)
    assert any(name.endswith(".coco.json") for name in before)
    (raw / "xm3600" / "captions.jsonl").write_bytes(b"")
    code, out = run_build(data_dir, *args)
    assert code == 1, out
    assert f"{raw / 'xm3600' / 'captions.jsonl'}: the file holds no records" in out
    assert _files(exports) == before


def test_an_export_folder_never_keeps_files_of_an_earlier_build(xm3600_built):
    raw, data_dir, args = xm3600_built
    exports = data_dir / "exports" / "eval" / "xm3600"
    stale = [exports / "dev" / "de.json", exports / "dev" / "de.coco.json"]  # a split the raw file no longer has
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[]\n")
    code, out = run_build(data_dir, *args)
    assert code == 0, out
    assert not any(path.exists() for path in stale)
    assert (exports / "test" / "de.json").is_file() and (exports / "test" / "de.coco.json").is_file()


def test_a_zero_record_json_file_fails_its_raw_asset(tmp_path):
    raw = tmp_path / "raw"
    (raw / "coco").mkdir(parents=True)
    (raw / "coco" / "dataset_coco.json").write_text(json.dumps({"images": [], "dataset": "coco"}))
    code, out = run_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw),
                          "--select", 'key:"raw/coco_karpathy"')
    assert code == 1, out
    assert f"{raw / 'coco' / 'dataset_coco.json'}: holds no records" in out


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "", "x\0y", "C:x", 7])
def test_names_that_would_become_paths_are_refused(name):
    with pytest.raises(ValueError, match="is not a plain name"):
        safe_name(name, "language code")
    if isinstance(name, str):
        with pytest.raises(ValueError, match="partition key of train/x"):
            stored_path("/data", dg.AssetKey(["train", "x"]), name)


def test_a_language_code_that_is_a_path_is_refused_before_any_file_is_written(tmp_path):
    table = json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
    table[1]["code"] = "../../x"
    bad = tmp_path / "languages.json"
    bad.write_text(json.dumps(table))
    with pytest.raises(ValueError, match=r"language code '../../x' is not a plain name"):
        LanguageTable.load(bad)
    data_dir = tmp_path / "deep" / "er" / "data"
    build = start_build(data_dir, "--select", "group:translated", env={"MMASSETS_LANGUAGES": str(bad)})
    out = finish(build, 120)
    assert build.returncode == 2, out
    assert "'../../x' is not a plain name" in out and "Traceback" not in out
    assert not list(tmp_path.rglob("*.parquet"))


def test_a_build_waiting_for_a_pool_slot_says_what_it_waits_for(tmp_path, sample_raw):
    """Another holder (here: a slot claimed by a run of a live process) keeps the gpu pool's only
    slot; the build says so, naming the holder, and goes on once the slot is free."""
    import time

    data_dir = tmp_path / "data"
    select = ("--raw-dir", str(sample_raw), "--select", 'key:"translated/caption_instructions"')
    code, out = run_build(data_dir, "--raw-dir", str(sample_raw), "--select", 'key:"raw/coco_karpathy"')
    assert code == 0, out  # the instance exists
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    storage = instance.event_log_storage
    storage.set_concurrency_slots("gpu", 1)
    holder = "0badc0de" + "0" * 28
    assert storage.claim_concurrency_slot("gpu", holder, "some_step").is_claimed
    rows = [r for r in json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
            if r["code"] in ("en", "de", "sw")]
    table = tmp_path / "three.json"
    table.write_text(json.dumps(rows))
    build = start_build(data_dir, *select, env={"MMASSETS_LANGUAGES": str(table)})  # three partitions: quick
    lines, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = build.stdout.readline()
        lines.append(line)
        if "waiting for a slot" in line or not line:
            break
    assert any("waiting for a slot of pool 'gpu' (limit 1) for translated__caption_instructions; held by run "
               "0badc0de" in line for line in lines), "".join(lines)
    storage.free_concurrency_slot_for_step(holder, "some_step")
    out = finish(build, 180)
    assert build.returncode == 0, "".join(lines) + out
    assert "1/1 assets materialized" in out
