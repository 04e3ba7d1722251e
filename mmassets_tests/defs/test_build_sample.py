"""End to end: `mmassets build` on the sample profile, in a temporary DAGSTER_HOME and data folder."""

import contextlib
import re
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from mmassets.cli import main
from mmassets.defs.task_mix import TRAIN_TASKS
from mmassets.runner import instance_config
from mmassets.languages import LanguageTable, largest_remainder_counts
from mmassets.sample.coco import CAPTIONS_PER_IMAGE, SPLIT_COUNTS
from mmassets.sources.coco import image_path

TRAIN_EXPORTS = [f"train/{task}.json" for task in TRAIN_TASKS]
EXPORTS = [*TRAIN_EXPORTS, "train/task_mix.json", "train/task_mix.llava.json",
           "eval/coco_karpathy/val/en.json", "eval/coco_karpathy/val/en.coco.json",
           "eval/coco_karpathy/test/en.json", "eval/coco_karpathy/test/en.coco.json"]
ENV_KEYS = ["DAGSTER_HOME", "MMASSETS_PROFILE", "MMASSETS_DATA_DIR", "MMASSETS_RAW_DIR",
            "MMASSETS_TRANSLATOR_MODEL", "MMASSETS_SEED"]


def run_build(data_dir: Path, *args: str) -> tuple[int, str]:
    """`mmassets build` in-process with its own DAGSTER_HOME; the environment is restored after."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.MonkeyPatch.context() as mp:
        for key in ENV_KEYS:
            mp.delenv(key, raising=False)
        home = data_dir / "dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(instance_config())
        mp.setenv("DAGSTER_HOME", str(home))
        code = main(["build", "--data-dir", str(data_dir), *args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("build") / "data"
    return (*run_build(data_dir), data_dir)


def test_build_succeeds_and_writes_every_export(built):
    code, out, data_dir = built
    assert code == 0, out
    assert re.search(r"(\d+)/\1 assets materialized in \d+ runs; 0 failed checks", out), out
    for rel in EXPORTS:
        assert (data_dir / "exports" / rel).is_file(), rel


def test_train_export_is_the_mblip_format_with_every_language_slice(built):
    _, _, data_dir = built
    records = json.loads((data_dir / "exports/train/coco_captions.json").read_text(encoding="utf-8"))
    assert records and all(list(r) == ["context", "label", "image_id"] for r in records)
    assert all(r["context"].strip() and r["label"].strip() for r in records)
    raw = data_dir / "sample" / "raw"
    assert all(image_path(raw, r["image_id"]).is_file() for r in records)

    import pandas as pd

    translated = pd.read_parquet(data_dir / "assets/translated/coco_captions")
    n_english = (SPLIT_COUNTS["train"] + SPLIT_COUNTS["restval"]) * CAPTIONS_PER_IMAGE
    expected = largest_remainder_counts(n_english, LanguageTable.load().shares())
    actual = Counter(translated["language"])
    assert {k: v for k, v in expected.items() if v} == dict(actual)
    assert sorted(translated["source_index"]) == list(range(n_english))
    # every record of the train file is one of the translated ones, with non-English contexts rotated
    train = pd.read_parquet(data_dir / "assets/train/coco_captions.parquet")
    assert len(train) == len(records)
    assert set(train["language"]) <= set(actual)


def test_task_mix_merges_the_tasks_and_has_a_llava_view(built):
    _, _, data_dir = built
    mix = json.loads((data_dir / "exports/train/task_mix.json").read_text(encoding="utf-8"))
    tasks = [json.loads((data_dir / "exports" / rel).read_text(encoding="utf-8")) for rel in TRAIN_EXPORTS]
    assert all(tasks), "every train task has records on the sample"
    assert mix == [record for task in tasks for record in task]  # default: every task once, in task order
    llava = json.loads((data_dir / "exports/train/task_mix.llava.json").read_text(encoding="utf-8"))
    assert len(llava) == len(mix)
    first = llava[0]
    assert first["image"] == mix[0]["image_id"]
    assert first["conversations"][0] == {"from": "human", "value": "<image>\n" + mix[0]["context"]}
    assert first["conversations"][1] == {"from": "gpt", "value": mix[0]["label"]}


@pytest.mark.parametrize("split", ["val", "test"])
def test_eval_references_load_in_pycocotools_and_accept_predictions(built, split):
    _, _, data_dir = built
    folder = data_dir / "exports/eval/coco_karpathy" / split
    records = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    assert len(records) == SPLIT_COUNTS[split]
    assert all(r["label"] == "" and r["text_label"] == "en" for r in records)
    coco = COCO(str(folder / "en.coco.json"))
    assert sorted(coco.getImgIds()) == sorted(r["image_id"] for r in records)
    assert len(coco.getAnnIds()) == SPLIT_COUNTS[split] * CAPTIONS_PER_IMAGE
    results = coco.loadRes([{"image_id": r["image_id"], "caption": "a photo"} for r in records])
    assert len(results.getAnnIds()) == len(records)


def test_translated_partitions_are_recorded_in_the_instance(built):
    import dagster as dg

    _, _, data_dir = built
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    for name in ("coco_captions", "caption_instructions"):
        done = instance.get_materialized_partitions(dg.AssetKey(["translated", name]))
        assert done == set(LanguageTable.load().codes)


def test_same_inputs_and_seed_give_byte_identical_exports(built, tmp_path):
    _, _, data_dir = built
    again = tmp_path / "again"
    code, out = run_build(again)
    assert code == 0, out
    for rel in EXPORTS:
        assert (again / "exports" / rel).read_bytes() == (data_dir / "exports" / rel).read_bytes(), rel


def latest_metadata(instance, key: list[str], partition: str) -> dict:
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[partition]), limit=1).records
    return records[0].asset_materialization.metadata


def test_each_language_partition_records_its_translation_statistics(built):
    import dagster as dg

    _, _, data_dir = built
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    meta = latest_metadata(instance, ["translated", "caption_instructions"], "de")
    stats = meta["translation"].value
    assert stats["strings"] == 6 and stats["distinct strings"] == 6
    assert stats["model-translated strings"] + stats["memory hits"] == 6
    assert {"tokens/s", "padding fraction", "flagged"} <= set(stats)
    assert meta["dagster/row_count"].value >= 3  # at least the instructions naming the language
    assert "NOT meaningful" in meta["note"].value
    english = latest_metadata(instance, ["translated", "coco_captions"], "en")
    assert "translation" not in english  # English passes through


def test_rebuilding_in_the_same_folder_costs_no_model_time(built):
    import dagster as dg

    code, out, data_dir = built
    code, out = run_build(data_dir, "--select", "group:translated")
    assert code == 0, out
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    for language in ("de", "ru", "zh"):
        stats = latest_metadata(instance, ["translated", "caption_instructions"], language)["translation"].value
        assert stats["model-translated strings"] == 0 and stats["memory hits"] == 6, (language, stats)
    assert (data_dir / "translation_memory.sqlite").is_file()
