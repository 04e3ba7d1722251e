"""Materialize a selection of the graph with all its partitions and checks, in few runs.

Assets are grouped into stages in dependency order; a stage holds assets that share one
partitions definition and runs as one in-process run over the whole partition range (assets with
a single-run backfill policy take the range in one step, so a model loads once). An asset whose
step fails or whose blocking check fails stops everything downstream of it; the rest still runs. An
input that failed a blocking check in its latest materialization, in an earlier build, stops what
reads it too (``defs.common.blocking``), even an asset that merges the inputs present.
A step that fails only some of its partitions (``partitions_failed``: a language whose raw files
are missing) is run again over the others, so that each of those still materializes.

The report says how long each run took (its wall time in this process) and each asset (its step,
from the STEP_START to the STEP_SUCCESS or STEP_FAILURE event the run's event log holds); what a
run took beyond its steps is Dagster's own: starting the run, its planned events, its step events.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from mmassets import run_guard
from mmassets.defs import resolve_selection
from mmassets.defs.common.blocking import blocked_reason
from mmassets.defs.common.console import short_error
from mmassets.defs.common.metadata import ABSENT_FILES, EXPORTS_WITHHELD
from mmassets.defs.common.partitions import FAILED_PARTITIONS, HOW_TO_GET, sync_file_partitions
from mmassets.defs.common.tags import MERGES_PRESENT
from mmassets.devices import GPU_TAG, gpu_count, split_for_gpus
from mmassets.execution import (BUILD_EXECUTORS, DEFAULT_EXECUTOR, IN_PROCESS, MULTIPROCESS, PlannedRun,
                                execute_here, execute_side_by_side, multiprocess_config)
from mmassets.files import atomic_write_bytes
from mmassets.progress import STOP


INSTANCE_MARK = "# written by mmassets for this data folder; rewritten by each build to follow it (a copy, a move)"
"""The first line of the dagster.yaml mmassets writes: a file without it (or the exact form earlier
versions wrote) is the user's own and is never rewritten."""


def instance_config(home: Path) -> str:
    """dagster.yaml of mmassets' own instance in the folder ``home``: translation steps (pool "gpu")
    hold a model each, so at most as many run at once as there are GPUs (one on a machine without);
    events go to Dagster's SQLite files (``<home>/history/runs``) through connections kept open
    (``sqlite_event_log``); what Dagster logs outside a run's own loggers (a step process starting)
    is shown from INFO up. The event log's folder is absolute (Dagster's own storage reads it so),
    so ``prepare_home`` writes the file again wherever the data folder now is."""
    return INSTANCE_MARK + "\n" + _config_body(str(Path(home).absolute() / "history" / "runs"), gpu_count() or 1)


def _config_body(runs: str, limit: int | str) -> str:
    return (f"telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: {limit}\n"
            f"python_logs:\n  python_log_level: INFO\n"
            f"event_log_storage:\n  module: mmassets.sqlite_event_log\n  class: PooledSqliteEventLogStorage\n"
            f"  config:\n    base_dir: {json.dumps(runs)}\n")


def written_by_mmassets(text: str) -> bool:
    """Whether a dagster.yaml is one mmassets wrote: it starts with ``INSTANCE_MARK``, or it is
    exactly what an earlier mmassets wrote (no mark) for some folder and some GPU count."""
    if text.startswith(INSTANCE_MARK + "\n"):
        return True
    import re

    pattern = re.escape(_config_body("\0RUNS\0", "\0LIMIT\0"))
    pattern = pattern.replace(re.escape(json.dumps("\0RUNS\0")), r'"(?:[^"\\]|\\.)*"')
    pattern = pattern.replace(re.escape("\0LIMIT\0"), r"[0-9]+")
    return re.fullmatch(pattern, text) is not None


