"""Tests for the MSCOCO Karpathy reader: the good sample file, and broken files that fail clearly."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from mmassets.sample.coco import CAPTIONS_PER_IMAGE, SPLIT_COUNTS, write_coco
from mmassets.sources.coco import COLUMNS, KARPATHY_FILE, image_path, read_karpathy
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_coco(raw, seed=0)
    return raw


@pytest.fixture
def good(sample_raw: Path) -> dict:
    return json.loads((sample_raw / KARPATHY_FILE).read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / "coco" / "dataset_coco.json", data)


def test_reads_the_sample(sample_raw: Path, good: dict) -> None:
    frame = read_karpathy(sample_raw / KARPATHY_FILE)
    assert len(frame) == sum(SPLIT_COUNTS.values()) == 40
    assert tuple(frame.columns) == COLUMNS
    assert Counter(frame["split"]) == SPLIT_COUNTS
    # rows in file order, captions are the raw sentences untouched
    assert frame["cocoid"].tolist() == [img["cocoid"] for img in good["images"]]
    assert frame["filename"].tolist() == [img["filename"] for img in good["images"]]
    assert frame["captions"].tolist() == [[s["raw"] for s in img["sentences"]] for img in good["images"]]
    assert all(len(caps) == CAPTIONS_PER_IMAGE for caps in frame["captions"])


def test_truncated_json(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / KARPATHY_FILE).read_text(encoding="utf-8")
    path = tmp_path / "dataset_coco.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(read_karpathy, path, "not valid JSON", "truncated")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "dataset_coco.json"
    path.write_bytes(b'{"images": [{"filename": "\xff\xfe"}]}')
    raw_error(read_karpathy, path, "not UTF-8")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / "coco" / "dataset_coco.json"
    with pytest.raises(RawFileMissing) as info:
        read_karpathy(path)
    assert str(path) in str(info.value)
    assert "caption_datasets.zip" in str(info.value)


def test_top_level_list(tmp_path: Path, good: dict) -> None:
    raw_error(read_karpathy, _write(tmp_path, good["images"]), "list")


def test_images_missing(tmp_path: Path) -> None:
    raw_error(read_karpathy, _write(tmp_path, {"dataset": "coco"}), "top level", "'images'", "field missing")


def _drop(field: str) -> Callable[[dict], None]:
    return lambda image: image.pop(field)


def _set(field: str, value: object) -> Callable[[dict], None]:
    return lambda image: image.__setitem__(field, value)


@pytest.mark.parametrize("change, parts", [
    (_drop("sentences"), ["field 'sentences'", "field missing"]),
    (_drop("filename"), ["field 'filename'", "field missing"]),
    (_drop("split"), ["field 'split'", "field missing"]),
    (_drop("cocoid"), ["field 'cocoid'", "field missing"]),
    (_set("split", "validation"), ["field 'split'", "unknown split 'validation'"]),
    (_set("split", 1), ["field 'split'", "expected str"]),
    (_set("cocoid", "391895"), ["field 'cocoid'", "expected int, got str"]),
    (_set("cocoid", True), ["field 'cocoid'", "expected int, got bool"]),
    (_set("sentences", "a dog"), ["field 'sentences'", "expected list"]),
    (lambda image: image["sentences"][2].pop("raw"), ["images[3].sentences[2]", "field 'raw'", "field missing"]),
    (lambda image: image["sentences"][0].__setitem__("raw", None), ["images[3].sentences[0]", "field 'raw'"]),
    (_set("filename", "/etc/passwd"), ["field 'filename'", "unsafe"]),
    (_set("filename", "../COCO_val2014_000000000042.jpg"), ["field 'filename'", "unsafe"]),
    (_set("filename", "val2014/../../secret.jpg"), ["field 'filename'", "unsafe"]),
    (_set("filename", "..\\..\\secret.jpg"), ["field 'filename'", "unsafe"]),
    (_set("filename", "C:\\images\\a.jpg"), ["field 'filename'", "unsafe"]),
    (_set("filename", ""), ["field 'filename'", "unsafe"]),
    (_set("filepath", "/val2014"), ["field 'filepath'", "unsafe"]),
])
def test_broken_record_names_file_record_and_field(tmp_path: Path, good: dict, change: Callable, parts: list) -> None:
    change(good["images"][3])
    raw_error(read_karpathy, _write(tmp_path, good), "images[3]", *parts)


def test_record_not_an_object(tmp_path: Path, good: dict) -> None:
    good["images"][5] = "COCO_val2014_000000000042.jpg"
    raw_error(read_karpathy, _write(tmp_path, good), "images[5]", "expected an object")


def test_duplicate_cocoid_names_both_records(tmp_path: Path, good: dict) -> None:
    good["images"][7]["cocoid"] = good["images"][2]["cocoid"]
    error = raw_error(read_karpathy, _write(tmp_path, good), "images[7]", "field 'cocoid'", "images[2]")
    assert error.record == "images[7]" and error.field == "cocoid"


def test_harmless_relative_path_is_normalised(tmp_path: Path, good: dict) -> None:
    good["images"][0]["filepath"] = "val2014/./"
    frame = read_karpathy(_write(tmp_path, good))
    assert frame["filepath"][0] == "val2014"


def test_image_path(tmp_path: Path) -> None:
    assert image_path(tmp_path, "COCO_val2014_000000000042.jpg") == \
        tmp_path / "coco" / "val2014" / "COCO_val2014_000000000042.jpg"
    assert image_path(tmp_path, "COCO_train2014_000000000009.jpg") == \
        tmp_path / "coco" / "train2014" / "COCO_train2014_000000000009.jpg"


def test_image_path_points_at_the_sample_images(sample_raw: Path) -> None:
    frame = read_karpathy(sample_raw / KARPATHY_FILE)
    for filepath, filename in zip(frame["filepath"], frame["filename"]):
        path = image_path(sample_raw, filename)
        assert path == sample_raw / "coco" / filepath / filename
        assert path.is_file()
