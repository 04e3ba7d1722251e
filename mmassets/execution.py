"""How the runs of ``mmassets build`` execute: in this process (``execute_in_process``), through
Dagster's multiprocess executor (a process per step, forked from a server that imported the
definitions once), or several at once, each in a process of its own (a translation stage split
over the GPUs), their events read back from the instance for the report."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import dagster as dg

from mmassets import run_guard
from mmassets.devices import DEVICE_TAG, GPU_TAG
from mmassets.progress import STOP

IN_PROCESS, MULTIPROCESS = "in_process", "multiprocess"
BUILD_EXECUTORS = (IN_PROCESS, MULTIPROCESS)
"""What `mmassets build --executor` runs a build with (MMASSETS_EXECUTOR is for submitted runs)."""
DEFINITIONS_MODULE = "mmassets.definitions"
DEFAULT_EXECUTOR = "multi_or_in_process_executor"
"""Dagster's executor when the definitions name none (``MMASSETS_EXECUTOR`` unset)."""


def reconstructable_job(name: str):
    """The job ``name`` of ``mmassets.definitions.defs``, as step processes load it."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    return ReconstructableRepository.for_module(DEFINITIONS_MODULE, "defs").get_reconstructable_job(name)


def multiprocess_config(workers: int | None) -> dict:
    """Dagster's multiprocess executor: ``workers`` steps at once (None: one per CPU), each in a
    process forked from a server that imported the definitions once (a step starts in a fraction of
    a second, not the 3 s of a fresh interpreter), one GPU step at a time per run."""
    return {"multiprocess": {
        "max_concurrent": workers or 0,
        "start_method": {"forkserver": {"preload_modules": ["mmassets.step_preload"]}},
        "tag_concurrency_limits": [{"key": DEVICE_TAG, "value": "gpu", "limit": 1}]}}


@dataclass
class PlannedRun:
    """A run of a build before it executes: its assets, partition range, tags and run config."""

    assets: list[str]
    partitions: tuple[str, ...] | None
    tags: dict[str, str]
    run_config: dict
    number: int

    def announcement(self) -> str:
        gpu = self.tags.get(GPU_TAG)
        return (f"run {self.number}: {', '.join(self.assets)}"
                + (f" over {len(self.partitions)} partitions" if self.partitions else "")
                + ("" if gpu is None else f" on GPU {gpu}"))


@dataclass
class StoredRunResult:
    """A run's events read back from the instance (the run executed in another process), with the
    accessors of Dagster's execution results that the report uses."""

    run_id: str
    all_events: list

    @classmethod
    def read(cls, instance: dg.DagsterInstance, run_id: str) -> StoredRunResult:
        return cls(run_id, [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None])

    def get_asset_materialization_events(self) -> list:
        return [e for e in self.all_events if e.is_step_materialization]

    def get_asset_check_evaluations(self) -> list:
        return [e.event_specific_data for e in self.all_events
                if e.event_type_value == dg.DagsterEventType.ASSET_CHECK_EVALUATION.value]

    def get_step_failure_events(self) -> list:
        return [e for e in self.all_events if e.is_step_failure]


SLICE_TAG = "mmassets/side-by-side"
"""Run tag by which a run executed in a child process is found again."""


def execute_here(job: dg.JobDefinition, instance: dg.DagsterInstance, run: PlannedRun,
                 executor: str) -> tuple[float, Any]:
    """Execute ``run`` from this process: (its wall time, its result)."""
    began = time.perf_counter()
    keys = [dg.AssetKey.from_user_string(name) for name in run.assets]
    tags = {**run.tags, **run_guard.process_tags()}
    if executor == IN_PROCESS:
        result = job.execute_in_process(instance=instance, asset_selection=keys, tags=tags, raise_on_error=False,
                                        run_config=run.run_config)
    else:  # its events are all the report needs: not opened as a context manager (which sets up the resources again)
        result = dg.execute_job(reconstructable_job(job.name), instance, asset_selection=keys, tags=tags,
                                run_config=run.run_config)
    return time.perf_counter() - began, result


