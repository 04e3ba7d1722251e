"""Shared helpers for the end-to-end tests: `mmassets build` in this process, or as a child process
that a test can kill or interrupt, each with its own DAGSTER_HOME under the data folder."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

from mmassets.cli import main
from mmassets.runner import instance_config

ENV_KEYS = ["DAGSTER_HOME", "MMASSETS_PROFILE", "MMASSETS_DATA_DIR", "MMASSETS_RAW_DIR",
            "MMASSETS_TRANSLATOR_MODEL", "MMASSETS_SEED", "MMASSETS_LANGUAGES"]


def _home(data_dir: Path) -> Path:
    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_config(home))
    return home


def _settings_free_env() -> dict[str, str]:
    """This process's environment without DAGSTER_HOME and any MMASSETS_* setting."""
    return {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("MMASSETS_")}


def run_build(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`mmassets build` in-process with its own DAGSTER_HOME (and ``env`` settings); the whole
    environment is restored after (the CLI exports its settings as MMASSETS_* variables, which must
    not leak into the next test)."""
    out, saved, clean = io.StringIO(), dict(os.environ), _settings_free_env()
    try:
        os.environ.clear()
        os.environ.update(clean, DAGSTER_HOME=str(_home(data_dir)), **(env or {}))
        with contextlib.redirect_stdout(out):
            code = main(["build", "--data-dir", str(data_dir), *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue()


def start_build(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`mmassets build` as a child process (its own process group), output unbuffered to a pipe."""
    child_env = _settings_free_env()
    child_env.update(DAGSTER_HOME=str(_home(data_dir)), PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "mmassets.cli", "build", "--data-dir", str(data_dir), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env,
                            start_new_session=True)


def finish(process: subprocess.Popen, timeout: float, what: str = "the build did not end") -> str:
    """The output of a started build once it exits; past ``timeout`` it is killed (never left running)
    and an AssertionError carries ``what`` and the end of its output."""
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"{what}: " + process.communicate()[0][-3000:]) from None


def wait_for_pool_slot(data_dir: Path, process: subprocess.Popen, pool: str = "gpu", timeout: float = 180) -> None:
    """Return once a step of ``process``'s build holds a slot of ``pool`` (a translation is running)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the build ended (exit {process.returncode}) before translating:\n"
                                 f"{process.stdout.read()}")
        if instance.event_log_storage.get_concurrency_info(pool).claimed_slots:
            return
        time.sleep(0.2)
    raise AssertionError(f"no slot of pool {pool!r} was claimed within {timeout} s")


def materialization_metadata(data_dir: Path, key: str, partition: str | None = None) -> dict:
    """The metadata values of the latest materialization of asset ``key`` (or of one partition) in
    the build's instance under ``data_dir``."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    records = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey.from_user_string(key), asset_partitions=[partition] if partition else None), limit=1).records
    return {k: getattr(v, "value", v) for k, v in records[0].asset_materialization.metadata.items()}


def launch_alone(raw, data, key: str) -> str:
    """What the UI does when a user materializes one asset: a run of it alone on the data folder's
    instance; the message of its step's failure ("" when it succeeded)."""
    import dagster as dg

    from mmassets.definitions import build_definitions
    from mmassets.settings import Settings

    defs = build_definitions(Settings.from_env({}, profile="production", raw_dir=str(raw), data_dir=str(data)))
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey.from_user_string(key)], raise_on_error=False)
    failures = result.get_step_failure_events()
    return failures[0].event_specific_data.error.message if failures else ""
