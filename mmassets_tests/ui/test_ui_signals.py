"""`mmassets ui` listens on 127.0.0.1 only (unless --host says otherwise) and stops whole on SIGTERM
and SIGINT: it runs `dagster dev` in a process group of its own, passes the signal on and kills
what is left of the group after a bounded wait.

One real `mmassets ui` (profile sample, temporary data folder, a free port; about 30 s here), stopped
with SIGTERM once its code location has loaded; processes are followed by pid through /proc, sockets
through /proc/net/tcp{,6}. SIGINT (a terminal's Ctrl-C) takes the same path in the supervisor; it
is tested on small stand-ins for `dagster dev`, as is the bound (a group that ignores the signal is
killed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmassets.cli import supervise
from test_browser import START_TIMEOUT_S, Server, free_port

STOP_WITHIN_S = 15
LOOPBACK = {"127.0.0.1", "::1"}


# --- /proc helpers ------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, session id) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[3])


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has stopped; only its exit status is left


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for other in _pids():
        stat = _stat(other)
        if stat is not None:
            children.setdefault(stat[1], []).append(other)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def in_session(sid: int) -> set[int]:
    return {pid for pid in _pids() if (stat := _stat(pid)) is not None and stat[2] == sid and stat[0] != "Z"}


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is host order
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def listening(pids: set[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that one of ``pids`` holds."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                found.add((_address(address), int(port, 16)))
    return found


def outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# --- the real `mmassets ui` ---------------------------------------------------------------------

@pytest.fixture
def ui(tmp_path: Path):
    script = Path(sys.executable).with_name("mmassets")
    if not script.exists():
        pytest.fail(f"no `mmassets` script next to {sys.executable} (is the package installed?)")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    port = free_port()
    log = tmp_path / "mmassets-ui.log"
    with open(log, "wb") as out:  # no --host: the default is what is tested
        process = subprocess.Popen([str(script), "ui", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
                                   cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    server.port = port
    try:
        server.wait_until_ready(START_TIMEOUT_S)
        yield server
    finally:
        for leader in (process.pid, *descendants(process.pid)):
            try:
                os.killpg(leader, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        process.wait(timeout=10)


def test_ui_listens_on_loopback_only_and_stops_whole_on_sigterm(ui: Server) -> None:
    children = descendants(ui.process.pid)
    dagster_dev = [pid for pid in children if _stat(pid) and _stat(pid)[1] == ui.process.pid]
    assert len(dagster_dev) == 1, f"expected one child (dagster dev), found {dagster_dev}"
    assert _stat(dagster_dev[0])[2] == dagster_dev[0], "dagster dev must lead a session of its own"
    assert len(children) >= 3, f"dagster dev without its webserver and daemon? {children}"

    sockets = listening(children)
    assert ("127.0.0.1", ui.port) in sockets, sockets
    assert {address for address, _ in sockets} <= LOOPBACK, f"listening beyond the loopback: {sockets}"
    outward = outward_address()
    if outward is not None:
        with pytest.raises(OSError):
            socket.create_connection((outward, ui.port), timeout=3).close()

    os.kill(ui.process.pid, signal.SIGTERM)  # the supervisor only, as `kill` or a service manager would
    try:
        code = ui.process.wait(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`mmassets ui` still running {STOP_WITHIN_S} s after SIGTERM:\n{ui.log_tail()}")
    # 0: dagster dev shut down by itself; 143: what was left after the supervisor's bound was killed
    assert code in (0, 128 + signal.SIGTERM), f"exit {code}:\n{ui.log_tail()}"
    left = {pid for pid in children if running(pid)} | in_session(dagster_dev[0])
    assert not left, f"still running after `mmassets ui` exited: {left}"
    assert "stopping on SIGTERM" in ui.log_tail()


# --- the supervisor on stand-ins for `dagster dev` -------------------------------------------------

STAND_IN = """
import os, signal, subprocess, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
else:  # polite: stops on SIGINT, but leaves its child behind
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
grandchild = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                               "signal.signal(signal.SIGINT, signal.SIG_IGN); "
                               "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[1], "w").write(f"{os.getpid()} {grandchild.pid}")
time.sleep(600)
"""

SUPERVISED = """
import sys
from mmassets.cli import supervise
sys.exit(supervise([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], stop_timeout=1))
"""


@pytest.mark.parametrize("kind, signum, code", [("polite", signal.SIGINT, 0),
                                                ("stubborn", signal.SIGINT, 128 + signal.SIGINT),
                                                ("stubborn", signal.SIGTERM, 128 + signal.SIGTERM)])
def test_the_signal_is_passed_on_and_nothing_of_the_group_is_left(tmp_path: Path, kind: str, signum: int,
                                                                  code: int) -> None:
    pids = tmp_path / "pids"
    process = subprocess.Popen([sys.executable, "-c", SUPERVISED, STAND_IN, str(pids), kind], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not (pids.exists() and pids.read_text().count(" ") == 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        child, grandchild = map(int, pids.read_text().split())
        assert running(child) and running(grandchild)
        os.kill(process.pid, signum)
        assert process.wait(timeout=10) == code  # 0: stopped by itself; 128 + signal: killed after the bound
        assert not running(child) and not running(grandchild)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def test_supervise_returns_the_commands_own_exit_status() -> None:
    assert supervise([sys.executable, "-c", "import sys; sys.exit(3)"]) == 3
    assert supervise([sys.executable, "-c", "pass"]) == 0
