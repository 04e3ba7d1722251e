"""Tests for VQAv2 val: the question and annotation readers, their join on question_id, the eval
records and the sample generator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mmassets.evalsets.vqav2 import BENCHMARK, PROMPT, build
from mmassets.sample import GENERATORS
from mmassets.sample.vqav2 import write_vqav2
from mmassets.sources.validation import RawFileMissing, RawFormatError
from mmassets.sources.vqav2 import (ANNOTATION_COLUMNS, JOINED_COLUMNS, QUESTION_COLUMNS, annotations_file,
                                    image_file_name, join_questions_annotations, questions_file, read_annotations,
                                    read_questions)

from raw_files import raw_error, write_json

QUESTIONS = questions_file("val2014")
ANNOTATIONS = annotations_file("val2014")


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_vqav2(raw, seed=0)
    return raw


def _load(raw: Path, name: str) -> dict:
    return json.loads((raw / name).read_text(encoding="utf-8"))


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _question(qid: int, image_id: int, text: str) -> dict:
    return {"image_id": image_id, "question": text, "question_id": qid}


def _annotation(qid: int, image_id: int, answers: list[str]) -> dict:
    return {"question_type": "what", "multiple_choice_answer": answers[0] if answers else "",
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": n + 1} for n, a in enumerate(answers)],
            "image_id": image_id, "answer_type": "other", "question_id": qid}


# --- readers ------------------------------------------------------------------------------------

def test_reads_the_sample(sample_raw: Path) -> None:
    questions = _load(sample_raw, QUESTIONS)
    annotations = _load(sample_raw, ANNOTATIONS)
    assert questions["data_subtype"] == annotations["data_subtype"] == "val2014"
    q = read_questions(sample_raw / QUESTIONS)
    a = read_annotations(sample_raw / ANNOTATIONS)
    assert tuple(q.columns) == QUESTION_COLUMNS and tuple(a.columns) == ANNOTATION_COLUMNS
    assert q.to_dict(orient="records") == [{k: r[k] for k in QUESTION_COLUMNS} for r in questions["questions"]]
    assert len(q) == len(a) == 12
    assert a["question_id"].tolist() == [r["question_id"] for r in annotations["annotations"]]
    assert a["answers"].tolist() == [[x["answer"] for x in r["answers"]] for r in annotations["annotations"]]
    assert a["multiple_choice_answer"].tolist() == [r["multiple_choice_answer"] for r in annotations["annotations"]]
    assert all(len(answers) == 10 for answers in a["answers"])


@pytest.mark.parametrize("name, reader", [(QUESTIONS, read_questions), (ANNOTATIONS, read_annotations)])
def test_truncated_json(sample_raw: Path, tmp_path: Path, name: str, reader: Callable) -> None:
    text = (sample_raw / name).read_text(encoding="utf-8")
    path = tmp_path / Path(name).name
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(reader, path, "not valid JSON", "truncated")


@pytest.mark.parametrize("name, reader", [(QUESTIONS, read_questions), (ANNOTATIONS, read_annotations)])
def test_missing_file_says_where_to_get_it(tmp_path: Path, name: str, reader: Callable) -> None:
    path = tmp_path / name
    with pytest.raises(RawFileMissing) as info:
        reader(path)
    assert str(path) in str(info.value) and "visualqa.org" in str(info.value)


@pytest.mark.parametrize("field", ["questions", "question_id", "image_id", "question"])
def test_question_missing_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    data = _load(sample_raw, QUESTIONS)
    record = "top level" if field == "questions" else "questions[4]"
    (data if field == "questions" else data["questions"][4]).pop(field)
    raw_error(read_questions, write_json(tmp_path / QUESTIONS, data), record, f"field {field!r}", "field missing")


@pytest.mark.parametrize("field, record", [
    ("annotations", "top level"), ("question_id", "annotations[7]"), ("image_id", "annotations[7]"),
    ("multiple_choice_answer", "annotations[7]"), ("answers", "annotations[7]"),
    ("answer", "annotations[7].answers[3]"),
])
def test_annotation_missing_field(sample_raw: Path, tmp_path: Path, field: str, record: str) -> None:
    data = _load(sample_raw, ANNOTATIONS)
    target = {"annotations": data, "answer": data["annotations"][7]["answers"][3]}.get(field, data["annotations"][7])
    target.pop(field)
    raw_error(read_annotations, write_json(tmp_path / ANNOTATIONS, data), record, f"field {field!r}", "field missing")


@pytest.mark.parametrize("change, field, problem", [
    (lambda r: r.__setitem__("question_id", "458752000"), "question_id", "expected int, got str"),
    (lambda r: r.__setitem__("image_id", 1.5), "image_id", "expected int, got float"),
    (lambda r: r.__setitem__("answer_type", 3), "answer_type", "expected str"),
])
def test_annotation_bad_value(sample_raw: Path, tmp_path: Path, change: Callable, field: str, problem: str) -> None:
    data = _load(sample_raw, ANNOTATIONS)
    change(data["annotations"][2])
    with pytest.raises(RawFormatError) as info:
        read_annotations(write_json(tmp_path / ANNOTATIONS, data))
    assert "annotations[2]" in str(info.value) and f"field {field!r}" in str(info.value) and problem in str(info.value)


def test_optional_types_may_be_absent(tmp_path: Path) -> None:
    record = _annotation(1, 2, ["a"])
    del record["answer_type"], record["question_type"]
    frame = read_annotations(write_json(tmp_path / ANNOTATIONS, {"annotations": [record]}))
    assert frame["answer_type"].tolist() == [None] and frame["question_type"].tolist() == [None]


@pytest.mark.parametrize("name, reader, key", [(QUESTIONS, read_questions, "questions"),
                                               (ANNOTATIONS, read_annotations, "annotations")])
def test_duplicate_question_id_names_both(sample_raw: Path, tmp_path: Path, name: str, reader: Callable,
                                          key: str) -> None:
    data = _load(sample_raw, name)
    data[key][5]["question_id"] = data[key][1]["question_id"]
    with pytest.raises(RawFormatError, match=rf"{key}\[1\]") as info:
        reader(write_json(tmp_path / name, data))
    assert info.value.record == f"{key}[5]" and info.value.field == "question_id"


def test_top_level_list(tmp_path: Path) -> None:
    with pytest.raises(RawFormatError, match="expected a JSON object"):
        read_questions(write_json(tmp_path / QUESTIONS, [_question(1, 2, "Why?")]))


# --- join ---------------------------------------------------------------------------------------

def test_join_on_question_id_not_position(tmp_path: Path) -> None:
    questions = pd.DataFrame([(3001, 3, "What is it?"), (1001, 1, "Is it red?"), (4001, 4, "Unanswered?"),
                              (2001, 2, "How many?"), (5001, 5, "Wrong image?")],
                             columns=list(QUESTION_COLUMNS), dtype=object)
    annotations = pd.DataFrame([
        (2001, 2, "2", ["2", "two"], "number", "how many"),
        (9001, 9, "x", ["x"], "other", "what"),           # no question
        (1001, 1, "yes", ["yes", "no"], "yes/no", "is it"),
        (5001, 6, "y", ["y"], "other", "what"),           # same id, other image
        (3001, 3, "cat", ["cat", "kitten"], None, None),
    ], columns=list(ANNOTATION_COLUMNS), dtype=object)
    joined, unmatched = join_questions_annotations(questions, annotations)
    assert tuple(joined.columns) == JOINED_COLUMNS
    assert joined.to_dict(orient="records") == [
        {"question_id": 3001, "image_id": 3, "question": "What is it?", "multiple_choice_answer": "cat",
         "answers": ["cat", "kitten"], "answer_type": None, "question_type": None},
        {"question_id": 1001, "image_id": 1, "question": "Is it red?", "multiple_choice_answer": "yes",
         "answers": ["yes", "no"], "answer_type": "yes/no", "question_type": "is it"},
        {"question_id": 2001, "image_id": 2, "question": "How many?", "multiple_choice_answer": "2",
         "answers": ["2", "two"], "answer_type": "number", "question_type": "how many"},
    ]
    assert unmatched == {"question without annotation": 1, "annotation without question": 1, "image_id differs": 1}


def test_join_of_aligned_files_matches_everything(sample_raw: Path) -> None:
    q = read_questions(sample_raw / QUESTIONS)
    a = read_annotations(sample_raw / ANNOTATIONS)
    shuffled = a.sample(frac=1, random_state=3).reset_index(drop=True)
    joined, unmatched = join_questions_annotations(q, shuffled)
    assert unmatched == {"question without annotation": 0, "annotation without question": 0, "image_id differs": 0}
    assert joined["question_id"].tolist() == q["question_id"].tolist()
    assert joined["answers"].tolist() == a["answers"].tolist()


# --- builder ------------------------------------------------------------------------------------

def test_build_exact_records(tmp_path: Path) -> None:
    answers_a = ["red", "red", "dark red", "red", "red", "maroon", "red", "red", "red", "red"]
    answers_b = ["2", "2", "two", "2", "3", "2", "2", "2", "2", "2"]
    write_json(tmp_path / QUESTIONS, {"task_type": "Open-Ended", "data_subtype": "val2014", "questions": [
        _question(42000, 42, "What color is the bus?"),
        _question(73001, 73, "How many dogs?"),
        _question(42001, 42, "Is this unanswered?"),
        _question(80000, 80, "Empty?"),
    ]})
    write_json(tmp_path / ANNOTATIONS, {"data_subtype": "val2014", "annotations": [
        _annotation(80000, 80, []),
        _annotation(73001, 73, answers_b),
        _annotation(11000, 11, ["orphan"]),
        _annotation(42000, 42, answers_a),
    ]})
    parts = build(tmp_path, ["en"])
    assert list(parts) == ["en"]
    expected = pd.DataFrame({
        "context": ["Question: What color is the bus? Short answer:", "Question: How many dogs? Short answer:"],
        "label": ["", ""],
        "image_id": ["COCO_val2014_000000000042.jpg", "COCO_val2014_000000000073.jpg"],
        "text_label": [answers_a, answers_b],
        "split": ["val", "val"],
        "question_id": [42000, 73001],
    }, dtype=object)
    pd.testing.assert_frame_equal(parts["en"].records, expected)
    assert parts["en"].skipped == {"val: question without annotation": 1, "val: annotation without question": 1,
                                   "val: no answers": 1}
    assert PROMPT.format(question="Q?") == "Question: Q? Short answer:"
    assert build(tmp_path, []) == {}
    with pytest.raises(ValueError):
        build(tmp_path, ["fr"])


def test_image_file_name() -> None:
    assert image_file_name(42, "val2014") == "COCO_val2014_000000000042.jpg"
    assert image_file_name(391895, "train2014") == "COCO_train2014_000000391895.jpg"
    with pytest.raises(ValueError):
        image_file_name(1, "test2015")


def test_benchmark_declaration() -> None:
    assert BENCHMARK.name == "vqav2_val" and BENCHMARK.languages == ("en",)
    assert BENCHMARK.extra_fields == ("question_id",)


# --- sample -------------------------------------------------------------------------------------

def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    part = build(sample_raw, ["en"])["en"]
    assert part.skipped == {} and len(part.records) == 12
    assert all(len(labels) == 10 for labels in part.records["text_label"])
    for image_id in part.records["image_id"]:
        path = BENCHMARK.image_path(sample_raw, image_id)
        assert path == sample_raw / "coco" / "val2014" / image_id
        with Image.open(path) as im:
            assert im.format == "JPEG"
        assert 50000 <= int(image_id[-16:-4]) < 100000  # neither the COCO nor the POPE sample's ids


def test_sample_question_ids_follow_vqav2(sample_raw: Path) -> None:
    for q in _load(sample_raw, QUESTIONS)["questions"]:
        assert q["question_id"] // 1000 == q["image_id"]


def test_sample_is_deterministic(tmp_path: Path) -> None:
    write_vqav2(tmp_path / "a", seed=0)
    write_vqav2(tmp_path / "b", seed=0)
    a, b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert len(a) == 2 + 4 + 2 + 6  # val and train2014: question and annotation files, JPEGs
    assert a == b
    write_vqav2(tmp_path / "c", seed=1)
    assert _all_files(tmp_path / "c") != a


def test_sample_files_do_not_collide_with_the_other_generators(tmp_path: Path) -> None:
    """Every generator writes into one raw root: no two of them may write the same file."""
    written = {}
    needs = {"write_dataoptim": "write_coco"}  # DataOptim's sample draws on the COCO sample's images
    by_name = {generate.__name__: generate for generate in GENERATORS}
    for generate in GENERATORS:
        name = generate.__name__
        before = set()
        if name in needs:
            by_name[needs[name]](tmp_path / name, 0)
            before = set(_all_files(tmp_path / name))
        generate(tmp_path / name, 0)
        written[name] = set(_all_files(tmp_path / name)) - before
    names = list(written)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not written[first] & written[second], (first, second)
