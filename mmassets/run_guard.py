"""What keeps a data folder from wedging: every run ``mmassets build`` starts is tagged with the
process that runs it, a build first fails the runs of its instance whose process is gone (and frees
their pool slots), says what it waits for while a pool slot is held, and stops on SIGINT/SIGTERM.

A run that a killed process left ``STARTED`` holds its slot of the ``gpu`` pool for ever: the next
build's translation step would wait on it without end. Runs are matched to their process by host,
pid and the process's start time (so a reused pid is not taken for the dead one). The instance itself
is opened under a lock (``open_instance``), so that builds starting at once in a new data folder do not
create its SQLite files together.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from mmassets.progress import STOP

HOST_TAG = "mmassets/host"
PID_TAG = "mmassets/pid"
PROCESS_START_TAG = "mmassets/process_start"

IN_FLIGHT = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
             dg.DagsterRunStatus.CANCELING]
"""Statuses of a run that a process still owns; QUEUED runs belong to the daemon's queue."""


def _process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), None elsewhere
    or when there is no such process; a zombie counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    return None if fields[0] in ("Z", "X") else fields[19]


def process_tags() -> dict[str, str]:
    """Tags naming this process, put on every run it starts."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()),
            PROCESS_START_TAG: _process_start(os.getpid()) or ""}


def _alive(pid: int, start: str | None) -> bool:
    if os.path.isdir("/proc"):
        now = _process_start(pid)
        return now is not None and (not start or now == start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


INSTANCE_LOCK = ".mmassets-instance.lock"


def open_instance(home: str | Path) -> dg.DagsterInstance:
    """The Dagster instance of the folder ``home``, loaded under an exclusive lock of
    ``<home>/.mmassets-instance.lock``. Loading a new instance creates its SQLite files and stamps
    their schema version; two builds doing that at once in a new data folder can both stamp it (the
    instance then never loads again: "alembic_version has more than one head") or one of them fails.
    The lock is held only while the instance loads."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    with open(home / INSTANCE_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        return dg.DagsterInstance.from_config(str(home))


@dataclass(frozen=True)
class StaleRun:
    run_id: str
    pid: int
    status: str


def _owner(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int, str | None] | None:
    """(pid, start time) of the process that runs ``run``, when it runs on this machine: from our tags,
    else (a run of `dagster asset materialize` or a test, on a local SQLite instance) the pid its
    RUN_START event recorded; None when that cannot be told."""
    tags = run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG) != socket.gethostname():
            return None
        return int(tags[PID_TAG]), tags.get(PROCESS_START_TAG) or None
    from dagster._core.storage.runs.sqlite import SqliteRunStorage

    if not isinstance(instance.run_storage, SqliteRunStorage):
        return None
    records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    event = records[0].event_log_entry.dagster_event if records else None
    return (event.pid, None) if event is not None and event.pid else None


def stale_runs(instance: dg.DagsterInstance) -> list[StaleRun]:
    """Runs of ``instance`` that a process of this machine left in flight and that process is gone."""
    found = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        owner = _owner(instance, run)
        if owner is not None and owner[0] != os.getpid() and not _alive(*owner):
            found.append(StaleRun(run.run_id, owner[0], run.status.value))
    return found


def end_run(instance: dg.DagsterInstance, run_id: str, message: str) -> None:
    """Mark a run failed (unless it already ended) and free every pool slot it holds."""
    run = instance.get_run_by_id(run_id)
    if run is not None and run.status in IN_FLIGHT:
        instance.report_run_failed(run, message=message)
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def recover_stale_runs(instance: dg.DagsterInstance, log: Callable[[str], None]) -> list[StaleRun]:
    """Fail the runs whose process died (kill -9, a crash, a power cut) and free their pool slots."""
    stale = stale_runs(instance)
    for run in stale:
        end_run(instance, run.run_id, f"its process (pid {run.pid}) is gone; marked failed by mmassets build")
    if stale:
        ids = ", ".join(f"{r.run_id[:8]} (pid {r.pid}, {r.status})" for r in stale)
        log(f"recovered {len(stale)} run(s) left in flight by a process that is gone: {ids}; "
            "marked failed, pool slots freed")
    return stale


