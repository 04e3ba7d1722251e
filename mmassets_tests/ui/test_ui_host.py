"""`mmassets ui` says when --host makes the UI reachable from other machines: it has no
authentication. `dagster dev` itself is not started (``supervise`` is replaced)."""

from __future__ import annotations

import os

import pytest

from mmassets import cli

WARNING = ("mmassets ui: warning: --host {host} makes the UI reachable from other machines, and it has no "
           "authentication: anyone who can reach it can see the data and launch or cancel runs\n")


@pytest.fixture
def ui(tmp_path, monkeypatch, capsys):
    """``ui(host)``: `mmassets ui --host <host>` with `dagster dev` replaced; returns (code, stderr, its command)."""
    started = []
    monkeypatch.setattr(cli, "supervise", lambda command: started.append(list(command)) or 0)
    saved = dict(os.environ)

    def run(host: str) -> tuple[int, str, list[str]]:
        os.environ.pop("DAGSTER_HOME", None)
        for key in [k for k in os.environ if k.startswith("MMASSETS_")]:
            del os.environ[key]
        try:
            code = cli.main(["ui", "--data-dir", str(tmp_path / "data"), "--host", host])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return code, capsys.readouterr().err, started[-1]

    return run


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "my-machine.example"])
def test_a_host_reachable_from_elsewhere_is_warned_about(ui, host):
    code, err, command = ui(host)
    assert code == 0
    assert err == WARNING.format(host=host)
    assert command[command.index("--host") + 1] == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_a_loopback_host_is_not_warned_about(ui, host):
    code, err, _ = ui(host)
    assert code == 0 and err == ""
