"""The translation gate blocks per language partition: a language whose share of flagged outputs is
over MMASSETS_TRANSLATION_MAX_FLAGGED fails alone, nothing is built from it, the build exits
non-zero; the sample profile's tiny model keeps its exemption (reported, not enforced)."""

import json
from pathlib import Path

import dagster as dg
import pytest

from builds import run_build
from mmassets.languages import LanguageTable
from mmassets.translation.tiny_model import build_tiny_nllb

SELECT = ["--select", '+key:"train/coco_captions"']


def line_of(out: str, asset: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(asset + " "))


@pytest.fixture(scope="module")
def local_model(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The tiny random model in a folder of its own, as a user's local checkpoint is given
    (MMASSETS_TRANSLATOR_MODEL=<folder>): then the gate is enforced, and its noise is flagged; a
    table of three languages keeps the build short."""
    folder = tmp_path_factory.mktemp("gate")
    rows = [r for r in json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
            if r["code"] in ("en", "de", "ru")]
    (folder / "three.json").write_text(json.dumps(rows))
    model = build_tiny_nllb(folder / "local-nllb", [r["nllb"] for r in rows])
    return folder, {"MMASSETS_TRANSLATOR_MODEL": str(model), "MMASSETS_LANGUAGES": str(folder / "three.json")}


def test_a_language_over_the_threshold_fails_alone_and_nothing_is_built_from_it(tmp_path, sample_raw, local_model):
    _, env = local_model
    data = tmp_path / "data"

    code, out = run_build(data, "--profile", "production", "--raw-dir", str(sample_raw), *SELECT, env=env)

    assert code == 1, out
    assert line_of(out, "translated/coco_captions").endswith("FAILED 2 partition(s)"), out
    for language in ("de", "ru"):
        assert f"translated/coco_captions [{language}]: the translation gate flagged " in out, out
    assert "over the threshold of 5%" in out
    assert line_of(out, "train/coco_captions").endswith(
        "skipped: translated/coco_captions failed for partition(s) de, ru"), out
    assert not (data / "exports" / "train" / "coco_captions.json").exists()
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    materialized = instance.get_materialized_partitions(dg.AssetKey(["translated", "coco_captions"]))
    assert materialized == {"en"}  # English passes through; the failed languages store nothing


def test_the_threshold_is_a_setting(tmp_path, sample_raw, local_model):
    _, env = local_model
    data = tmp_path / "data"

    code, out = run_build(data, "--profile", "production", "--raw-dir", str(sample_raw), *SELECT,
                          env={**env, "MMASSETS_TRANSLATION_MAX_FLAGGED": "1"})

    assert code == 0, out
    assert line_of(out, "train/coco_captions").endswith(" ok"), out
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["translated", "coco_captions"]), "translation_gate")])
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.passed and evaluation.metadata["threshold"].value == 1.0
    assert evaluation.metadata["enforced"].value is True


def test_a_threshold_that_is_not_a_share_stops_the_build(tmp_path, capsys):
    code, _ = run_build(tmp_path / "data", "--select", 'key:"raw/coco_karpathy"',
                        env={"MMASSETS_TRANSLATION_MAX_FLAGGED": "5%"})
    assert code == 2
    assert "MMASSETS_TRANSLATION_MAX_FLAGGED='5%': expected a share from 0 to 1, e.g. 0.05 for 5%" in capsys.readouterr().err


def test_the_sample_model_reports_without_enforcing(tmp_path, sample_raw, local_model):
    _, env = local_model
    data = tmp_path / "data"

    code, out = run_build(data, "--raw-dir", str(sample_raw), *SELECT,
                          env={"MMASSETS_LANGUAGES": env["MMASSETS_LANGUAGES"]})

    assert code == 0, out
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["translated", "coco_captions"]), "translation_gate")])
    evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
    assert evaluation.metadata["enforced"].value is False
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
