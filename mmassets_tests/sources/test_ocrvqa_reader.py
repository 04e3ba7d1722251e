"""Tests for the OCR-VQA reader: a hand-made dataset.json read to exact rows, and broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources.ocrvqa import COLUMNS, DATASET_FILE, read_ocrvqa
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _dataset() -> dict:
    return {
        "761183272": {"imageURL": "http://ecx.images-amazon.com/images/I/61Y5cOdHJbL.jpg",
                      "questions": ["Who wrote this book?", "What is the genre of this book?",
                                    "Is this a games related book?"],
                      "answers": ["Sandra Boynton", "Calendars", "No"],
                      "title": "Mom's Family Wall Calendar 2016", "authorName": "Sandra Boynton",
                      "genre": "Calendars", "split": 1},
        "1400013011": {"imageURL": "http://ecx.images-amazon.com/images/I/51abc.gif",
                       "questions": ["Is this book related to Law?"], "answers": ["No"],
                       "title": "A Book", "authorName": "Someone", "genre": "Travel", "split": 3},
        "0002": {"imageURL": "http://ecx.images-amazon.com/images/I/x.jpg", "questions": [], "answers": [],
                 "title": "Empty", "authorName": "Nobody", "genre": "Travel", "split": 2},
        "B00ABC": {"imageURL": "http://ecx.images-amazon.com/images/I/y.jpg", "questions": ["Who wrote it?"],
                   "answers": ["Ö. Author"], "title": "T", "authorName": "Ö. Author", "genre": "Arts", "split": 2},
    }


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / DATASET_FILE, data)


def test_reads_one_row_per_question_in_file_order(tmp_path: Path) -> None:
    frame = read_ocrvqa(_write(tmp_path, _dataset()))
    assert tuple(frame.columns) == COLUMNS
    url = "http://ecx.images-amazon.com/images/I/"
    assert frame.to_dict(orient="records") == [
        {"asin": "761183272", "image_url": url + "61Y5cOdHJbL.jpg", "question": "Who wrote this book?",
         "answer": "Sandra Boynton", "split": "train"},
        {"asin": "761183272", "image_url": url + "61Y5cOdHJbL.jpg", "question": "What is the genre of this book?",
         "answer": "Calendars", "split": "train"},
        {"asin": "761183272", "image_url": url + "61Y5cOdHJbL.jpg", "question": "Is this a games related book?",
         "answer": "No", "split": "train"},
        {"asin": "1400013011", "image_url": url + "51abc.gif", "question": "Is this book related to Law?",
         "answer": "No", "split": "test"},
        {"asin": "B00ABC", "image_url": url + "y.jpg", "question": "Who wrote it?", "answer": "Ö. Author",
         "split": "val"},
    ]


def test_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path, _dataset())
    path.write_text(path.read_text(encoding="utf-8")[:-25], encoding="utf-8")
    raw_error(read_ocrvqa, path, "not valid JSON", "truncated")


@pytest.mark.parametrize("field", ["imageURL", "questions", "answers", "split"])
def test_missing_field_names_the_asin(tmp_path: Path, field: str) -> None:
    data = _dataset()
    del data["1400013011"][field]
    error = raw_error(read_ocrvqa, _write(tmp_path, data), "ASIN '1400013011'", f"field {field!r}", "field missing")
    assert error.record == "ASIN '1400013011'" and error.field == field


def test_mismatched_question_and_answer_lists(tmp_path: Path) -> None:
    data = _dataset()
    data["761183272"]["answers"].pop()
    error = raw_error(read_ocrvqa, _write(tmp_path, data), "ASIN '761183272'", "3 questions but 2 answers")
    assert error.field == "answers"


@pytest.mark.parametrize("field, value, problem", [
    ("split", 4, "unknown split 4"),
    ("split", "1", "expected int, got str"),
    ("split", True, "expected int, got bool"),
    ("questions", ["Who?", None, "What?"], "item 1: expected str, got NoneType"),
    ("answers", "Calendars", "expected list, got str"),
    ("imageURL", None, "expected str, got NoneType"),
])
def test_broken_value(tmp_path: Path, field: str, value: object, problem: str) -> None:
    data = _dataset()
    data["761183272"][field] = value
    raw_error(read_ocrvqa, _write(tmp_path, data), "ASIN '761183272'", f"field {field!r}", problem)


@pytest.mark.parametrize("asin", ["../etc", "a/b", "/abs"])
def test_an_asin_must_be_a_file_name(tmp_path: Path, asin: str) -> None:
    data = {asin: _dataset()["761183272"]}
    raw_error(read_ocrvqa, _write(tmp_path, data), f"ASIN {asin!r}", "field 'ASIN'")


def test_top_level_and_empty(tmp_path: Path) -> None:
    raw_error(read_ocrvqa, _write(tmp_path, list(_dataset().values())), "expected a JSON object keyed by ASIN")
    raw_error(read_ocrvqa, _write(tmp_path, {}), "holds no records")
    raw_error(read_ocrvqa, _write(tmp_path, {"761183272": "a book"}), "ASIN '761183272'", "expected an object")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="ocr-vqa.github.io"):
        read_ocrvqa(tmp_path / DATASET_FILE)
