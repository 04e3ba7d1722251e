"""Tests for CHAIR: the reader of POPE's coco_ground_truth_segmentation.json and the eval records of
the COCO Karpathy val/test images."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mmassets.evalsets.chair import BENCHMARK, PROMPT, build, chair_records
from mmassets.sample.coco import SPLIT_COUNTS, write_coco
from mmassets.sample.pope import write_pope
from mmassets.sources.coco import KARPATHY_FILE, read_karpathy
from mmassets.sources.pope import SEGMENTATION_COLUMNS, SEGMENTATION_FILE, read_segmentation
from mmassets.sources.validation import RawFileMissing, RawFormatError


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_coco(raw, seed=0)
    write_pope(raw, seed=0)
    return raw


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_lines(path: Path, records: list[object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _karpathy(raw: Path, images: list[tuple[str, str]]) -> None:
    """A Karpathy file with ``(split, cocoid-as-str)`` images, all in val2014, one caption each."""
    entries = [{"filepath": "val2014", "filename": f"COCO_val2014_{int(cocoid):012d}.jpg", "split": split,
                "cocoid": int(cocoid), "sentences": [{"raw": "A dog.", "tokens": ["a", "dog"]}]}
               for split, cocoid in images]
    path = raw / KARPATHY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": entries, "dataset": "coco"}), encoding="utf-8")


# --- reader -------------------------------------------------------------------------------------

def test_reads_the_sample(sample_raw: Path) -> None:
    lines = _lines(sample_raw / SEGMENTATION_FILE)
    frame = read_segmentation(sample_raw / SEGMENTATION_FILE)
    assert tuple(frame.columns) == SEGMENTATION_COLUMNS
    assert frame.to_dict(orient="records") == lines
    # the COCO sample's val2014 images (one test image left out) and POPE's 3 own images
    val2014 = sum(n for split, n in SPLIT_COUNTS.items() if split != "train")
    assert len(frame) == val2014 - 1 + 3
    assert sum(not objects for objects in frame["objects"]) == 1


def test_truncated_line(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / SEGMENTATION_FILE).read_text(encoding="utf-8")
    path = tmp_path / "coco_ground_truth_segmentation.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(RawFormatError, match="not valid JSON") as info:
        read_segmentation(path)
    assert str(path) in str(info.value) and info.value.record.startswith("line ")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / SEGMENTATION_FILE
    with pytest.raises(RawFileMissing) as info:
        read_segmentation(path)
    assert str(path) in str(info.value) and "coco_ground_truth_segmentation.json" in str(info.value)


@pytest.mark.parametrize("field", ["image", "objects"])
def test_missing_field_names_file_line_and_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    lines = _lines(sample_raw / SEGMENTATION_FILE)
    lines[3].pop(field)
    path = _write_lines(tmp_path / "seg.json", lines)
    with pytest.raises(RawFormatError) as info:
        read_segmentation(path)
    message = str(info.value)
    assert str(path) in message and "line 4" in message and f"field {field!r}" in message and "field missing" in message


@pytest.mark.parametrize("record, field, problem", [
    ({"image": "COCO_val2014_000000000001.jpg", "objects": "dog"}, "objects", "expected list"),
    ({"image": "COCO_val2014_000000000001.jpg", "objects": ["dog", None]}, "objects", "item 1 is NoneType"),
    ({"image": 1, "objects": ["dog"]}, "image", "expected str"),
    ({"image": "/val2014/COCO_val2014_000000000001.jpg", "objects": ["dog"]}, "image", "unsafe"),
    ({"image": "../COCO_val2014_000000000001.jpg", "objects": ["dog"]}, "image", "unsafe"),
])
def test_bad_value_names_file_line_and_field(tmp_path: Path, record: dict, field: str, problem: str) -> None:
    path = _write_lines(tmp_path / "seg.json", [{"image": "COCO_val2014_000000000009.jpg", "objects": []}, record])
    with pytest.raises(RawFormatError) as info:
        read_segmentation(path)
    assert "line 2" in str(info.value) and f"field {field!r}" in str(info.value) and problem in str(info.value)


def test_duplicate_image_names_both_lines(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "seg.json", [{"image": "COCO_val2014_000000000009.jpg", "objects": ["cat"]},
                                                {"image": "COCO_val2014_000000000010.jpg", "objects": ["dog"]},
                                                {"image": "val2014/COCO_val2014_000000000009.jpg", "objects": []}])
    with pytest.raises(RawFormatError, match="line 1") as info:
        read_segmentation(path)
    assert info.value.record == "line 3" and info.value.field == "image"


def test_folder_part_of_image_is_dropped(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "seg.json", [{"image": "val2014/COCO_val2014_000000000009.jpg",
                                                 "objects": ["cat"], "image_id": 9}])
    assert read_segmentation(path)["image"].tolist() == ["COCO_val2014_000000000009.jpg"]


# --- builder ------------------------------------------------------------------------------------

def test_build_exact_records_and_skip_count(tmp_path: Path) -> None:
    _karpathy(tmp_path, [("test", "5"), ("train", "6"), ("val", "7"), ("val", "8"), ("restval", "9"),
                         ("test", "10"), ("val", "11"), ("test", "12")])
    name = "COCO_val2014_{:012d}.jpg".format
    _write_lines(tmp_path / SEGMENTATION_FILE, [
        {"image": name(12), "objects": ["dog", "frisbee"]},
        {"image": name(7), "objects": ["person"]},
        {"image": name(8), "objects": []},           # no objects: skipped
        {"image": name(5), "objects": ["bus", "car", "person"]},
        {"image": name(9), "objects": ["cat"]},      # restval: not a CHAIR image
        {"image": name(99), "objects": ["cow"]},     # not in the Karpathy file
        # 10 (test) and 11 (val) are absent: skipped
    ])
    parts = build(tmp_path, ["en"])
    assert list(parts) == ["en"]
    expected = pd.DataFrame({
        "context": [PROMPT] * 3,
        "label": ["", "", ""],
        "image_id": [name(7), name(5), name(12)],
        "text_label": [["person"], ["bus", "car", "person"], ["dog", "frisbee"]],
        "split": ["val", "test", "test"],
    }, dtype=object)
    pd.testing.assert_frame_equal(parts["en"].records, expected)
    assert parts["en"].skipped == {"val: no objects": 1, "val: image not in the object file": 1,
                                   "test: image not in the object file": 1}
    assert build(tmp_path, []) == {}
    with pytest.raises(ValueError):
        build(tmp_path, ["de"])


def test_build_needs_the_karpathy_file(tmp_path: Path) -> None:
    _write_lines(tmp_path / SEGMENTATION_FILE, [{"image": "COCO_val2014_000000000009.jpg", "objects": ["cat"]}])
    with pytest.raises(RawFileMissing, match="dataset_coco.json"):
        build(tmp_path, ["en"])


def test_chair_records_keep_karpathy_order() -> None:
    images = pd.DataFrame({"split": ["val", "val"], "filename": ["b.jpg", "a.jpg"]})
    objects = pd.DataFrame({"image": ["a.jpg", "b.jpg"], "objects": [["x"], ["y"]]}, dtype=object)
    records, skipped = chair_records(images, objects, "val")
    assert records["image_id"].tolist() == ["b.jpg", "a.jpg"] and skipped == {}


def test_benchmark_declaration() -> None:
    assert BENCHMARK.name == "chair" and BENCHMARK.languages == ("en",) and BENCHMARK.extra_fields == ()


# --- sample -------------------------------------------------------------------------------------

def test_sample_builds_with_its_skips_and_every_image_exists(sample_raw: Path) -> None:
    part = build(sample_raw, ["en"])["en"]
    karpathy = read_karpathy(sample_raw / KARPATHY_FILE)
    assert part.skipped == {"val: no objects": 1, "test: image not in the object file": 1}
    assert part.records["split"].value_counts().to_dict() == {"val": SPLIT_COUNTS["val"] - 1,
                                                              "test": SPLIT_COUNTS["test"] - 1}
    chair_images = set(karpathy.loc[karpathy["split"].isin(["val", "test"]), "filename"])
    assert set(part.records["image_id"]) < chair_images
    assert all(labels and all(isinstance(o, str) for o in labels) for labels in part.records["text_label"])
    for image_id in part.records["image_id"]:
        path = BENCHMARK.image_path(sample_raw, image_id)
        assert path == sample_raw / "coco" / "val2014" / image_id
        with Image.open(path) as im:
            assert im.format == "JPEG"
