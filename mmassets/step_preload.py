"""What a step process of ``mmassets build --executor multiprocess`` needs, imported once in the
server that forks the step processes (``runner.multiprocess_config``): the definitions, and the
modules of the instance's storage classes (``$DAGSTER_HOME/dagster.yaml``; SQLite or PostgreSQL),
which Dagster otherwise imports in every step (alembic and SQLAlchemy's storage layers: about a
second of each step on 2 cores). Only modules are imported here, nothing is connected: a
connection must not be shared by the processes forked from this one.

It also makes every step process die with the build (``die_with_the_build``): a build killed with
SIGKILL cannot stop its steps, and a step process left behind held its memory and the translation
memory open for ever (and, holding the server's pipe, kept the server alive too)."""

import importlib
import os
import signal
import threading
import time

import mmassets.definitions  # noqa: F401  (the definitions, built once from the environment's settings)


def _import_storage_modules() -> None:
    from dagster._core.instance.ref import InstanceRef

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return
    ref = InstanceRef.from_dir(home)
    for data in ref._asdict().values():
        module = getattr(data, "module_name", None)
        if module:
            importlib.import_module(module)
    importlib.import_module("dagster._core.execution.plan.execute_plan")


_import_storage_modules()


ORPHAN_CHECK_S = 0.5
"""How often a step process looks whether the build is still there."""


def die_with_the_build() -> None:
    """In the server that forks the step processes (its parent is the process that runs the build's
    run): each process forked from it from now on watches that process and kills itself (SIGKILL)
    within ``ORPHAN_CHECK_S`` once it is gone. The process is matched by pid and start time, so a
    reused pid is not taken for it. The server itself exits once no process holds its pipe: the
    build and the steps; on Linux it is also sent SIGKILL when the build dies (PR_SET_PDEATHSIG)."""
    from mmassets.run_guard import _alive, _process_start

    build = os.getppid()
    started = _process_start(build)
    _kill_me_when_my_parent_dies()
    if not _alive(build, started):  # the build died before this server could see it
        os.kill(os.getpid(), signal.SIGKILL)

    def watch() -> None:
        while _alive(build, started):
            time.sleep(ORPHAN_CHECK_S)
        os.kill(os.getpid(), signal.SIGKILL)

    def in_each_step() -> None:
        threading.Thread(target=watch, name="mmassets-build-watch", daemon=True).start()

    os.register_at_fork(after_in_child=in_each_step)


def _kill_me_when_my_parent_dies() -> None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL) on Linux; nothing elsewhere."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


die_with_the_build()
