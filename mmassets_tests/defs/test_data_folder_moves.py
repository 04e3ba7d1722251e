"""A data folder can be copied or moved: its Dagster instance (``dagster_home``) follows it. The
instance's dagster.yaml names its event log's folder by absolute path, so ``mmassets build`` writes
it again for the folder it is in; a dagster.yaml of the user's own is never touched."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from builds import _settings_free_env
from mmassets.runner import instance_config, prepare_home

SELECT = 'key:"raw/coco_karpathy"'


def build(data_dir: Path, raw: Path) -> None:
    """`mmassets build` as a user runs it: no DAGSTER_HOME, so the instance is ``<data>/dagster_home``."""
    done = subprocess.run([sys.executable, "-m", "mmassets.cli", "build", "--data-dir", str(data_dir),
                           "--profile", "production", "--raw-dir", str(raw), "--select", SELECT],
                          env=_settings_free_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def history(data_dir: Path) -> tuple[int, int, set[str]]:
    """(runs, materializations of the selected asset, run databases of the event log) of the instance
    of ``data_dir``, read through its own dagster.yaml."""
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    try:
        materialized = instance.fetch_materializations(dg.AssetKey(["raw", "coco_karpathy"]), limit=100).records
        return (instance.get_runs_count(), len(materialized),
                {p.name for p in (data_dir / "dagster_home" / "history" / "runs").glob("*.db")})
    finally:
        instance.dispose()


def test_a_build_in_a_copied_data_folder_writes_into_the_copy_only(tmp_path, sample_raw):
    original, copy = tmp_path / "data", tmp_path / "copy"
    build(original, sample_raw)
    before = history(original)
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)

    build(copy, sample_raw)

    assert history(original) == before  # not a run, not an event of the copy's build
    runs, materialized, databases = history(copy)
    assert runs > before[0] and materialized == before[1] + 1 and databases > before[2]
    assert str(copy / "dagster_home") in (copy / "dagster_home" / "dagster.yaml").read_text()


def test_a_moved_data_folder_keeps_its_asset_history(tmp_path, sample_raw):
    old, moved = tmp_path / "data", tmp_path / "moved"
    build(old, sample_raw)
    runs, materialized, _ = history(old)
    shutil.move(old, moved)

    build(moved, sample_raw)

    assert not old.exists(), "the old path was re-created"
    again = history(moved)
    assert again[0] > runs and again[1] == materialized + 1  # the old build's materialization is still seen


def test_an_earlier_mmassets_dagster_yaml_is_rewritten_and_a_users_own_is_not(tmp_path, monkeypatch):
    home = tmp_path / "data" / "dagster_home"
    home.mkdir(parents=True)
    elsewhere = instance_config(tmp_path / "old" / "dagster_home")
    unmarked = elsewhere.split("\n", 1)[1]  # what mmassets wrote before it marked the file
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    (home / "dagster.yaml").write_text(unmarked)
    assert prepare_home(tmp_path / "data") == home
    assert (home / "dagster.yaml").read_text() == instance_config(home)

    own = unmarked + "run_monitoring:\n  enabled: true\n"  # the user's own file, however like ours
    (home / "dagster.yaml").write_text(own)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    prepare_home(tmp_path / "data")
    assert (home / "dagster.yaml").read_text() == own

    users = tmp_path / "users_home"  # a DAGSTER_HOME of the user's: used as it is, nothing written
    users.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(users))
    assert prepare_home(tmp_path / "data") == users
    assert not (users / "dagster.yaml").exists()


def test_builds_starting_at_once_in_a_moved_folder_never_leave_half_a_dagster_yaml(tmp_path):
    home = tmp_path / "data" / "dagster_home"
    home.mkdir(parents=True)
    stale = instance_config(tmp_path / "before_the_move" / "dagster_home")
    (home / "dagster.yaml").write_text(stale)
    code = ("import sys; from mmassets.runner import prepare_home; "
            "[prepare_home(sys.argv[1]) for _ in range(20)]")
    env = _settings_free_env()
    writers = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "data")], env=env) for _ in range(6)]
    seen = set()
    while any(w.poll() is None for w in writers):
        seen.add((home / "dagster.yaml").read_text())
    assert all(w.returncode == 0 for w in writers)
    seen.add((home / "dagster.yaml").read_text())
    assert seen <= {stale, instance_config(home)}
    assert (home / "dagster.yaml").read_text() == instance_config(home)
    assert not [p.name for p in home.iterdir() if p.name != "dagster.yaml"]  # no temporary file left
