"""Tests for the Shikra-RD reader (GPT4GEN_RD_BoxCoT_train.jsonl): exact rows with line numbers, box
and box-sequence checks, broken lines named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources.shikra_rd import COLUMNS, RD_FILE, read_shikra_rd
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_jsonl


def _records() -> list[dict]:
    return [
        {"img_path": "918545497.jpg", "boxes": [[10, 20, 200, 300], [15.5, 40.0, 120.25, 90.0]],
         "question": "What is <ph_st>the man<ph_ed> holding?", "question_boxes_seq": [[0]],
         "answer": "A frisbee.",
         "cot_with_ans": "<ph_st>The man<ph_ed> holds <ph_st>a white disc<ph_ed>, so the answer is a frisbee.",
         "answer_boxes_seq": [[0], [1]]},
        {"img_path": "1000092795.jpg", "boxes": [[0, 0, 50, 50], [5, 5, 60, 60], [1, 2, 3, 4]],
         "question": "Are <ph_st>the two dogs<ph_ed> playing?", "question_boxes_seq": [[0, 1]],
         "answer": "Yes.", "cot_with_ans": "There are no markers here, so yes.", "answer_boxes_seq": []},
        {"img_path": "36979.jpg", "boxes": [], "question": "Are there any trees in the image?",
         "question_boxes_seq": None, "answer": "No.", "cot_with_ans": "No trees are visible, so the answer is no.",
         "answer_boxes_seq": None},
    ]


def _write(tmp_path: Path, records: list) -> Path:
    path = write_jsonl(tmp_path / RD_FILE, records)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0] + "\n" + "".join(lines[1:]), encoding="utf-8")  # a blank line 2: records on 1, 3, 4
    return path


def test_reads_every_record_with_its_line(tmp_path: Path) -> None:
    frame = read_shikra_rd(_write(tmp_path, _records()))
    assert tuple(frame.columns) == COLUMNS
    rows = frame.to_dict(orient="records")
    assert rows == [
        {"line": 1, "img_path": "918545497.jpg", "boxes": [[10.0, 20.0, 200.0, 300.0], [15.5, 40.0, 120.25, 90.0]],
         "question": "What is <ph_st>the man<ph_ed> holding?", "question_boxes_seq": [[0]], "answer": "A frisbee.",
         "cot_with_ans": "<ph_st>The man<ph_ed> holds <ph_st>a white disc<ph_ed>, so the answer is a frisbee.",
         "answer_boxes_seq": [[0], [1]]},
        {"line": 3, "img_path": "1000092795.jpg",
         "boxes": [[0.0, 0.0, 50.0, 50.0], [5.0, 5.0, 60.0, 60.0], [1.0, 2.0, 3.0, 4.0]],
         "question": "Are <ph_st>the two dogs<ph_ed> playing?", "question_boxes_seq": [[0, 1]], "answer": "Yes.",
         "cot_with_ans": "There are no markers here, so yes.", "answer_boxes_seq": []},
        {"line": 4, "img_path": "36979.jpg", "boxes": [], "question": "Are there any trees in the image?",
         "question_boxes_seq": None, "answer": "No.", "cot_with_ans": "No trees are visible, so the answer is no.",
         "answer_boxes_seq": None},
    ]
    assert all(isinstance(v, float) for box in rows[0]["boxes"] for v in box)


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _records())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:-30], encoding="utf-8")
    error = raw_error(read_shikra_rd, path, "line 4", "not valid JSON", "truncated")
    assert error.record == "line 4"


@pytest.mark.parametrize("field", ["img_path", "boxes", "question", "question_boxes_seq", "answer", "cot_with_ans",
                                   "answer_boxes_seq"])
def test_missing_field_names_the_line(tmp_path: Path, field: str) -> None:
    records = _records()
    del records[1][field]
    error = raw_error(read_shikra_rd, _write(tmp_path, records), "line 3", f"field {field!r}", "field missing")
    assert error.record == "line 3" and error.field == field


@pytest.mark.parametrize("field, value, problem", [
    ("boxes", [[0, 0, 50, 50], [5, 5, 60]], "box 1: expected [x0, y0, x1, y1] (4 finite numbers)"),
    ("boxes", [[0, 0, 50, "50"], [5, 5, 60, 60], [1, 2, 3, 4]], "box 0: expected [x0, y0, x1, y1]"),
    ("boxes", [[0, 0, 50, True], [5, 5, 60, 60], [1, 2, 3, 4]], "box 0: expected [x0, y0, x1, y1]"),
    ("boxes", "[[0, 0, 50, 50]]", "expected list, got str"),
    ("question_boxes_seq", [[0, 3]], "group 0: box index 3 is outside the record's 3 boxes"),
    ("question_boxes_seq", [[-1]], "group 0: box index -1 is outside the record's 3 boxes"),
    ("question_boxes_seq", [0, 1], "group 0: expected a list of box indices, got int"),
    ("question_boxes_seq", [[0.0]], "group 0: expected int box indices, got 0.0"),
    ("question_boxes_seq", [[True]], "group 0: expected int box indices, got True"),
    ("question_boxes_seq", "0", "expected a list of lists of box indices, got str"),
    ("question_boxes_seq", [[0], [1]], "2 box groups for the 1 <ph_ed> markers of 'question'"),
    ("answer_boxes_seq", [[2]], "1 box groups for the 0 <ph_ed> markers of 'cot_with_ans'"),
    ("img_path", "../../etc/passwd", "unsafe image path"),
    ("answer", None, "expected str, got NoneType"),
])
def test_broken_value_names_line_and_field(tmp_path: Path, field: str, value: object, problem: str) -> None:
    records = _records()
    records[1][field] = value
    error = raw_error(read_shikra_rd, _write(tmp_path, records), "line 3", f"field {field!r}", problem)
    assert error.field == field


def test_a_line_that_is_not_an_object(tmp_path: Path) -> None:
    records = _records()
    records[2] = ["918545497.jpg"]
    raw_error(read_shikra_rd, _write(tmp_path, records), "line 4", "expected an object")


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / RD_FILE
    path.parent.mkdir(parents=True)
    path.write_text("\n\n", encoding="utf-8")
    raw_error(read_shikra_rd, path, "holds no records", "broken download")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="shikras/shikra"):
        read_shikra_rd(tmp_path / RD_FILE)
