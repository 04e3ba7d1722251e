"""What a step process of ``mmassets build --executor multiprocess`` needs, imported once in the
server that forks the step processes (``runner.multiprocess_config``): the definitions, and the
modules of the instance's storage classes (``$DAGSTER_HOME/dagster.yaml``; SQLite or PostgreSQL),
which Dagster otherwise imports in every step (alembic and SQLAlchemy's storage layers: about a
second of each step on 2 cores). Only modules are imported here, nothing is connected: a
connection must not be shared by the processes forked from this one."""

import importlib
import os

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
