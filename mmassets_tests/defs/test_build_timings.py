"""A real build's timings: every run's wall time and every asset's step time, from the event log."""

import time

import pytest
from builds import _home

from mmassets.definitions import build_definitions
from mmassets.runner import build, instance_for, step_seconds
from mmassets.settings import Settings

SELECTION = ('key:"raw/imagenet" or key:"raw/babel_imagenet" or key:"train/imagenet_classify" or '
             'key:"train/imagenet_decide" or key:"eval/marvl"')


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("timed") / "data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(_home(data_dir)))
        settings = Settings.from_env(profile="sample", data_dir=str(data_dir))
        defs = build_definitions(settings)
        instance = instance_for(data_dir)
        started = time.perf_counter()
        report = build(defs, instance, SELECTION, log=lambda _line: None)
        took = time.perf_counter() - started
        yield report, instance, took


def test_the_build_reports_each_run_with_its_steps(timed):
    report, instance, took = timed
    assert report.ok, report.summary()
    observe, *runs = report.runs
    assert observe.number is None and sorted(observe.assets) == ["source/babel_imagenet", "source/imagenet",
                                                                 "source/marvl"]
    assert [run.number for run in runs] == list(range(1, len(runs) + 1)) == [r.number for r in report.materializing_runs]
    marvl = next(run for run in runs if run.assets == ["eval/marvl"])
    assert marvl.partitions == 5 and set(marvl.steps) == {"eval__marvl"}
    for run in report.runs:
        assert run.steps == step_seconds(instance, run.run_id)  # what the event log says, not an estimate
        assert all(seconds >= 0 for seconds in run.steps.values())
        assert run.step_seconds <= run.seconds  # the steps ran inside the run
    in_runs = sum(run.seconds for run in report.runs)
    assert 0 < in_runs <= report.seconds <= took


def test_each_asset_has_the_time_of_its_step_and_a_multi_asset_shares_one(timed):
    report, _, _ = timed
    assets = report.assets
    assert all(a.seconds is not None and a.seconds >= 0 for a in assets.values()), report.summary()
    assert assets["train/imagenet_classify"].step == assets["train/imagenet_decide"].step == "imagenet_tasks"
    assert assets["train/imagenet_classify"].seconds == assets["train/imagenet_decide"].seconds
    steps = {a.step: a.seconds for a in assets.values()}  # a shared step counted once
    assert sum(steps.values()) <= sum(run.step_seconds for run in report.materializing_runs) + 1e-9
    out = report.summary()
    assert "imagenet_tasks (train/imagenet_classify, train/imagenet_decide)" in out
    assert "run 1 (" in out and "in steps" in out and "build: " in out
