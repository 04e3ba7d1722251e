"""Tests for the TextVQA and TextCaps readers: hand-made files in the upstream layout read to exact
rows, and broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources.textvqa import (TEXTCAPS_COLUMNS, TEXTCAPS_FILE, TEXTVQA_COLUMNS, TEXTVQA_FILE, read_textcaps,
                                      read_textvqa)
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json

ANSWERS = ["chateau garraud"] * 6 + ["garraud"] * 2 + ["chateau garraud lalande de pomerol", "pomerol"]


def _textvqa() -> dict:
    return {"data": [
        {"question": "what brand of wine is this?", "image_id": "03b2dbb7dff0e32d",
         "image_classes": ["Wine", "Bottle"], "flickr_original_url": "https://farm.x/1.jpg",
         "flickr_300k_url": "https://farm.x/1_z.jpg", "image_width": 1024, "image_height": 768,
         "answers": ANSWERS, "question_tokens": ["what", "brand", "of", "wine", "is", "this"], "question_id": 34601,
         "set_name": "train"},
        {"question": "what number is on the jersey?", "image_id": "0054c91397f2fe05", "answers": ["22"] * 10,
         "question_id": 7, "set_name": "train"},
        {"question": "what time is it?", "image_id": "00685bc495504d61", "answers": ["3:15"] * 10,
         "question_id": 8, "image_width": 683.0, "image_height": None, "set_name": "train"},
    ], "dataset_type": "train", "dataset_name": "textvqa", "dataset_version": "0.5.1"}


def _textcaps() -> dict:
    return {"data": [
        {"image_id": "011e7e629fb9ae7b", "image_classes": ["Bottle"], "flickr_original_url": "https://farm.x/2.jpg",
         "flickr_300k_url": "https://farm.x/2_z.jpg", "image_width": 1024, "image_height": 683,
         "set_name": "train", "image_name": "011e7e629fb9ae7b", "image_path": "train/011e7e629fb9ae7b.jpg",
         "caption_id": 0, "caption_str": "Five Listerine Zero mouthwash bottles on a store shelf",
         "caption_tokens": ["five", "listerine", "zero", "mouthwash", "bottles", "on", "a", "store", "shelf"],
         "reference_strs": ["Five Listerine Zero mouthwash bottles on a store shelf"] * 5,
         "reference_tokens": [["five"]] * 5},
        {"image_id": "011e7e629fb9ae7b", "caption_id": 1, "caption_str": "Bottles of mouthwash.",
         "image_width": 1024, "image_height": 683},
        {"image_id": "0a0bc91825468c45", "caption_id": 2, "caption_str": "A sign reads OPEN."},
    ], "dataset_type": "train", "dataset_name": "textcaps", "dataset_version": "0.1"}


def test_reads_textvqa_exactly(tmp_path: Path) -> None:
    frame = read_textvqa(write_json(tmp_path / TEXTVQA_FILE, _textvqa()))
    assert tuple(frame.columns) == TEXTVQA_COLUMNS
    assert frame.to_dict(orient="records") == [
        {"question_id": 34601, "question": "what brand of wine is this?", "image_id": "03b2dbb7dff0e32d",
         "answers": ANSWERS, "image_width": 1024, "image_height": 768},
        {"question_id": 7, "question": "what number is on the jersey?", "image_id": "0054c91397f2fe05",
         "answers": ["22"] * 10, "image_width": None, "image_height": None},
        {"question_id": 8, "question": "what time is it?", "image_id": "00685bc495504d61", "answers": ["3:15"] * 10,
         "image_width": 683, "image_height": None},
    ]
    assert type(frame["image_width"].tolist()[2]) is int


def test_reads_textcaps_exactly(tmp_path: Path) -> None:
    frame = read_textcaps(write_json(tmp_path / TEXTCAPS_FILE, _textcaps()))
    assert tuple(frame.columns) == TEXTCAPS_COLUMNS
    assert frame.to_dict(orient="records") == [
        {"caption_id": 0, "image_id": "011e7e629fb9ae7b",
         "caption": "Five Listerine Zero mouthwash bottles on a store shelf", "image_width": 1024,
         "image_height": 683},
        {"caption_id": 1, "image_id": "011e7e629fb9ae7b", "caption": "Bottles of mouthwash.", "image_width": 1024,
         "image_height": 683},
        {"caption_id": 2, "image_id": "0a0bc91825468c45", "caption": "A sign reads OPEN.", "image_width": None,
         "image_height": None},
    ]


@pytest.mark.parametrize("read, name, data", [(read_textvqa, TEXTVQA_FILE, _textvqa()),
                                              (read_textcaps, TEXTCAPS_FILE, _textcaps())])
def test_malformed_json(tmp_path: Path, read, name: str, data: dict) -> None:
    path = write_json(tmp_path / name, data)
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    raw_error(read, path, "not valid JSON", "truncated")


@pytest.mark.parametrize("field", ["question_id", "question", "image_id", "answers"])
def test_textvqa_missing_field(tmp_path: Path, field: str) -> None:
    data = _textvqa()
    del data["data"][1][field]
    error = raw_error(read_textvqa, write_json(tmp_path / TEXTVQA_FILE, data), "data[1]", f"field {field!r}",
                      "field missing")
    assert error.record == "data[1]"


@pytest.mark.parametrize("field", ["caption_id", "image_id", "caption_str"])
def test_textcaps_missing_field(tmp_path: Path, field: str) -> None:
    data = _textcaps()
    del data["data"][2][field]
    raw_error(read_textcaps, write_json(tmp_path / TEXTCAPS_FILE, data), "data[2]", f"field {field!r}",
              "field missing")


@pytest.mark.parametrize("field, value, problem", [
    ("question_id", "34601", "expected int, got str"),
    ("answers", ["a", 3], "item 1: expected str, got int"),
    ("image_width", 10.5, "expected a positive int, got 10.5"),
    ("image_height", "768", "expected a positive int, got '768'"),
    ("image_height", 0, "expected a positive int, got 0"),
    ("image_id", "../x", "unsafe image path"),
])
def test_textvqa_broken_value(tmp_path: Path, field: str, value: object, problem: str) -> None:
    data = _textvqa()
    data["data"][0][field] = value
    raw_error(read_textvqa, write_json(tmp_path / TEXTVQA_FILE, data), "data[0]", f"field {field!r}", problem)


@pytest.mark.parametrize("read, name", [(read_textvqa, TEXTVQA_FILE), (read_textcaps, TEXTCAPS_FILE)])
def test_top_level(tmp_path: Path, read, name: str) -> None:
    raw_error(read, write_json(tmp_path / name, [{"question_id": 1}]), "expected a JSON object with 'data'")
    raw_error(read, write_json(tmp_path / name, {"dataset_type": "train"}), "top level", "field 'data'")
    raw_error(read, write_json(tmp_path / name, {"data": []}), "holds no items", "broken download")


@pytest.mark.parametrize("read, name, hint", [(read_textvqa, TEXTVQA_FILE, "TextVQA_0.5.1_train.json"),
                                              (read_textcaps, TEXTCAPS_FILE, "TextCaps_0.1_train.json")])
def test_missing_file_says_where_to_get_it(tmp_path: Path, read, name: str, hint: str) -> None:
    with pytest.raises(RawFileMissing, match=hint):
        read(tmp_path / name)
