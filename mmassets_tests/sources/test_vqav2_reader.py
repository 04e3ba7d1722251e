"""Tests for the VQAv2 readers on the sample train2014 files, and for that part of the sample generator
(val2014 is covered by mmassets_tests/evalsets/test_vqav2_val.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from mmassets.sample.vqav2 import QUESTIONS_PER_IMAGE, TRAIN_ID_RANGE, TRAIN_IMAGES, write_vqav2
from mmassets.sources.vqav2 import (ANNOTATION_COLUMNS, QUESTION_COLUMNS, annotations_file, image_file_name,
                                    questions_file, read_annotations, read_questions)

from raw_files import raw_error, write_json

QUESTIONS = questions_file("train2014")
ANNOTATIONS = annotations_file("train2014")


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_vqav2(raw, seed=0)
    return raw


def _load(raw: Path, name: str) -> dict:
    return json.loads((raw / name).read_text(encoding="utf-8"))


# --- readers on the train sample ------------------------------------------------------------------

def test_reads_the_train_sample(sample_raw: Path) -> None:
    questions, annotations = _load(sample_raw, QUESTIONS), _load(sample_raw, ANNOTATIONS)
    assert questions["data_subtype"] == annotations["data_subtype"] == "train2014"
    q = read_questions(sample_raw / QUESTIONS)
    a = read_annotations(sample_raw / ANNOTATIONS)
    assert tuple(q.columns) == QUESTION_COLUMNS and tuple(a.columns) == ANNOTATION_COLUMNS
    assert len(q) == len(a) == TRAIN_IMAGES * QUESTIONS_PER_IMAGE == 18
    assert q.to_dict(orient="records") == [{k: r[k] for k in QUESTION_COLUMNS} for r in questions["questions"]]
    assert a.to_dict(orient="records") == [
        {"question_id": r["question_id"], "image_id": r["image_id"],
         "multiple_choice_answer": r["multiple_choice_answer"], "answers": [x["answer"] for x in r["answers"]],
         "answer_type": r["answer_type"], "question_type": r["question_type"]} for r in annotations["annotations"]]


def test_malformed_json(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / ANNOTATIONS).read_text(encoding="utf-8")
    path = tmp_path / Path(ANNOTATIONS).name
    path.write_text(text[:-40], encoding="utf-8")
    raw_error(read_annotations, path, "not valid JSON", "truncated")
    path.write_text(text.replace('"answers": [', '"answers": [,', 1), encoding="utf-8")
    raw_error(read_annotations, path, "not valid JSON", "line 1")


@pytest.mark.parametrize("field", ["multiple_choice_answer", "question_id", "image_id", "answers"])
def test_annotation_missing_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    data = _load(sample_raw, ANNOTATIONS)
    data["annotations"][11].pop(field)
    raw_error(read_annotations, write_json(tmp_path / ANNOTATIONS, data), "annotations[11]", f"field {field!r}",
              "field missing")


def test_question_missing_field(sample_raw: Path, tmp_path: Path) -> None:
    data = _load(sample_raw, QUESTIONS)
    data["questions"][17].pop("question")
    raw_error(read_questions, write_json(tmp_path / QUESTIONS, data), "questions[17]", "field 'question'",
              "field missing")


@pytest.mark.parametrize("reader, name, key, field, value, problem", [
    (read_annotations, ANNOTATIONS, "annotations", "multiple_choice_answer", ["red"], "expected str, got list"),
    (read_annotations, ANNOTATIONS, "annotations", "multiple_choice_answer", None, "expected str, got NoneType"),
    (read_annotations, ANNOTATIONS, "annotations", "image_id", "606991", "expected int, got str"),
    (read_annotations, ANNOTATIONS, "annotations", "answers", "red", "expected list, got str"),
    (read_questions, QUESTIONS, "questions", "question", 7, "expected str, got int"),
    (read_questions, QUESTIONS, "questions", "question_id", True, "expected int, got bool"),
])
def test_wrong_type(sample_raw: Path, tmp_path: Path, reader: Callable, name: str, key: str, field: str,
                    value: object, problem: str) -> None:
    data = _load(sample_raw, name)
    data[key][6][field] = value
    raw_error(reader, write_json(tmp_path / name, data), f"{key}[6]", f"field {field!r}", problem)


def test_answer_of_wrong_type(sample_raw: Path, tmp_path: Path) -> None:
    data = _load(sample_raw, ANNOTATIONS)
    data["annotations"][0]["answers"][9]["answer"] = 2
    raw_error(read_annotations, write_json(tmp_path / ANNOTATIONS, data), "annotations[0].answers[9]",
              "field 'answer'", "expected str, got int")


# --- the train part of the sample -----------------------------------------------------------------

def test_train_sample_follows_vqav2(sample_raw: Path) -> None:
    questions = _load(sample_raw, QUESTIONS)
    annotations = _load(sample_raw, ANNOTATIONS)
    assert set(questions) == {"info", "task_type", "data_type", "data_subtype", "license", "questions"}
    assert set(annotations) == {"info", "license", "data_type", "data_subtype", "annotations"}
    image_ids = sorted({q["image_id"] for q in questions["questions"]})
    assert len(image_ids) == TRAIN_IMAGES and all(i in TRAIN_ID_RANGE for i in image_ids)
    for q in questions["questions"]:
        assert q["question_id"] // 1000 == q["image_id"]
    for a in annotations["annotations"]:
        assert set(a) == {"question_type", "multiple_choice_answer", "answers", "image_id", "answer_type",
                          "question_id"}
        assert [x["answer_id"] for x in a["answers"]] == list(range(1, 11))
    for image_id in image_ids:
        with Image.open(sample_raw / "coco" / "train2014" / image_file_name(image_id, "train2014")) as image:
            assert image.format == "JPEG" and image.size == (48, 36)


def test_train_annotations_are_not_in_question_order(sample_raw: Path) -> None:
    asked = [q["question_id"] for q in _load(sample_raw, QUESTIONS)["questions"]]
    answered = [a["question_id"] for a in _load(sample_raw, ANNOTATIONS)["annotations"]]
    assert answered != asked and sorted(answered) == sorted(asked)


def test_one_best_answer_varies_in_case_and_spacing(sample_raw: Path) -> None:
    best = [a["multiple_choice_answer"] for a in _load(sample_raw, ANNOTATIONS)["annotations"]]
    varied = [b for b in best if b != b.strip().lower()]
    assert len(varied) == 1
    assert varied[0].strip().lower() in best


def test_train_sample_is_deterministic_and_seeded(tmp_path: Path) -> None:
    names = (QUESTIONS, ANNOTATIONS)
    write_vqav2(tmp_path / "a", seed=0)
    write_vqav2(tmp_path / "b", seed=0)
    write_vqav2(tmp_path / "c", seed=1)
    files = {k: {p.relative_to(tmp_path / k).as_posix(): p.read_bytes()
                 for p in sorted((tmp_path / k).rglob("*")) if p.is_file()} for k in "abc"}
    assert files["a"] == files["b"]
    assert len([n for n in files["a"] if n.startswith("coco/train2014/")]) == TRAIN_IMAGES
    assert all(files["a"][n] != files["c"][n] for n in names)