@dataclass
class AssetReport:
    key: str
    partitions: int = 0
    partitions_total: int | None = None
    rows: int | None = None
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    blocking_checks_failed: list[str] = field(default_factory=list)
    """The failed checks that block what is built from it (and its exports)."""
    exports_withheld: str | None = None
    """Why its exports were not written (a failed blocking check): the last good ones stay."""
    error: str | None = None
    skipped_because: str | None = None
    nothing_to_build: str | None = None
    """Why an asset had nothing to build (dynamic partitions, none yet): not a failure."""
    failed_partitions: dict[str, str] = field(default_factory=dict)
    """Partitions that failed alone (key → why) while the others were built."""
    how_to_get: list[str] = field(default_factory=list)
    """Where to get the files whose absence failed those partitions."""
    absent: dict[str, dict] = field(default_factory=dict)
    """Optional raw files it was built without: path → {adds, how_to_get, partitions}."""
    seconds: float | None = None
    """How long the step that built it ran, summed over the runs of the build (None: never ran)."""
    step: str | None = None
    """That step's key; several assets share one when one op builds them (a multi-asset)."""
    built: set[str] = field(default_factory=set)
    """The partitions materialized so far."""

    @property
    def blocking_failed(self) -> bool:
        return bool(self.blocking_checks_failed)

    @property
    def ok(self) -> bool:
        return not (self.error or self.skipped_because or self.blocking_failed or self.failed_partitions) and (
            self.partitions > 0 or self.nothing_to_build is not None)

    @property
    def status(self) -> str:
        if self.skipped_because:
            return "skipped: " + self.skipped_because
        if self.error:
            return "FAILED"
        if self.failed_partitions:
            return f"FAILED {len(self.failed_partitions)} partition(s)"
        if self.nothing_to_build:
            return "ok: " + self.nothing_to_build
        return "blocked by check" if self.blocking_failed else "ok"


@dataclass
class RunReport:
    """One Dagster run of a build and how long it took."""

    run_id: str
    assets: list[str]
    partitions: int | None
    """Partitions of the run's range (None: unpartitioned assets)."""
    seconds: float
    """Wall time of the run, from the call that starts it to its return."""
    steps: dict[str, float] = field(default_factory=dict)
    """Step key → seconds from its start event to its success or failure event."""
    number: int | None = None
    """1, 2, … for the runs that materialize; None for the run that observes the raw inputs."""

    @property
    def step_seconds(self) -> float:
        return sum(self.steps.values())

    def label(self, most: int = 3) -> str:
        """``run 3 (eval/xm3600; 36 partitions)``: its number, its assets (the first ``most``), its partitions."""
        if self.number is None:
            return f"observe ({len(self.assets)} raw inputs)"
        names = ", ".join(self.assets[:most]) + (f" and {len(self.assets) - most} more" if len(self.assets) > most else "")
        return f"run {self.number} ({names}" + ("" if self.partitions is None else f"; {self.partitions} partitions") + ")"


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


