"""Tests for Karpathy's Flickr30k split file reader (``flickr30k/dataset_flickr30k.json``): exact rows,
and broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources.flickr import KARPATHY_COLUMNS, KARPATHY_FLICKR30K_FILE, read_karpathy_flickr
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _sentence(imgid: int, sentid: int, raw: str) -> dict:
    return {"tokens": raw.lower().rstrip(" .").split(), "raw": raw, "imgid": imgid, "sentid": sentid}


def _dataset() -> dict:
    first = ["Two young guys with shaggy hair look at their hands while hanging out in the yard .",
             "Two young , White males are outside near many bushes .",
             "Two men in green shirts are standing in a yard .",
             "A man in a blue shirt standing in a garden .",
             "Two friends enjoy time spent together ."]
    return {"images": [
        {"sentids": [0, 1, 2, 3, 4], "imgid": 0, "sentences": [_sentence(0, i, s) for i, s in enumerate(first)],
         "split": "train", "filename": "1000092795.jpg"},
        {"sentids": [5], "imgid": 1, "sentences": [_sentence(1, 5, "A dog runs .")], "split": "val",
         "filename": "10002456.jpg"},
        {"sentids": [], "imgid": 2, "sentences": [], "split": "test", "filename": "1000268201.jpg"},
    ], "dataset": "flickr30k"}


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / KARPATHY_FLICKR30K_FILE, data)


def test_reads_images_and_raw_captions_exactly(tmp_path: Path) -> None:
    frame = read_karpathy_flickr(_write(tmp_path, _dataset()))
    assert tuple(frame.columns) == KARPATHY_COLUMNS
    assert frame.to_dict(orient="records") == [
        {"imgid": 0, "split": "train", "filename": "1000092795.jpg", "captions": [
            "Two young guys with shaggy hair look at their hands while hanging out in the yard .",
            "Two young , White males are outside near many bushes .",
            "Two men in green shirts are standing in a yard .",
            "A man in a blue shirt standing in a garden .",
            "Two friends enjoy time spent together ."]},
        {"imgid": 1, "split": "val", "filename": "10002456.jpg", "captions": ["A dog runs ."]},
        {"imgid": 2, "split": "test", "filename": "1000268201.jpg", "captions": []},
    ]


def test_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path, _dataset())
    path.write_text(path.read_text(encoding="utf-8")[:-50], encoding="utf-8")
    raw_error(read_karpathy_flickr, path, "not valid JSON", "truncated")


@pytest.mark.parametrize("field", ["imgid", "split", "filename", "sentences"])
def test_missing_field_names_file_record_and_field(tmp_path: Path, field: str) -> None:
    data = _dataset()
    del data["images"][1][field]
    error = raw_error(read_karpathy_flickr, _write(tmp_path, data), "images[1]", f"field {field!r}", "field missing")
    assert error.record == "images[1]" and error.field == field


def test_sentence_without_raw(tmp_path: Path) -> None:
    data = _dataset()
    del data["images"][0]["sentences"][3]["raw"]
    raw_error(read_karpathy_flickr, _write(tmp_path, data), "images[0].sentences[3]", "field 'raw'", "field missing")


@pytest.mark.parametrize("field, value, problem", [
    ("split", "restval", "unknown split 'restval'"),
    ("imgid", "1", "expected int, got str"),
    ("imgid", 0, "imgid 0 also in images[0]"),
    ("filename", "../1.jpg", "unsafe image path"),
    ("sentences", "A dog runs .", "expected list, got str"),
])
def test_broken_value(tmp_path: Path, field: str, value: object, problem: str) -> None:
    data = _dataset()
    data["images"][1][field] = value
    raw_error(read_karpathy_flickr, _write(tmp_path, data), "images[1]", f"field {field!r}", problem)


def test_top_level_and_empty(tmp_path: Path) -> None:
    raw_error(read_karpathy_flickr, _write(tmp_path, _dataset()["images"]), "expected a JSON object with 'images'")
    raw_error(read_karpathy_flickr, _write(tmp_path, {"dataset": "flickr30k"}), "top level", "field 'images'")
    raw_error(read_karpathy_flickr, _write(tmp_path, {"images": [], "dataset": "flickr30k"}), "holds no images")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="caption_datasets.zip"):
        read_karpathy_flickr(tmp_path / KARPATHY_FLICKR30K_FILE)