def end_own_runs(instance: dg.DagsterInstance, message: str) -> list[str]:
    """Fail the runs this process left in flight (an interrupt that escaped a run) and free their slots."""
    me = process_tags()
    ended = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT, tags={PID_TAG: me[PID_TAG]})):
        if run.tags.get(HOST_TAG) == me[HOST_TAG] and run.tags.get(PROCESS_START_TAG, "") == me[PROCESS_START_TAG]:
            end_run(instance, run.run_id, message)
            ended.append(run.run_id)
    return ended


def _holders(instance: dg.DagsterInstance, info, own: set[str]) -> str:
    parts = []
    for run_id in sorted({slot.run_id for slot in info.claimed_slots} - own):
        run = instance.get_run_by_id(run_id)
        pid = run.tags.get(PID_TAG) if run is not None else None
        parts.append(f"run {run_id[:8]}" + (f" (mmassets build, pid {pid})" if pid else ""))
    return ", ".join(parts) or "other steps"


@contextmanager
def watch_pools(instance: dg.DagsterInstance, pools: list[str], log: Callable[[str], None],
                interval: float = 2.0) -> Iterator[None]:
    """While the body runs, say once per pool when a step of this process's runs waits for a slot
    of that pool, and which runs hold the slots; say again every minute while it still waits."""
    if not pools:
        yield
        return
    pid = process_tags()[PID_TAG]

    def own_runs() -> set[str]:
        return {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT, tags={PID_TAG: pid}))}

    def watch(stop: threading.Event) -> None:
        waited: dict[str, float] = {}
        while not stop.wait(interval):
            try:
                own = own_runs()
                for pool in pools:
                    info = instance.event_log_storage.get_concurrency_info(pool)
                    waiting = [s for s in info.pending_steps if s.run_id in own and s.assigned_timestamp is None]
                    if not waiting:
                        waited.pop(pool, None)
                        continue
                    waited[pool] = waited.get(pool, -interval) + interval
                    if waited[pool] % 60 < interval:
                        log(f"waiting for a slot of pool {pool!r} (limit {info.slot_count}) for "
                            f"{', '.join(s.step_key for s in waiting)}; held by {_holders(instance, info, own)}")
            except Exception:  # noqa: BLE001 - a watcher must never break the build it watches
                continue

    with _in_background(watch, "mmassets-pool-watch"):
        yield


@contextmanager
def _in_background(work: Callable[[threading.Event], None], name: str) -> Iterator[None]:
    """Run ``work(stop)`` in a daemon thread while the body runs; ``stop`` is set when it ends."""
    stop = threading.Event()
    thread = threading.Thread(target=work, args=(stop,), name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class BuildInterrupted(Exception):
    """SIGINT or SIGTERM stopped a build; nothing after the interrupted run was started."""


def interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether a run ended because of SIGINT/SIGTERM (Dagster turns it into a failed step or run)."""
    names = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}
    for event in result.all_events:
        if event.event_type_value not in ("STEP_FAILURE", "PIPELINE_FAILURE", "PIPELINE_CANCELED"):
            continue
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            if error.cls_name in names:
                return True
            error = error.cause
        if event.event_type_value == "PIPELINE_CANCELED" or "interrupted" in (event.message or ""):
            return True
    return False


@contextmanager
def interrupts_stop_the_build() -> Iterator[None]:
    """For the body: SIGTERM acts as SIGINT, and either one sets ``progress.STOP``, so that the
    running step stops at its next progress update (Dagster, which holds the signal handlers during
    a run, would only stop *after* the step). The signal is seen through ``signal.set_wakeup_fd``,
    which reports it whatever Python handler Dagster has installed."""
    STOP.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch(done: threading.Event) -> None:
        while not done.is_set():
            if select.select([reader], [], [], 0.2)[0]:
                try:
                    received = reader.recv(64)
                except BlockingIOError:
                    continue
                if signal.SIGINT in received or signal.SIGTERM in received:
                    STOP.set()

    try:
        with _in_background(watch, "mmassets-signal-watch"):
            yield
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGTERM, previous)
        reader.close()
        writer.close()
