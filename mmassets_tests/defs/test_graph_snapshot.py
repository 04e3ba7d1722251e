"""The asset graph as a snapshot: every asset key with its deps, partitions, group, kinds, checks,
pool and automation condition; every schedule, sensor and job. Any change to the graph fails this
test, so a refactor that moves code cannot change the graph by accident.

A deliberate change: rerun with ``MMASSETS_UPDATE_SNAPSHOT=1`` (for example
``MMASSETS_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest mmassets_tests/defs/test_graph_snapshot.py``),
then review and commit the diff of ``snapshots/graph.json`` with the change that caused it.
"""

import json
import os
from pathlib import Path

import dagster as dg

from mmassets.definitions import build_definitions
from mmassets.settings import Settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "graph.json"


def _partitions(pdef) -> str | None:
    if pdef is None:
        return None
    if isinstance(pdef, dg.DynamicPartitionsDefinition):  # its keys are the files of a folder, not code
        return f"DynamicPartitionsDefinition: {pdef.name}"
    return f"{type(pdef).__name__}: {', '.join(pdef.get_partition_keys())}"


def _condition(condition) -> str:
    """An automation condition as its tree of condition names, e.g. ``Or(Eager(...), ...)``."""
    name = condition.name if getattr(condition, "name", None) else type(condition).__name__
    children = getattr(condition, "children", ())
    return f"{name}({', '.join(_condition(c) for c in children)})" if children else name


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        condition = node.automation_condition
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "checks": sorted(check.name for check in node.check_keys),
            "materializable": node.is_materializable,
            "pools": sorted(node.pools or ()),
            "automation": None if condition is None else _condition(condition),
            "backfill policy": None if node.backfill_policy is None else str(node.backfill_policy.policy_type),
        }
    return {
        "assets": assets,
        "schedules": {s.name: {"cron": s.cron_schedule, "job": s.job_name}
                      for s in sorted(defs.schedules or [], key=lambda s: s.name)},
        "sensors": sorted(s.name for s in defs.sensors or []),
        "jobs": sorted(job.name for job in defs.jobs or []),
    }


def test_the_asset_graph_matches_its_snapshot(tmp_path):
    defs = build_definitions(Settings.from_env({}, data_dir=str(tmp_path)))
    current = json.dumps(graph_snapshot(defs), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("MMASSETS_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert SNAPSHOT.is_file(), f"no snapshot yet: run with MMASSETS_UPDATE_SNAPSHOT=1 and commit {SNAPSHOT}"
    assert SNAPSHOT.read_text(encoding="utf-8") == current, (
        f"the asset graph changed; if that is intended, rerun with MMASSETS_UPDATE_SNAPSHOT=1 and commit {SNAPSHOT}")


def test_image_slices_partition_the_downloads_and_change_nothing_else(tmp_path):
    one = graph_snapshot(build_definitions(Settings.from_env({}, data_dir=str(tmp_path))))
    four = Settings.from_env({"MMASSETS_IMAGE_SLICES": "4"}, data_dir=str(tmp_path))
    sliced = graph_snapshot(build_definitions(four))
    changed = sorted(key for key in one["assets"] if one["assets"][key] != sliced["assets"][key])
    assert changed == ["images/coyo_6m", "images/llm_jp_interleaved", "images/llm_jp_pair_step1", "images/mmc4core_6m",
                       "images/web_captions"]
    for key in changed:
        assert one["assets"][key]["partitions"] is None
        assert sliced["assets"][key] == {**one["assets"][key],
                                         "partitions": "StaticPartitionsDefinition: 0-of-4, 1-of-4, 2-of-4, 3-of-4"}
    assert {**sliced, "assets": None} == {**one, "assets": None}
