"""`mmassets build --submit` and `mmassets status` on an instance without a daemon: the backfill is
recorded with every partition of the selection as its target, its id and UI link are printed, and
`status --once` says where it stands (requested, nothing materialized: exit 3, not done)."""

import re

import dagster as dg
from builds import _home, run_build

from mmassets.cli import main
from mmassets.definitions import build_definitions
from mmassets.languages import LanguageTable
from mmassets.settings import Settings


def test_a_submitted_selection_is_one_backfill_of_all_its_partitions(tmp_path, capsys):
    data = tmp_path / "data"
    code, out = run_build(data, "--submit", "--select", '+key:"translated/coco_captions"')
    assert code == 0, out
    backfill_id = re.search(r"backfill (\w+) on the instance", out)[1]
    assert f"http://127.0.0.1:3000/runs/b/{backfill_id}?tab=partitions" in out
    instance = dg.DagsterInstance.from_config(str(_home(data)))
    backfill = instance.get_backfill(backfill_id)
    assert backfill.status.value == "REQUESTED"
    defs = build_definitions(Settings.from_env(profile="sample", data_dir=str(data)))
    target = backfill.get_asset_backfill_data(defs.resolve_asset_graph()).target_subset
    translated = target.get_partitions_subset(dg.AssetKey(["translated", "coco_captions"]))
    assert sorted(translated.get_partition_keys()) == sorted(LanguageTable.load().codes)
    assert {k.to_user_string() for k in target.asset_keys} == {
        "raw/coco_karpathy", "english/coco_captions", "translated/coco_captions"}

    code, out = run_build(data, "--submit", "--select", "key:nothing_here")
    assert code == 2 and "matches no asset to build (nothing was done)" in capsys.readouterr().err


def test_status_once_says_where_it_stands_and_an_unknown_id_is_one_line(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    code, out = run_build(data, "--submit", "--select", 'key:"raw/coco_karpathy"')
    assert code == 0, out
    backfill_id = re.search(r"backfill (\w+) on the instance", out)[1]
    monkeypatch.setenv("DAGSTER_HOME", str(_home(data)))
    assert main(["status", backfill_id, "--once", "--data-dir", str(data)]) == 3  # not done: no daemon here
    printed = capsys.readouterr().out
    assert f"backfill {backfill_id}: requested; runs: none yet; materialized 0/1" in printed
    assert "raw/coco_karpathy  0/1" in printed
    assert main(["status", "nosuchid", "--once", "--data-dir", str(data)]) == 2
    assert "mmassets status: no backfill 'nosuchid'" in capsys.readouterr().err


def test_a_sliced_download_is_submitted_slice_by_slice_with_the_configs_of_config(tmp_path, capsys):
    data, config = tmp_path / "data", tmp_path / "config.yaml"
    config.write_text("images/web_captions:\n  shard_size: 8\n", encoding="utf-8")
    slices = {"MMASSETS_IMAGE_SLICES": "3"}
    submit = ["--submit", "--select", 'key:"images/web_captions"', "--config", str(config)]
    code, out = run_build(data, *submit, env=slices)
    assert code == 0, out
    backfill = dg.DagsterInstance.from_config(str(_home(data))).get_backfill(
        re.search(r"backfill (\w+) on the instance", out)[1])
    defs = build_definitions(Settings.from_env(slices, profile="sample", data_dir=str(data)))
    target = backfill.get_asset_backfill_data(defs.resolve_asset_graph()).target_subset
    assert sorted(target.get_partitions_subset(dg.AssetKey(["images", "web_captions"])).get_partition_keys()) == [
        "0-of-3", "1-of-3", "2-of-3"]
    assert backfill.run_config == {"ops": {"images__web_captions": {"config": {"shard_size": 8}}}}

    config.write_text("images/web_captions:\n  shard_size: many\n", encoding="utf-8")
    code, out = run_build(data, *submit, env=slices)
    err = capsys.readouterr().err
    assert code == 2 and f"the config of --config {config} does not fit" in err and "shard_size" in err