@dataclass
class BuildReport:
    assets: dict[str, AssetReport]
    runs: list[RunReport]
    """Every run of the build in order, the observation of the raw inputs included."""
    seconds: float | None = None
    """Wall time of the whole build (None while it had not ended)."""

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.assets.values())

    @property
    def materializing_runs(self) -> list[RunReport]:
        return [r for r in self.runs if r.number is not None]

    def summary(self) -> str:
        steps = {}
        for a in self.assets.values():
            if a.step is not None:
                steps.setdefault(a.step, []).append(a.key)
        shared = {step: keys for step, keys in steps.items() if len(keys) > 1}
        rows = [("asset", "partitions", "rows", "checks", "time", "status")]
        for a in self.assets.values():
            parts = "-" if a.partitions_total is None else f"{a.partitions}/{a.partitions_total}"
            checks = f"{a.checks_passed} passed" + (f", {len(a.checks_failed)} failed" if a.checks_failed else "")
            took = "-" if a.seconds is None else _seconds(a.seconds) + ("*" if a.step in shared else "")
            rows.append((a.key, parts, "-" if a.rows is None else f"{a.rows:,}", checks, took, a.status))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        for step, keys in shared.items():
            lines.append(f"* one step builds these together, the time is that step's: {step} ({', '.join(keys)})")
        lines += self._timings()
        failures = [f"  {a.key}: {a.error}" for a in self.assets.values() if a.error]
        for a in self.assets.values():
            failures += [f"  {a.key} [{key}]: {why}" for key, why in a.failed_partitions.items()]
            failures += [f"  {a.key}: where to get them: {hint}" for hint in a.how_to_get]
        failures += [f"  {a.key}: check {c} failed" for a in self.assets.values() for c in a.checks_failed]
        failures += [f"  {a.key}: {a.exports_withheld}" for a in self.assets.values() if a.exports_withheld]
        n_ok = sum(a.ok for a in self.assets.values())
        lines.append(f"\n{n_ok}/{len(self.assets)} assets materialized in {len(self.materializing_runs)} runs; "
                     f"{sum(len(a.checks_failed) for a in self.assets.values())} failed checks")
        if failures:
            lines += ["failures:", *failures]
        absent = [(a.key, path, entry) for a in self.assets.values() for path, entry in a.absent.items()]
        if absent:
            lines.append("built without these optional raw files (absent):")
            for key, path, entry in absent:
                lines.append(f"  {key} [{', '.join(entry['partitions'])}]: {entry['adds']}: {path}")
            for how_to_get in dict.fromkeys(entry["how_to_get"] for _, _, entry in absent):
                lines.append(f"  where to get them: {how_to_get}")
        return "\n".join(lines)

    def _timings(self) -> list[str]:
        """A line per run (its wall time and the time in its steps) and the build's total."""
        if not self.runs:
            return []
        lines = ["", "runs: wall time, and the part of it in steps (the rest is Dagster's: starting the run, "
                     "planned and step events)"]
        lines += [f"  {run.label()}: {_seconds(run.seconds)}, {_seconds(run.step_seconds)} in steps" for run in self.runs]
        if self.seconds is not None:
            in_runs = sum(run.seconds for run in self.runs)
            steps = _seconds(sum(run.step_seconds for run in self.runs))
            if in_runs > self.seconds:  # runs side by side
                lines.append(f"build: {_seconds(self.seconds)}; its {len(self.runs)} runs took {_seconds(in_runs)} "
                             f"together ({steps} in steps), some of them side by side")
            else:
                lines.append(f"build: {_seconds(self.seconds)}: {_seconds(in_runs)} in {len(self.runs)} runs "
                             f"({steps} in steps), {_seconds(self.seconds - in_runs)} between them")
        return lines


def work_weight(defs: dg.Definitions) -> Callable[[str], float]:
    """How much translating a language partition costs, relative to the others: its share of the
    language mix (English passes through: nothing)."""
    from mmassets.languages import SOURCE_LANGUAGE

    mix = defs.resources.get("mix")
    shares = mix.table.shares() if mix is not None else {}
    return lambda key: 0.0 if key == SOURCE_LANGUAGE else shares.get(key, 1.0)


STEP_EVENTS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}


def step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds each step of a run took, from its STEP_START to its STEP_SUCCESS or STEP_FAILURE event
    in the run's event log (a step that never ended is left out)."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=STEP_EVENTS):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[event.step_key] = entry.timestamp
        elif event.step_key in started:
            took[event.step_key] = took.get(event.step_key, 0.0) + max(entry.timestamp - started.pop(event.step_key), 0.0)
    return took


def step_key(defs: dg.Definitions, key: dg.AssetKey) -> str:
    """The key of the step that materializes ``key``: its op's name (one op, one step, in the asset
    job), which several assets share when one op builds them."""
    return defs.get_assets_def(key).node_def.name


def ops_config(defs: dg.Definitions, config: dict[dg.AssetKey, dict] | None) -> dict:
    """The run config that gives each asset of ``config`` its fields (``{"ops": {step: {"config": …}}}``);
    empty when there are none."""
    ops = {step_key(defs, key): {"config": fields} for key, fields in (config or {}).items()}
    return {"ops": ops} if ops else {}


