"""Scaling out, measured on this machine:

- the sample profile built in-process (``mmassets build``) and with ``--executor multiprocess``,
  each into a new data folder from the same generated raw root (generation not counted);
- ``--distributed``: the small graph ``+key:"translated/coco_captions"`` built in-process, and
  submitted (``mmassets build --submit``, followed by ``mmassets status``) to a deployment on this
  machine: PostgreSQL, Redis, two Celery workers and the Dagster daemon (``mmassets_tests/servers.py``;
  the time from the submission to the end of the backfill, the servers' start not counted);
- ``--object-store``: the sample built in-process with ``--data-dir s3://…`` on SeaweedFS's S3
  gateway on 127.0.0.1 (the stored values and exports as objects, the rest in a local work folder).

Last line::

    sample_in_process_s=<a> sample_multiprocess_s=<b> multiprocess_speedup=<a/b> [small_in_process_s=<c>
    small_distributed_s=<d>] [sample_object_store_s=<e>]

``python benchmarks/scale_out.py`` (about 4 minutes on 2 cores); ``--distributed`` adds about 2, ``--object-store`` about 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMALL = '+key:"translated/coco_captions"'


sys.path.insert(0, str(ROOT / "mmassets_tests"))  # the tests' helpers: their environment, their servers
from builds import _settings_free_env as clean_env  # noqa: E402


def timed_build(data: Path, raw: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Seconds of ``mmassets build`` into ``data`` (a copy of ``raw`` as its sample raw root)."""
    shutil.copytree(raw, data / "sample" / "raw")
    began = time.perf_counter()
    done = subprocess.run([str(BIN / "mmassets"), "build", "--data-dir", str(data), *args],
                          env={**clean_env(), **(env or {})}, capture_output=True, text=True)
    took = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"mmassets build {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return took


def distributed(work: Path, raw: Path) -> float:
    """Seconds from ``mmassets build --submit`` to the end of ``mmassets status`` on a local deployment."""
    from servers import deployment

    location = work / "location" / "definitions.py"
    location.parent.mkdir(parents=True)
    location.write_text("from mmassets.definitions import defs  # noqa: F401\n")
    data = work / "distributed"
    shutil.copytree(raw, data / "sample" / "raw")
    with deployment(work / "deployment", location, data / "sample" / "raw",
                    {**clean_env(), "MMASSETS_DATA_DIR": str(data)}) as env:
        began = time.perf_counter()
        submitted = subprocess.run([str(BIN / "mmassets"), "build", "--submit", "--select", SMALL], env=env,
                                   capture_output=True, text=True, check=True).stdout
        backfill = submitted.split("backfill ", 1)[1].split()[0]
        followed = subprocess.run([str(BIN / "mmassets"), "status", backfill, "--interval", "0.5"], env=env,
                                  capture_output=True, text=True)
        took = time.perf_counter() - began
        if followed.returncode != 0:
            sys.exit(f"the backfill did not succeed:\n{followed.stdout[-3000:]}{followed.stderr[-3000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--distributed", action="store_true", help="also the small graph on a local deployment")
    parser.add_argument("--object-store", action="store_true", help="also the sample onto an S3-compatible server")
    parser.add_argument("--workers", type=int, help="--workers of the multiprocess build (default: one per CPU)")
    args = parser.parse_args()
    from mmassets.sample import ensure_sample_raw

    with tempfile.TemporaryDirectory(prefix="mmassets-scale-out-") as folder:
        work = Path(folder)
        raw = ensure_sample_raw(work / "raw")
        print(f"{os.cpu_count()} CPUs; the sample profile, each build into a new data folder", flush=True)
        in_process = timed_build(work / "in_process", raw)
        print(f"in-process:               {in_process:.1f} s", flush=True)
        extra = ("--workers", str(args.workers)) if args.workers else ()
        multi = timed_build(work / "multiprocess", raw, "--executor", "multiprocess", *extra)
        print(f"--executor multiprocess:  {multi:.1f} s ({in_process / multi:.2f}x)", flush=True)
        figures = {"sample_in_process_s": in_process, "sample_multiprocess_s": multi,
                   "multiprocess_speedup": in_process / multi}
        if args.distributed:
            small = timed_build(work / "small", raw, "--select", SMALL)
            print(f"{SMALL} in-process:  {small:.1f} s", flush=True)
            remote = distributed(work, raw)
            print(f"{SMALL} submitted to PostgreSQL + Redis + 2 Celery workers + daemon: {remote:.1f} s", flush=True)
            figures.update(small_in_process_s=small, small_distributed_s=remote)
        if args.object_store:
            from servers import s3_server

            with s3_server("mmassets") as s3:
                store = work / "object_store"
                stored = timed_build(store, raw, "--data-dir", "s3://mmassets/bench", "--work-dir", str(store), env=s3)
            print(f"--data-dir s3://… (SeaweedFS on 127.0.0.1): {stored:.1f} s ({stored / in_process:.2f}x the "
                  "local folder's time)", flush=True)
            figures.update(sample_object_store_s=stored)
    print(" ".join(f"{name}={value:.2f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
