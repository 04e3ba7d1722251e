"""Tests for the streamed GQA balanced-questions reader: exact rows (question ids as written), and
broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources import gqa_questions
from mmassets.sources.gqa_questions import COLUMNS, QUESTIONS_FILE, read_gqa_questions
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _questions() -> dict:
    extra = {"semantic": [{"operation": "select", "dependencies": [], "argument": "sky (2486325)"}],
             "entailed": ["02930160"], "equivalent": ["02930152"], "types": {"structural": "verify"},
             "annotations": {"answer": {}, "question": {"2": "2486325"}, "fullAnswer": {"2": "2486325"}},
             "semanticStr": "select: sky (2486325)->verify color: dark", "isBalanced": True,
             "groups": {"global": None, "local": "06-sky_dark"}}
    return {
        "02930152": {"imageId": "2354786", "question": "Is the sky dark?", "answer": "yes",
                     "fullAnswer": "Yes, the sky is dark.", **extra},
        "05145757": {"imageId": "2327022", "question": "Who wears a shirt?", "answer": "player",
                     "fullAnswer": "The player wears a shirt.", **extra},
        "191942": {"imageId": "n235859", "question": "What color is the \u00e9clair?", "answer": "brown",
                   "fullAnswer": "The \u00e9clair is brown.", **extra},
    }


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / QUESTIONS_FILE, data)


def test_reads_questions_exactly_in_file_order(tmp_path: Path) -> None:
    frame = read_gqa_questions(_write(tmp_path, _questions()))
    assert tuple(frame.columns) == COLUMNS
    assert frame.to_dict(orient="records") == [
        {"question_id": "02930152", "image_id": "2354786", "question": "Is the sky dark?", "answer": "yes",
         "full_answer": "Yes, the sky is dark."},
        {"question_id": "05145757", "image_id": "2327022", "question": "Who wears a shirt?", "answer": "player",
         "full_answer": "The player wears a shirt."},
        {"question_id": "191942", "image_id": "n235859", "question": "What color is the \u00e9clair?",
         "answer": "brown", "full_answer": "The \u00e9clair is brown."},
    ]


def test_chunks_join_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gqa_questions, "CHUNK", 2)
    data = {f"{i:08d}": {"imageId": str(i), "question": f"q{i}", "answer": "a", "fullAnswer": "A."} for i in range(5)}
    frame = read_gqa_questions(_write(tmp_path, data))
    assert frame["question_id"].tolist() == list(data) and frame.index.tolist() == list(range(5))


def test_an_integer_image_id_is_written_as_a_string(tmp_path: Path) -> None:
    data = _questions()
    data["02930152"]["imageId"] = 2354786
    assert read_gqa_questions(_write(tmp_path, data))["image_id"].tolist()[0] == "2354786"


def test_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path, _questions())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('"191942"') + 30], encoding="utf-8")  # cut inside the third question
    raw_error(read_gqa_questions, path, "not valid JSON after question '05145757'", "premature EOF", "truncated")
    path.write_text(text.replace('"answer": "player"', '"answer": ,'), encoding="utf-8")
    raw_error(read_gqa_questions, path, "not valid JSON")


@pytest.mark.parametrize("field", ["imageId", "question", "answer", "fullAnswer"])
def test_missing_field_names_the_question(tmp_path: Path, field: str) -> None:
    data = _questions()
    del data["05145757"][field]
    error = raw_error(read_gqa_questions, _write(tmp_path, data), "question '05145757'", f"field {field!r}",
                      "field missing")
    assert error.record == "question '05145757'" and error.field == field


@pytest.mark.parametrize("field, value, problem", [("answer", 3, "expected str, got int"),
                                                   ("imageId", True, "expected str/int, got bool"),
                                                   ("imageId", "../../x", "unsafe image path")])
def test_broken_value(tmp_path: Path, field: str, value: object, problem: str) -> None:
    data = _questions()
    data["191942"][field] = value
    raw_error(read_gqa_questions, _write(tmp_path, data), "question '191942'", f"field {field!r}", problem)


def test_repeated_question_id(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"1": {"imageId": "1", "question": "q", "answer": "a", "fullAnswer": "A."}, '
                    '"1": {"imageId": "2", "question": "q", "answer": "a", "fullAnswer": "A."}}', encoding="utf-8")
    raw_error(read_gqa_questions, path, "question '1'", "question id repeated")


def test_top_level_and_empty(tmp_path: Path) -> None:
    raw_error(read_gqa_questions, _write(tmp_path, list(_questions().values())),
              "expected a JSON object keyed by question id")
    raw_error(read_gqa_questions, _write(tmp_path, {}), "holds no questions", "broken download")
    path = tmp_path / "empty.json"
    path.write_bytes(b"  \n")
    raw_error(read_gqa_questions, path, "the file is empty")
    raw_error(read_gqa_questions, _write(tmp_path, {"1": "Is the sky dark?"}), "question '1'", "expected an object")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="questions1.2.zip"):
        read_gqa_questions(tmp_path / QUESTIONS_FILE)