def _partition_keys(graph, key: dg.AssetKey, instance: dg.DagsterInstance | None = None) -> tuple[str, ...] | None:
    pdef = graph.get(key).partitions_def
    return None if pdef is None else tuple(pdef.get_partition_keys(dynamic_partitions_store=instance))


def _merges_present(graph, key: dg.AssetKey) -> bool:
    return graph.get(key).tags.get(MERGES_PRESENT) == "true"


def plan_stages(defs: dg.Definitions, selection: str,
                instance: dg.DagsterInstance | None = None) -> list[list[dg.AssetKey]]:
    """Selected assets in dependency order, grouped into runs by partitions definition (dynamic
    partitions as ``instance`` holds them)."""
    graph = defs.resolve_asset_graph()
    selected = resolve_selection(selection, graph)
    remaining = [k for k in graph.toposorted_asset_keys if k in selected and graph.get(k).is_materializable]
    stages: list[list[dg.AssetKey]] = []
    done: set[dg.AssetKey] = set()
    while remaining:
        partitions = _partition_keys(graph, remaining[0], instance)
        stage: list[dg.AssetKey] = []
        for key in remaining:
            upstream = graph.get(key).parent_keys & selected
            ready = done if _merges_present(graph, key) else done | set(stage)  # its own run, after its inputs
            if _partition_keys(graph, key, instance) == partitions and upstream <= ready:
                stage.append(key)
        stages.append(stage)
        done |= set(stage)
        remaining = [k for k in remaining if k not in done]
    return stages


def contiguous_ranges(keys: tuple[str, ...], wanted: list[str]) -> list[tuple[str, ...]]:
    """``wanted`` (a subset of the ordered ``keys``) as runs of consecutive keys: one partition
    range each."""
    ranges: list[list[str]] = []
    for index, key in enumerate(keys):
        if key in wanted:
            if ranges and keys[index - 1] == ranges[-1][-1]:
                ranges[-1].append(key)
            else:
                ranges.append([key])
    return [tuple(r) for r in ranges]


