"""Fixtures the build tests share: a generated sample raw root, and eval/xm3600 built from a copy."""

import shutil
from pathlib import Path

import pytest

from builds import run_build
from mmassets.sample import ensure_sample_raw


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory) -> Path:
    return ensure_sample_raw(tmp_path_factory.mktemp("sample") / "raw")


@pytest.fixture()
def xm3600_built(tmp_path, sample_raw):
    """eval/xm3600 built on the production profile from a copy of the sample raw root."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    data_dir = tmp_path / "data"
    args = ("--profile", "production", "--raw-dir", str(raw), "--select", 'key:"eval/xm3600"')
    code, out = run_build(data_dir, *args)
    assert code == 0, out
    return raw, data_dir, args
