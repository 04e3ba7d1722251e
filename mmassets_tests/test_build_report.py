"""The build summary's timings: a line per run (its wall time, the part in steps) and a time per asset."""

import re

from mmassets.runner import AssetReport, BuildReport, RunReport


def report() -> BuildReport:
    assets = {
        "translated/a": AssetReport("translated/a", partitions=95, partitions_total=95, rows=570, checks_passed=1,
                                    seconds=9.87, step="translated__a"),
        "translated/b": AssetReport("translated/b", partitions=95, partitions_total=95, rows=5, checks_passed=1,
                                    seconds=1.5, step="translated__b"),
        "train/x": AssetReport("train/x", partitions=1, rows=3, seconds=0.25, step="tasks"),
        "train/y": AssetReport("train/y", partitions=1, rows=4, seconds=0.25, step="tasks"),
        "train/z": AssetReport("train/z", skipped_because="train/x failed"),
    }
    runs = [RunReport("r0", ["source/s"], None, 0.8, {"source__s": 0.1}),
            RunReport("r1", ["translated/a", "translated/b"], 95, 12.34, {"translated__a": 9.87, "translated__b": 1.5},
                      number=1),
            RunReport("r2", ["train/x", "train/y", "train/z", "train/w"], None, 0.5, {"tasks": 0.25}, number=2)]
    return BuildReport(assets, runs, seconds=14.2)


def test_each_run_has_a_line_with_its_assets_partitions_and_wall_time():
    out = report().summary()
    assert "  observe (1 raw inputs): 0.80 s, 0.10 s in steps" in out
    assert "  run 1 (translated/a, translated/b; 95 partitions): 12.3 s, 11.4 s in steps" in out
    assert "  run 2 (train/x, train/y, train/z and 1 more): 0.50 s, 0.25 s in steps" in out
    assert "build: 14.2 s: 13.6 s in 3 runs (11.7 s in steps), 0.56 s between them" in out
    assert "4/5 assets materialized in 2 runs; 0 failed checks" in out  # the observation is not counted


def test_each_asset_line_has_its_time_and_a_shared_step_is_marked():
    lines = {line.split()[0]: line for line in report().summary().splitlines() if line.startswith(("translated/", "train/"))}
    assert re.search(r"\b9\.87 s\s+ok$", lines["translated/a"]), lines
    assert re.search(r"\b0\.25 s\*\s+ok$", lines["train/x"]) and re.search(r"\b0\.25 s\*\s+ok$", lines["train/y"])
    assert re.search(r"\s-\s+skipped: train/x failed$", lines["train/z"]), lines
    assert "* one step builds these together, the time is that step's: tasks (train/x, train/y)" in report().summary()


def test_a_report_without_runs_prints_no_timings():
    out = BuildReport({"raw/r": AssetReport("raw/r", error="boom")}, []).summary()
    assert "runs:" not in out and "build:" not in out
    assert "0/1 assets materialized in 0 runs" in out


def test_run_label_of_an_unpartitioned_run_and_of_the_observation():
    assert RunReport("r", ["a/b"], None, 1.0, number=4).label() == "run 4 (a/b)"
    assert RunReport("r", ["s/1", "s/2"], None, 1.0).label() == "observe (2 raw inputs)"
    assert RunReport("r", ["a/b"], 1, 1.0, {"x": 0.5, "y": 0.25}, number=1).step_seconds == 0.75