def build(defs: dg.Definitions, instance: dg.DagsterInstance, selection: str = "*",
          log: Callable[[str], None] = print, log_level: str = "INFO",
          config: dict[dg.AssetKey, dict] | None = None, verbose: bool = False,
          executor: str = IN_PROCESS, workers: int | None = None, gpus: int = 0) -> BuildReport:
    """Run ``selection`` stage by stage, each asset with its ``config`` (run config fields) where
    given. Runs left in flight by a dead process are failed first; SIGINT or SIGTERM stops the
    build after the interrupted run (``BuildInterrupted``, with the report). ``verbose`` prints
    failures with their stack traces.

    ``executor``: ``in_process`` runs each stage's steps one after another in this process;
    ``multiprocess`` runs them side by side, each in its own process (at most ``workers`` at once,
    default one per CPU; the steps load the definitions from ``mmassets.definitions``, so ``defs``
    must be what it builds from this process's environment). With ``gpus`` > 1 a translation stage
    becomes that many runs side by side over slices of its partitions, each pinned to its GPU."""
    if executor not in BUILD_EXECUTORS:
        raise ValueError(f"executor {executor!r}: expected one of {', '.join(BUILD_EXECUTORS)}")
    began = time.perf_counter()
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    for name, (added, deleted) in sync_file_partitions(instance, defs.resources["folders"]).items():
        if added or deleted:
            log(f"partitions {name}: {len(added)} added, {len(deleted)} deleted (files of its folder)")
    stages = plan_stages(defs, selection, instance)
    reports = {k: AssetReport(k.to_user_string()) for stage in stages for k in stage}
    stopped: dict[dg.AssetKey, str] = {}
    blocked: dict[dg.AssetKey, str] = {}
    runs: list[RunReport] = []

    def build_report() -> BuildReport:
        return BuildReport({r.key: r for r in reports.values()}, runs, time.perf_counter() - began)

    def plan(keys: list[dg.AssetKey], partitions: tuple[str, ...] | None, gpu: int | None = None) -> PlannedRun:
        tags = {} if partitions is None else {ASSET_PARTITION_RANGE_START_TAG: partitions[0],
                                              ASSET_PARTITION_RANGE_END_TAG: partitions[-1]}
        if gpu is not None:
            tags[GPU_TAG] = str(gpu)
        run_config = {"loggers": {"console": {"config": {"log_level": log_level, "verbose": verbose}}},
                      **ops_config(defs, {k: config[k] for k in keys if config and k in config})}
        if executor == MULTIPROCESS and job.executor_def.name == DEFAULT_EXECUTOR:  # else the one configured runs
            run_config["execution"] = {"config": multiprocess_config(workers)}
        number = sum(run.number is not None for run in runs) + 1
        return PlannedRun([k.to_user_string() for k in keys], partitions, tags, run_config, number)

    def execute(planned: list[PlannedRun]) -> None:
        """Execute the planned runs (side by side, each in its own process, when there are several),
        then report them in order."""
        for offset, run in enumerate(planned):
            run.number += offset
            log(run.announcement())
        pools = sorted({pool for run in planned for name in run.assets
                        for pool in (graph.get(dg.AssetKey.from_user_string(name)).pools or ())})
        with run_guard.watch_pools(instance, pools, log):
            if len(planned) == 1:
                done = [execute_here(job, instance, planned[0], executor)]
            else:
                done = execute_side_by_side(instance, job.name, planned)
        for run, (seconds, result) in zip(planned, done):
            keys = [dg.AssetKey.from_user_string(name) for name in run.assets]
            if result is None:  # its process died before it could create the run
                for key in keys:
                    reports[key].error = f"the process of run {run.number} exited before the run started (see above)"
                    stopped[key] = "failed"
                continue
            report = RunReport(result.run_id, run.assets, None if run.partitions is None else len(run.partitions),
                               seconds, step_seconds(instance, result.run_id), run.number)
            runs.append(report)
            for key in keys:
                reports[key].step = step_key(defs, key)
                if reports[key].step in report.steps:
                    reports[key].seconds = (reports[key].seconds or 0.0) + report.steps[reports[key].step]
            _collect(result, {k: reports[k] for k in keys}, stopped, blocked, {k: graph.get(k).parent_keys for k in keys})
        for _, result in done:
            if result is not None and (run_guard.interrupted(result) or STOP.is_set()):
                run_guard.end_run(instance, result.run_id, "mmassets build was interrupted")
                raise KeyboardInterrupt

    def slices(keys: list[dg.AssetKey], partitions: tuple[str, ...] | None) -> list[tuple[str, ...] | None]:
        """The stage's partition range, or its slices over the GPUs when it translates (multiprocess)."""
        on_gpus = (executor == MULTIPROCESS and gpus > 1 and partitions
                   and any("gpu" in (graph.get(k).pools or ()) for k in keys))
        if not on_gpus:
            return [partitions]
        slots = instance.event_log_storage.get_concurrency_info("gpu").slot_count
        if slots < gpus:  # the instance was made on a machine with fewer GPUs
            log(f"pool gpu: {gpus} slots, one per GPU")
            instance.event_log_storage.set_concurrency_slots("gpu", gpus)
        return split_for_gpus(partitions, gpus, work_weight(defs))

    with run_guard.interrupts_stop_the_build():
        run_guard.recover_stale_runs(instance, log)
        try:
            observed = observe_sources(defs, instance, [k for stage in stages for k in stage], log)
            if observed is not None:
                runs.append(observed)
            for stage in stages:
                runnable = _runnable(graph, stage, reports, stopped, blocked, instance)
                if not runnable:
                    continue
                partitions = _partition_keys(graph, runnable[0], instance)
                parts = slices(runnable, partitions)
                execute([plan(runnable, part, None if len(parts) == 1 else gpu) for gpu, part in enumerate(parts)])
                for key in runnable:  # the partitions a step could build, without those that failed alone
                    failed = reports[key].failed_partitions
                    rest = [k for k in partitions or () if k not in failed and k not in reports[key].built]
                    if failed and rest:
                        log(f"{key.to_user_string()}: partition(s) {', '.join(failed)} failed alone; building "
                            f"the other {len(rest)}")
                        for part in contiguous_ranges(partitions, rest):
                            execute([plan([key], part)])
        except KeyboardInterrupt:
            for report in reports.values():
                if not (report.partitions or report.error or report.skipped_because):
                    report.skipped_because = "the build was interrupted"
            raise run_guard.BuildInterrupted(build_report()) from None
        finally:
            run_guard.end_own_runs(instance, "mmassets build was interrupted")
    return build_report()


