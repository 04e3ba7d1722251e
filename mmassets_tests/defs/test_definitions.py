"""The Definitions load fast, without torch or transformers, and show the layered groups."""

import subprocess
import sys

import dagster as dg

from mmassets.definitions import build_definitions
from mmassets.settings import Settings

GROUPS = {"raw", "images", "english", "translated", "train", "mixture", "eval", "dataoptim"}


def test_definitions_load_without_torch_or_transformers(tmp_path):
    code = ("import sys, mmassets.definitions as d; "
            "assert d.defs.resolve_asset_graph().get_all_asset_keys(); "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    env = {"PATH": "/usr/bin:/bin", "MMASSETS_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_layer_is_a_group_and_every_asset_is_described(tmp_path):
    defs = build_definitions(Settings.from_env({}, data_dir=str(tmp_path)))
    graph = defs.resolve_asset_graph()
    nodes = [graph.get(k) for k in graph.get_all_asset_keys()]
    assert {n.group_name for n in nodes} == GROUPS
    for node in nodes:
        prefix = node.key.path[0]
        assert prefix == node.group_name or (prefix, node.group_name) == ("source", "raw"), node.key
        assert node.description, f"{node.key.to_user_string()} has no description"


def test_translated_assets_are_partitioned_by_the_96_languages(tmp_path):
    defs = build_definitions(Settings.from_env({}, data_dir=str(tmp_path)))
    graph = defs.resolve_asset_graph()
    translated = [graph.get(k) for k in graph.get_all_asset_keys() if k.path[0] == "translated"]
    assert translated
    for node in translated:
        keys = node.partitions_def.get_partition_keys()
        assert len(keys) == 96 and "en" in keys and "zh" in keys
        # a backfill translates MMASSETS_LANGUAGES_PER_RUN languages per run; mmassets build, a whole range per step
        assert node.backfill_policy == dg.BackfillPolicy.multi_run(24)


def test_workspace_file_validates(tmp_path):
    dagster = [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"]
    env = {"PATH": "/usr/bin:/bin", "MMASSETS_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").touch()
    done = subprocess.run(dagster, env=env, capture_output=True, text=True, cwd=_repo_root())
    assert done.returncode == 0, done.stdout + done.stderr


def _repo_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def test_the_language_table_comes_from_the_settings_not_from_import_time(tmp_path):
    import json

    from mmassets.languages import LanguageTable

    rows = [r for r in json.loads(open(LanguageTable.load().source, encoding="utf-8").read()) if r["code"] in ("en", "de", "sw")]
    table = tmp_path / "three.json"
    table.write_text(json.dumps(rows))
    defs = build_definitions(Settings.from_env({"MMASSETS_LANGUAGES": str(table)}, data_dir=str(tmp_path)))
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        if key.path[0] == "translated":
            assert graph.get(key).partitions_def.get_partition_keys() == ["de", "en", "sw"]
    assert defs.resources["mix"].table.codes == ["de", "en", "sw"]
    # the default graph, built after, still has the 96 languages: nothing was kept from the call above
    default = build_definitions(Settings.from_env({}, data_dir=str(tmp_path))).resolve_asset_graph()
    assert len(default.get(dg.AssetKey(["translated", "coco_captions"])).partitions_def.get_partition_keys()) == 96


def test_settings_are_read_when_definitions_are_built(tmp_path):
    settings = Settings.from_env({"MMASSETS_REFRESH_CRON": "0 1 * * *", "MMASSETS_IMAGE_CHECK_LIMIT": "7",
                                  "MMASSETS_IMAGE_ROOT_COCO": str(tmp_path / "coco2014")}, data_dir=str(tmp_path))
    defs = build_definitions(settings)
    assert defs.resolve_schedule_def("weekly_raw_refresh").cron_schedule == "0 1 * * *"
    folders = defs.resources["folders"]
    assert folders.image_check_limit == 7 and folders.image_root("coco") == tmp_path / "coco2014"
    assert folders.image_root("imagenet") == settings.raw_dir / "imagenet" / "train"
