"""The console stays free of Dagster's Beta/Preview/Supersession warnings about mmassets' own calls,
when the definitions load and when `mmassets build` runs, without hiding those of a user's own calls.

Both run in a child process with warning options of their own: the filters of this project's
pytest configuration (which ignore these warnings) do not reach it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mmassets.runner import instance_config

CATEGORIES = ("BetaWarning", "PreviewWarning", "SupersessionWarning")
STRICT = """
import sys, warnings
import dagster as dg
categories = (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning)
for category in categories:
    warnings.simplefilter(sys.argv[1], category)
"""
# (-W cannot name dagster's categories: it is read before dagster can be imported.)

IMPORT_THEN_USE_A_BETA_API = STRICT + """
before = list(warnings.filters)
import mmassets.definitions  # any warning of the categories is an error here

added = [f for f in warnings.filters if f not in before and issubclass(f[2], categories)]
assert not added, f"importing the definitions added warning filters: {added}"
try:  # a user's own call of a beta API still warns (here: is an error)
    dg.asset(name="users_own", backfill_policy=dg.BackfillPolicy.single_run())(lambda: 1)
except dg.BetaWarning:
    print("ok")
"""

BUILD = STRICT + """
from mmassets.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DAGSTER_HOME", "PYTHONWARNINGS") and not k.startswith("MMASSETS_")}
    return {**env, "HF_HUB_OFFLINE": "1", "MMASSETS_DATA_DIR": str(tmp_path / "data"), **extra}


def test_definitions_load_without_dagster_beta_warnings_and_a_users_own_still_warn(tmp_path):
    done = subprocess.run([sys.executable, "-c", IMPORT_THEN_USE_A_BETA_API, "error"], cwd=tmp_path,
                          env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"
    assert not any(category in done.stderr for category in CATEGORIES), done.stderr[-3000:]


def test_a_build_prints_no_dagster_beta_warning(tmp_path):
    """A raw asset (data version: beta ``Output(data_version=)``) after observing its source
    (``observable_source_asset``), with every warning of the categories printed each time."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_config(home))
    # `*` in a string selection resolves through AssetSelection.all(include_sources=...), a beta parameter
    done = subprocess.run([sys.executable, "-c", BUILD, "always", "build", "--select", '* and key:"raw/coco_karpathy"'],
                          cwd=tmp_path, env=_env(tmp_path, DAGSTER_HOME=str(home)), capture_output=True, text=True,
                          timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "1/1 assets materialized" in out
    assert not any(category in out for category in CATEGORIES), out[-3000:]