def _runnable(graph, stage: list[dg.AssetKey], reports: dict[dg.AssetKey, AssetReport],
              stopped: dict[dg.AssetKey, str], blocked: dict[dg.AssetKey, str],
              instance: dg.DagsterInstance | None = None) -> list[dg.AssetKey]:
    """The assets of ``stage`` whose inputs did not fail; the others are reported skipped (and so
    are assets of dynamic partitions that have none yet). An input blocked by a failed check — in
    this build, or in its latest materialization when this build does not make it — skips the asset
    even where it merges the inputs present: ``blocked`` maps each asset so stopped, transitively,
    to ``<asset> blocked by check <name>``."""
    runnable = []
    for key in stage:
        report = reports[key]
        partitions = _partition_keys(graph, key, instance)
        report.partitions_total = None if partitions is None else len(partitions)
        if partitions == ():
            report.nothing_to_build = "no partitions (no files in its folder)"
            continue
        parents = sorted(graph.get(key).parent_keys)
        if instance is not None:
            for parent in parents:
                reason = None if parent in reports else blocked_reason(instance, graph, parent)
                if reason is not None:
                    blocked[parent] = stopped[parent] = reason
        block = next((blocked[p] for p in parents if p in blocked), None)
        bad_parent = next((p for p in parents if p in stopped), None)
        if _merges_present(graph, key) and not all(p in stopped for p in parents):
            bad_parent = None
        if block is not None:
            report.skipped_because = blocked[key] = block
            stopped[key] = "was skipped"
        elif bad_parent is not None:
            report.skipped_because = f"{bad_parent.to_user_string()} {stopped[bad_parent]}"
            stopped[key] = "was skipped"
        else:
            runnable.append(key)
    return runnable


def observe_sources(defs: dg.Definitions, instance: dg.DagsterInstance, keys: list[dg.AssetKey],
                    log: Callable[[str], None]) -> RunReport | None:
    """Observe the source assets the selection reads, so that what is built records the data
    versions of the raw files it came from (and a later refresh sees only real changes); the
    observation run, or None when the selection reads none."""
    graph = defs.resolve_asset_graph()
    sources = sorted({p for k in keys for p in graph.get(k).parent_keys if graph.get(p).is_observable})
    if not sources:
        return None
    names = [k.to_user_string() for k in sources]
    log(f"observing {len(sources)} raw inputs: {', '.join(names)}")
    started = time.perf_counter()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=sources, raise_on_error=False, tags=run_guard.process_tags(),
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    return RunReport(result.run_id, names, None, time.perf_counter() - started, step_seconds(instance, result.run_id))