def _execute_in_child(job_name: str, run: PlannedRun) -> None:
    """The body of a child process of ``execute_side_by_side``: one run, through the multiprocess
    executor, on the instance of ``$DAGSTER_HOME``."""
    os.setsid()  # a session of its own: a terminal's Ctrl-C reaches the build, which passes it on in order
    _stop_when_orphaned(os.getppid())
    stopped = []

    def interrupt(signum, frame) -> None:  # until Dagster takes SIGINT over (its run's steps, in order)
        stopped.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    try:
        instance = dg.DagsterInstance.get()
        try:
            execute_here(reconstructable_job(job_name).get_definition(), instance, run, MULTIPROCESS)
        finally:  # its run ended (failed if it was still in flight), its pool slots freed, with or without the build
            for left in instance.get_runs(filters=dg.RunsFilter(tags={SLICE_TAG: run.tags[SLICE_TAG]}), limit=1):
                run_guard.end_run(instance, left.run_id, "its process ended before the run did")
    except KeyboardInterrupt:  # stopped before Dagster took the signal over
        sys.exit(130)
    except Exception:
        if stopped:  # an error of the run's start cut short by the stop (a storage closed under it): the
            sys.exit(130)  # build reports the interrupt, and marks the run failed if it had begun
        raise


def _stop_when_orphaned(build_pid: int, interval: float = 1.0) -> None:
    """SIGINT to this process once the build that started it is gone (killed with SIGKILL, which it
    cannot pass on): the run stops as at Ctrl-C instead of holding its GPU and pool slot alone."""
    import threading

    def watch() -> None:
        while os.getppid() == build_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="mmassets-orphan-watch", daemon=True).start()


def execute_side_by_side(instance: dg.DagsterInstance, job_name: str,
                          planned: list[PlannedRun]) -> list[tuple[float, StoredRunResult | None]]:
    """Execute the runs at once, each in a process of its own (Dagster's execution is not safe in
    threads: each run reconfigures Python's logging), and read their events back: (wall time,
    result; None when a process died before its run began) in the order of ``planned``."""
    import multiprocessing
    import uuid
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")
    began = time.perf_counter()
    children = {}
    for index, run in enumerate(planned):
        tagged = PlannedRun(run.assets, run.partitions, {**run.tags, SLICE_TAG: uuid.uuid4().hex}, run.run_config,
                            run.number)
        process = context.Process(target=_execute_in_child, args=(job_name, tagged), name=f"mmassets-run-{run.number}")
        process.start()
        children[process.sentinel] = (index, process, tagged.tags[SLICE_TAG])
    done: list = [None] * len(planned)
    waiting = dict(children)
    interrupted, passed_on = False, None
    while waiting:
        try:
            if (STOP.is_set() or interrupted) and passed_on is None:
                # SIGINT or SIGTERM to this process: SIGINT to each run's process, whose executor
                # stops its steps and marks the run failed; what is left after STOP_GRACE_S is killed
                for _, process, _ in waiting.values():
                    _signal(process.pid, signal.SIGINT, group=False)
                passed_on = time.monotonic()
            elif passed_on is not None and time.monotonic() - passed_on > STOP_GRACE_S:
                for _, process, _ in waiting.values():
                    _signal(process.pid, signal.SIGKILL, group=True)
            for sentinel in wait(list(waiting), timeout=1.0):
                index, process, tag = waiting.pop(sentinel)
                process.join()
                found = instance.get_runs(filters=dg.RunsFilter(tags={SLICE_TAG: tag}), limit=1)
                if found:  # a run its process left in flight (stopped, or killed) is failed, its slots freed
                    run_guard.end_run(instance, found[0].run_id, "its process ended before the run did")
                done[index] = (time.perf_counter() - began,
                               StoredRunResult.read(instance, found[0].run_id) if found else None)
        except KeyboardInterrupt:
            if interrupted and passed_on is not None:  # a second Ctrl-C: kill at once
                passed_on = -STOP_GRACE_S - 1.0
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt
    return done


STOP_GRACE_S = 60.0
"""How long the runs' processes have to stop after the build passed an interrupt on."""


def _signal(pid: int, signum: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
