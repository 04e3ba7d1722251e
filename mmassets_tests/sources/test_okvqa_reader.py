"""Tests for the OK-VQA readers: VQA-format questions, annotations without ``multiple_choice_answer``
(which VQAv2's reader requires), the join on question_id, broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources import vqav2
from mmassets.sources.okvqa import (ANNOTATIONS_FILE, JOINED_COLUMNS, QUESTIONS_FILE, read_okvqa,
                                    read_okvqa_annotations, read_okvqa_questions)
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _answers(*words: str) -> list[dict]:
    return [{"answer_id": i + 1, "raw_answer": w, "answer_confidence": "yes", "answer": w} for i, w in enumerate(words)]


def _questions() -> dict:
    return {"license": {}, "data_subtype": "train2014", "task_type": "Open-Ended", "info": {},
            "data_type": "mscoco", "questions": [
                {"image_id": 522741, "question": "For what meal is the food consumed?", "question_id": 5227415},
                {"image_id": 9, "question": "What sport can you use this for?", "question_id": 95},
                {"image_id": 25, "question": "Where is this animal found?", "question_id": 255}]}


def _annotations() -> dict:
    return {"license": {}, "data_subtype": "train2014", "info": {}, "data_type": "mscoco", "annotations": [
        {"image_id": 9, "answer_type": "other", "question_type": "four", "question_id": 95,
         "answers": _answers("race", "race", "motocross", "motocross", "race"), "confidence": 3},
        {"image_id": 522741, "answer_type": "other", "question_type": "five", "question_id": 5227415,
         "answers": _answers("breakfast", "breakfast", "brunch", "breakfast", "breakfast"), "confidence": 2},
        {"image_id": 26, "answer_type": "other", "question_type": "eight", "question_id": 255,
         "answers": _answers("africa"), "confidence": 3}]}


def _write(tmp_path: Path) -> tuple[Path, Path]:
    return write_json(tmp_path / QUESTIONS_FILE, _questions()), write_json(tmp_path / ANNOTATIONS_FILE, _annotations())


def test_vqav2s_annotation_reader_does_not_fit_okvqa(tmp_path: Path) -> None:
    _, annotations = _write(tmp_path)
    raw_error(vqav2.read_annotations, annotations, "annotations[0]", "field 'multiple_choice_answer'")


def test_reads_and_joins_on_question_id(tmp_path: Path) -> None:
    questions, annotations = _write(tmp_path)
    assert read_okvqa_questions(questions)["question_id"].tolist() == [5227415, 95, 255]
    assert read_okvqa_annotations(annotations).to_dict(orient="records")[0] == {
        "question_id": 95, "image_id": 9, "multiple_choice_answer": None,
        "answers": ["race", "race", "motocross", "motocross", "race"], "answer_type": "other",
        "question_type": "four"}
    joined, counts = read_okvqa(questions, annotations)
    assert tuple(joined.columns) == JOINED_COLUMNS
    assert joined.to_dict(orient="records") == [
        {"question_id": 5227415, "image_id": 522741, "question": "For what meal is the food consumed?",
         "multiple_choice_answer": None, "answers": ["breakfast", "breakfast", "brunch", "breakfast", "breakfast"],
         "answer_type": "other", "question_type": "five"},
        {"question_id": 95, "image_id": 9, "question": "What sport can you use this for?",
         "multiple_choice_answer": None, "answers": ["race", "race", "motocross", "motocross", "race"],
         "answer_type": "other", "question_type": "four"}]
    assert counts == {"question without annotation": 0, "annotation without question": 0, "image_id differs": 1}


def test_a_multiple_choice_answer_where_present_is_read(tmp_path: Path) -> None:
    data = _annotations()
    data["annotations"][0]["multiple_choice_answer"] = "race"
    frame = read_okvqa_annotations(write_json(tmp_path / ANNOTATIONS_FILE, data))
    assert frame["multiple_choice_answer"].tolist() == ["race", None, None]


def test_malformed_json(tmp_path: Path) -> None:
    questions, annotations = _write(tmp_path)
    annotations.write_text(annotations.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    raw_error(read_okvqa_annotations, annotations, "not valid JSON", "truncated")


@pytest.mark.parametrize("field", ["question_id", "image_id", "answers"])
def test_annotation_missing_field(tmp_path: Path, field: str) -> None:
    data = _annotations()
    del data["annotations"][2][field]
    raw_error(read_okvqa_annotations, write_json(tmp_path / ANNOTATIONS_FILE, data), "annotations[2]",
              f"field {field!r}", "field missing")


def test_answer_missing_and_duplicate_question(tmp_path: Path) -> None:
    data = _annotations()
    del data["annotations"][1]["answers"][3]["answer"]
    raw_error(read_okvqa_annotations, write_json(tmp_path / ANNOTATIONS_FILE, data), "annotations[1].answers[3]",
              "field 'answer'")
    data = _annotations()
    data["annotations"][2]["question_id"] = 95
    raw_error(read_okvqa_annotations, write_json(tmp_path / ANNOTATIONS_FILE, data), "annotations[2]",
              "question_id 95 also in annotations[0]")


def test_question_missing_field(tmp_path: Path) -> None:
    data = _questions()
    del data["questions"][1]["question"]
    raw_error(read_okvqa_questions, write_json(tmp_path / QUESTIONS_FILE, data), "questions[1]", "field 'question'")


def test_top_level_and_empty(tmp_path: Path) -> None:
    path = tmp_path / ANNOTATIONS_FILE
    raw_error(read_okvqa_annotations, write_json(path, _annotations()["annotations"]), "expected a JSON object")
    raw_error(read_okvqa_annotations, write_json(path, {"info": {}, "annotations": []}), "holds no annotations")


@pytest.mark.parametrize("which", ["questions", "annotations"])
def test_missing_file_says_where_to_get_okvqa(tmp_path: Path, which: str) -> None:
    questions, annotations = _write(tmp_path)
    (questions if which == "questions" else annotations).unlink()
    with pytest.raises(RawFileMissing, match="okvqa.allenai.org"):
        read_okvqa(questions, annotations)
