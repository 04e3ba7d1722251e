"""Tests for the A-OKVQA reader and its sample: the good sample files, and broken files that fail clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mmassets.sample.aokvqa import DIRECT_ANSWERS, ID_RANGE, TRAIN_QUESTIONS, VAL_QUESTIONS, write_aokvqa
from mmassets.sources.aokvqa import COLUMNS, TRAIN_FILE, VAL_FILE, read_aokvqa
from mmassets.sources.coco import find_image
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json

UPSTREAM_FIELDS = ["split", "image_id", "question_id", "question", "choices", "correct_choice_idx", "direct_answers",
                   "difficult_direct_answer", "rationales"]


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_aokvqa(raw, seed=0)
    return raw


@pytest.fixture
def good(sample_raw: Path) -> list[dict]:
    return json.loads((sample_raw / TRAIN_FILE).read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / "aokvqa" / "aokvqa_v1p0_train.json", data)


def test_reads_the_sample(sample_raw: Path, good: list[dict]) -> None:
    frame = read_aokvqa(sample_raw / TRAIN_FILE)
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == TRAIN_QUESTIONS
    assert frame["question_id"].tolist() == [q["question_id"] for q in good]
    assert frame["image_id"].tolist() == [q["image_id"] for q in good]
    assert frame["choices"].tolist() == [q["choices"] for q in good]
    assert frame["correct_choice_idx"].tolist() == [q["correct_choice_idx"] for q in good]
    assert frame["rationales"].tolist() == [q["rationales"] for q in good]
    assert set(frame["split"]) == {"train"}
    val = read_aokvqa(sample_raw / VAL_FILE)
    assert len(val) == VAL_QUESTIONS and set(val["split"]) == {"val"}
    assert not set(val["question_id"]) & set(frame["question_id"])


def test_sample_is_in_the_upstream_shape(good: list[dict]) -> None:
    for question in good:
        assert list(question) == UPSTREAM_FIELDS
        assert len(question["choices"]) == 4 and len(question["direct_answers"]) == DIRECT_ANSWERS
        assert len(question["rationales"]) == 3
        assert len(question["question_id"]) == 22
        assert question["image_id"] in ID_RANGE
        assert isinstance(question["difficult_direct_answer"], bool)


def test_sample_images(sample_raw: Path) -> None:
    """One train image is written nowhere, one lies under val2014, the rest under train2014."""
    train = read_aokvqa(sample_raw / TRAIN_FILE)
    names = [find_image(sample_raw, i) for i in train["image_id"]]
    assert names.count(None) == 1
    assert sum(n is not None and n.startswith("COCO_val2014_") for n in names) == 1
    assert sum(n is not None and n.startswith("COCO_train2014_") for n in names) == TRAIN_QUESTIONS - 2
    val = read_aokvqa(sample_raw / VAL_FILE)
    assert all(find_image(sample_raw, i) for i in val["image_id"])


def test_sample_is_deterministic(tmp_path: Path) -> None:
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    write_aokvqa(tmp_path / "a", seed=3)
    write_aokvqa(tmp_path / "b", seed=3)
    write_aokvqa(tmp_path / "c", seed=4)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_truncated_json(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / TRAIN_FILE).read_text(encoding="utf-8")
    path = tmp_path / "aokvqa_v1p0_train.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(read_aokvqa, path, "not valid JSON", "truncated")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / TRAIN_FILE
    with pytest.raises(RawFileMissing) as info:
        read_aokvqa(path)
    assert str(path) in str(info.value)
    assert "aokvqa_v1p0.tar.gz" in str(info.value)


def test_top_level_object(tmp_path: Path, good: list[dict]) -> None:
    raw_error(read_aokvqa, _write(tmp_path, {"questions": good}), "expected a JSON list", "dict")


def _drop(field: str) -> Callable[[dict], None]:
    return lambda question: question.pop(field)


def _set(field: str, value: object) -> Callable[[dict], None]:
    return lambda question: question.__setitem__(field, value)


@pytest.mark.parametrize("change, parts", [
    (_drop("question_id"), ["field 'question_id'", "field missing"]),
    (_drop("image_id"), ["field 'image_id'", "field missing"]),
    (_drop("question"), ["field 'question'", "field missing"]),
    (_drop("choices"), ["field 'choices'", "field missing"]),
    (_drop("rationales"), ["field 'rationales'", "field missing"]),
    (_drop("direct_answers"), ["field 'direct_answers'", "field missing"]),
    (_drop("split"), ["field 'split'", "field missing"]),
    (_set("split", "dev"), ["field 'split'", "unknown split 'dev'"]),
    (_set("image_id", "299207"), ["field 'image_id'", "expected int, got str"]),
    (_set("image_id", True), ["field 'image_id'", "expected int, got bool"]),
    (_set("question_id", 17), ["field 'question_id'", "expected str, got int"]),
    (_set("choices", "cab"), ["field 'choices'", "expected list, got str"]),
    (_set("choices", ["cab", 2, "bus", "train"]), ["field 'choices'", "item 1: expected str, got int"]),
    (_set("rationales", ["Fine.", None]), ["field 'rationales'", "item 1: expected str, got NoneType"]),
    (_set("correct_choice_idx", "3"), ["field 'correct_choice_idx'", "expected int, got str"]),
    (_set("correct_choice_idx", False), ["field 'correct_choice_idx'", "expected int, got bool"]),
    (_set("correct_choice_idx", 4), ["field 'correct_choice_idx'", "4 is outside the 4 choices"]),
    (_set("correct_choice_idx", -1), ["field 'correct_choice_idx'", "-1 is outside the 4 choices"]),
])
def test_broken_record_names_file_record_and_field(tmp_path: Path, good: list[dict], change: Callable,
                                                   parts: list) -> None:
    change(good[2])
    error = raw_error(read_aokvqa, _write(tmp_path, good), "[2]", *parts)
    assert error.record == "[2]"


def test_record_not_an_object(tmp_path: Path, good: list[dict]) -> None:
    good[1] = "What is the man awaiting?"
    raw_error(read_aokvqa, _write(tmp_path, good), "[1]", "expected an object")


def test_duplicate_question_id_names_both_records(tmp_path: Path, good: list[dict]) -> None:
    good[4]["question_id"] = good[1]["question_id"]
    error = raw_error(read_aokvqa, _write(tmp_path, good), "[4]", "field 'question_id'", "also in [1]")
    assert error.record == "[4]" and error.field == "question_id"


def test_null_or_absent_correct_choice_is_none(tmp_path: Path, good: list[dict]) -> None:
    good[0]["correct_choice_idx"] = None
    del good[1]["correct_choice_idx"]
    frame = read_aokvqa(_write(tmp_path, good))
    assert frame["correct_choice_idx"].tolist()[:3] == [None, None, good[2]["correct_choice_idx"]]


def test_test_split_without_answers(tmp_path: Path) -> None:
    question = {"split": "test", "image_id": 42, "question_id": "abc", "question": "Why?",
                "choices": ["a", "b", "c", "d"], "difficult_direct_answer": False}
    frame = read_aokvqa(_write(tmp_path, [question]))
    assert frame.to_dict(orient="records") == [{
        "question_id": "abc", "image_id": 42, "question": "Why?", "choices": ["a", "b", "c", "d"],
        "correct_choice_idx": None, "direct_answers": [], "rationales": [], "split": "test"}]


def test_an_empty_list_is_a_broken_file_not_an_empty_dataset(tmp_path: Path) -> None:
    raw_error(read_aokvqa, _write(tmp_path, []), "holds no records ([])", "broken download")
