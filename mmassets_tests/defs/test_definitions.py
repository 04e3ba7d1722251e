"""The Definitions load fast, without torch or transformers, and show the layered groups."""

import subprocess
import sys

import dagster as dg

from mmassets.definitions import build_definitions
from mmassets.settings import Settings

GROUPS = {"raw", "english", "translated", "train", "eval"}


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
        assert node.backfill_policy == dg.BackfillPolicy.single_run()


def test_workspace_file_validates(tmp_path):
    dagster = [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"]
    env = {"PATH": "/usr/bin:/bin", "MMASSETS_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").touch()
    done = subprocess.run(dagster, env=env, capture_output=True, text=True, cwd=_repo_root())
    assert done.returncode == 0, done.stdout + done.stderr


def _repo_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]