def _collect(result: dg.ExecuteInProcessResult, reports: dict[dg.AssetKey, AssetReport],
             stopped: dict[dg.AssetKey, str], blocked: dict[dg.AssetKey, str],
             parents: dict[dg.AssetKey, set[dg.AssetKey]]) -> None:
    """Fill the reports of one run's assets (in dependency order) from its events."""
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        report = reports.get(mat.asset_key)
        if report is None:
            continue
        report.partitions += 1
        if mat.partition is not None:
            report.built.add(mat.partition)
        rows = mat.metadata.get("dagster/row_count")
        if rows is not None:  # summed over the partitions of the build
            report.rows = (report.rows or 0) + int(rows.value)
        withheld = mat.metadata.get(EXPORTS_WITHHELD)
        if withheld is not None:
            report.exports_withheld = str(withheld.value)
        absent = mat.metadata.get(ABSENT_FILES)
        for entry in absent.value if absent is not None else ():
            seen = report.absent.setdefault(entry["path"], {**entry, "partitions": []})
            seen["partitions"].append(mat.partition or "-")
    for evaluation in result.get_asset_check_evaluations():
        report = reports.get(evaluation.asset_key)
        if report is None:
            continue
        if evaluation.passed:
            report.checks_passed += 1
        else:
            report.checks_failed.append(evaluation.check_name)
            # Dagster blocks downstream only on a failed blocking check of ERROR severity; a warning does not
            if evaluation.blocking and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                report.blocking_checks_failed.append(evaluation.check_name)
    failures = {e.step_key: e.event_specific_data for e in result.get_step_failure_events()}
    for key, report in reports.items():
        failure = failures.get(report.step or "__".join(key.path))  # a multi-asset's step is its op's
        if report.blocking_failed:
            blocked[key] = stopped[key] = f"{key.to_user_string()} blocked by check {', '.join(report.blocking_checks_failed)}"
        elif failure is not None:
            user = failure.user_failure_data
            alone = user.metadata.get(FAILED_PARTITIONS) if user is not None else None
            if alone is not None and not report.failed_partitions:
                report.failed_partitions = dict(alone.value)
                hints = user.metadata.get(HOW_TO_GET)
                report.how_to_get = list(hints.value) if hints is not None else []
                stopped[key] = f"failed for partition(s) {', '.join(report.failed_partitions)}"
            else:
                report.error = short_error(failure.error)
                stopped[key] = "failed"
        elif report.partitions == 0:
            parent = next((p for p in sorted(parents[key]) if p in stopped), None)
            if parent is not None and parent in blocked:  # Dagster skipped it in the run that blocked its input
                report.skipped_because = blocked[key] = blocked[parent]
            elif parent is not None:
                report.skipped_because = f"{parent.to_user_string()} {stopped[parent]}"
            else:
                report.error = "not materialized"
            stopped[key] = "was not materialized"


def prepare_home(data_dir: Path) -> Path:
    """``$DAGSTER_HOME`` when set, else ``<data_dir>/dagster_home``, exported as ``DAGSTER_HOME``:
    the instance both ``mmassets build`` and ``mmassets ui`` use, so the UI shows the runs of a build.

    Its dagster.yaml is written when missing (not in a ``$DAGSTER_HOME`` of the user's), and written
    again whenever one mmassets wrote names another folder than this one (the data folder was copied
    or moved: its run history must go on in the copy, not in the original or a re-created old path).
    A dagster.yaml of the user's own is never touched. Written atomically: a build starting beside
    this one reads the old file or the new one, never half of one."""
    users = bool(os.environ.get("DAGSTER_HOME"))
    home = Path(os.environ["DAGSTER_HOME"]) if users else Path(data_dir) / "dagster_home"
    if not users:
        home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    wanted = instance_config(home)
    try:
        current = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError):
        current = ""  # unreadable: not recognizably ours, left as it is
    if (current is None and not users) or (current is not None and current != wanted
                                          and written_by_mmassets(current) and _names_another_folder(current, home)):
        atomic_write_bytes(config, wanted.encode())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _names_another_folder(text: str, home: Path) -> bool:
    """Whether an mmassets dagster.yaml puts the event log elsewhere than ``<home>/history/runs``
    (else it is left as it is, its pool limit included)."""
    import yaml

    try:
        runs = yaml.safe_load(text)["event_log_storage"]["config"]["base_dir"]
    except (yaml.YAMLError, KeyError, TypeError):
        return True
    return Path(str(runs)) != Path(home).absolute() / "history" / "runs"


def instance_for(data_dir: Path) -> dg.DagsterInstance:
    """The instance of the data folder, loaded under a lock (``run_guard.open_instance``): builds
    starting at once in a new folder must not both create its SQLite schema."""
    return run_guard.open_instance(prepare_home(data_dir))
