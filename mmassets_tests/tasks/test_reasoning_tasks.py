"""Tests for the A-OKVQA reasoning records: explanations of a given answer and chain-of-thought answers."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from mmassets.sample.aokvqa import write_aokvqa
from mmassets.seeding import derive_seed
from mmassets.sources.aokvqa import COLUMNS, TRAIN_FILE, answers_held, read_aokvqa
from mmassets.sources.coco import find_image
from mmassets.tasks.reasoning import (
    COT_ANSWER_FORMS,
    COT_TEMPLATES,
    EXPLAIN_TEMPLATES,
    NO_CHOICE,
    SKIP_REASONS,
    cot_records,
    explain_records,
    no_records_reason,
)
from mmassets.records import TaskRecords

ALL_REASONS = dict.fromkeys(SKIP_REASONS, 0)
IMAGES = {1: "COCO_train2014_000000000001.jpg", 2: "COCO_val2014_000000000002.jpg"}


def _questions(*rows: tuple) -> pd.DataFrame:
    """A read_aokvqa-like frame from ``(question_id, image_id, question, choices, correct, rationales)``."""
    full = [(qid, image_id, question, choices, correct, [], rationales, "train")
            for qid, image_id, question, choices, correct, rationales in rows]
    return pd.DataFrame(full, columns=list(COLUMNS), dtype=object)


@pytest.fixture
def questions() -> pd.DataFrame:
    return _questions(
        ("q1", 1, "What is the man  awaiting?\n", ["bus", "cab"], 1,
         ["He has bags.", "  A taxi  is\ncoming ", "   "]),
        ("q2", 3, "Why umbrellas?", ["rain", "sun"], 0, ["It is raining.", "Wet street."]),
        ("q3", 2, "What season?", ["winter", "summer"], None, ["Snow."]),
        ("q4", 2, "What sport?", ["golf", "tennis"], 1, ["She holds a racket!", "The court has a net?"]),
    )


def _draws(seed: int, options: tuple[str, ...], n: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(options) for _ in range(n)]


def test_explain_records_exact(questions: pd.DataFrame) -> None:
    result = explain_records(questions, IMAGES.get, seed=7)
    templates = _draws(7, EXPLAIN_TEMPLATES, 4)
    expected = [
        (templates[0].format(question="What is the man awaiting?", answer="cab"), "He has bags.", IMAGES[1], "q1"),
        (templates[1].format(question="What is the man awaiting?", answer="cab"), "A taxi is coming", IMAGES[1], "q1"),
        (templates[2].format(question="What sport?", answer="tennis"), "She holds a racket!", IMAGES[2], "q4"),
        (templates[3].format(question="What sport?", answer="tennis"), "The court has a net?", IMAGES[2], "q4"),
    ]
    assert list(result.frame.columns) == ["context", "label", "image_id", "question_id"]
    assert list(result.frame.itertuples(index=False, name=None)) == expected
    # per rationale: q2's image is absent (2), q3 has no answer (1), q1's third rationale is blank (1)
    assert result.skipped == {**ALL_REASONS, "image absent": 2, NO_CHOICE: 1, "blank rationale": 1}


def test_cot_records_exact(questions: pd.DataFrame) -> None:
    result = cot_records(questions, IMAGES.get, seed=7)
    templates = _draws(derive_seed(7, "template"), COT_TEMPLATES, 4)
    forms = _draws(derive_seed(7, "answer form"), COT_ANSWER_FORMS, 4)
    expected = [
        (templates[0].format(question="What is the man awaiting?"),
         forms[0].format(rationale="He has bags.", answer="cab"), IMAGES[1], "q1"),
        (templates[1].format(question="What is the man awaiting?"),
         forms[1].format(rationale="A taxi is coming.", answer="cab"), IMAGES[1], "q1"),
        (templates[2].format(question="What sport?"),
         forms[2].format(rationale="She holds a racket!", answer="tennis"), IMAGES[2], "q4"),
        (templates[3].format(question="What sport?"),
         forms[3].format(rationale="The court has a net?", answer="tennis"), IMAGES[2], "q4"),
    ]
    assert list(result.frame.columns) == ["context", "label", "image_id", "question_id"]
    assert list(result.frame.itertuples(index=False, name=None)) == expected
    assert result.skipped == {**ALL_REASONS, "image absent": 2, NO_CHOICE: 1, "blank rationale": 1}


def test_cot_label_reads_as_two_sentences() -> None:
    questions = _questions(("q1", 1, "Why?", ["cab"], 0, ["He waits for a ride"]))
    label = cot_records(questions, IMAGES.get, seed=0).frame["label"][0]
    assert label.startswith("He waits for a ride. ") and label.endswith("cab.")


def test_image_absent_comes_first() -> None:
    """An absent image is counted even where the answer or rationale is missing too."""
    questions = _questions(("q1", 9, "Why?", ["a"], None, ["", "Because."]))
    for build in (explain_records, cot_records):
        result = build(questions, IMAGES.get, seed=0)
        assert result.frame.empty
        assert result.skipped == {**ALL_REASONS, "image absent": 2}


def test_questions_without_rationales_are_counted() -> None:
    """A question with no rationales could make no record: it counts once, as a test-split record
    (no correct choice either) or as "no rationales"; records + skips = rationales, or 1 where none."""
    questions = _questions(("q1", 1, "Why?", ["a", "b"], None, []), ("q2", 2, "Who?", ["a", "b"], 0, []),
                           ("q3", 1, "How?", ["a", "b"], 1, ["One.", ""]))
    for build in (explain_records, cot_records):
        result = build(questions, IMAGES.get, seed=0)
        assert list(result.frame.columns) == ["context", "label", "image_id", "question_id"]
        assert result.frame["question_id"].tolist() == ["q3"]
        assert result.skipped == {**ALL_REASONS, NO_CHOICE: 1, "no rationales": 1, "blank rationale": 1}
        would_make = sum(max(1, len(r)) for r in questions["rationales"])
        assert len(result.frame) + sum(result.skipped.values()) == would_make


def _test_split(questions: list[dict]) -> list[dict]:
    """Records as A-OKVQA's test split publishes them: no correct choice, direct answers nor rationales."""
    drop = ("correct_choice_idx", "direct_answers", "rationales", "difficult_direct_answer")
    return [{**{k: v for k, v in q.items() if k not in drop}, "split": "test"} for q in questions]


def test_a_test_split_file_in_the_place_of_the_train_file_is_counted_and_named(tmp_path: Path) -> None:
    """The defect: the test split read as the train file gave no records, every skip counter 0."""
    import json

    write_aokvqa(tmp_path, seed=0)
    path = tmp_path / TRAIN_FILE
    path.write_text(json.dumps(_test_split(json.loads(path.read_text(encoding="utf-8")))), encoding="utf-8")
    questions = read_aokvqa(path)  # it reads fine
    assert set(questions["split"]) == {"test"} and questions["correct_choice_idx"].isna().all()
    for build in (explain_records, cot_records):
        result = build(questions, lambda cocoid: find_image(tmp_path, cocoid), seed=0)
        assert result.frame.empty
        # the sample's one question without its image is counted as such, the others as test-split records
        assert result.skipped == {**ALL_REASONS, "image absent": 1, NO_CHOICE: len(questions) - 1}
        assert no_records_reason(questions, result) == (
            f"no records from the {len(questions)} questions of raw/aokvqa ({TRAIN_FILE}); skipped: image absent: 1, "
            f"{NO_CHOICE}: {len(questions) - 1}. raw/aokvqa: 0 of {len(questions)} questions have a correct choice "
            f"and rationales ({len(questions)} of split 'test'; the test split publishes no answers nor rationales): "
            f"is aokvqa_v1p0_test.json in the place of the train file {TRAIN_FILE}?")


def test_no_records_reason() -> None:
    questions = _questions(("q1", 9, "Why?", ["a"], 0, ["Because."]), ("q2", 8, "Who?", ["a"], 0, ["Him."]))
    built = explain_records(questions, IMAGES.get, seed=0)
    assert no_records_reason(questions, built) == (
        f"no records from the 2 questions of raw/aokvqa ({TRAIN_FILE}); skipped: image absent: 2. None of their COCO "
        "images is under the raw root (coco/train2014/, coco/val2014/): A-OKVQA's images are COCO's")
    assert no_records_reason(questions.iloc[:0], explain_records(questions.iloc[:0], IMAGES.get, seed=0)) is None
    made = _questions(("q1", 1, "Why?", ["a"], 0, ["Because."]), ("q2", 1, "Who?", ["a"], 0, []))
    assert no_records_reason(made, explain_records(made, IMAGES.get, seed=0)) is None  # some records: no reason
    answerless = _questions(("q1", 1, "Why?", ["a"], 0, []))
    assert no_records_reason(answerless, TaskRecords(built.frame.iloc[:0], {"no rationales": 1})) == (
        f"no records from the 1 question of raw/aokvqa ({TRAIN_FILE}); skipped: no rationales: 1. "
        "raw/aokvqa: 0 of 1 questions have a correct choice and rationales")
    assert answers_held(answerless, rationales=False) == "raw/aokvqa: 1 of 1 questions have a correct choice"


@pytest.mark.parametrize("build", [explain_records, cot_records])
def test_deterministic(questions: pd.DataFrame, build) -> None:
    first = build(questions, IMAGES.get, seed=11)
    pd.testing.assert_frame_equal(first.frame, build(questions, IMAGES.get, seed=11).frame)
    many = _questions(*[(f"q{i}", 1, f"Question {i}?", ["a", "b"], 0, ["One.", "Two.", "Three."]) for i in range(20)])
    contexts = build(many, IMAGES.get, seed=1).frame["context"].tolist()
    assert contexts == build(many, IMAGES.get, seed=1).frame["context"].tolist()
    assert contexts != build(many, IMAGES.get, seed=2).frame["context"].tolist()


def test_template_lists() -> None:
    for templates, fields, sizes in ((EXPLAIN_TEMPLATES, ("{question}", "{answer}"), range(4, 7)),
                                     (COT_TEMPLATES, ("{question}",), range(4, 7)),
                                     (COT_ANSWER_FORMS, ("{rationale}", "{answer}"), range(3, 5))):
        assert len(templates) in sizes and len(set(templates)) == len(templates)
        assert all(field in t for t in templates for field in fields)


def test_on_the_sample(tmp_path: Path) -> None:
    write_aokvqa(tmp_path, seed=0)
    questions = read_aokvqa(tmp_path / TRAIN_FILE)

    def image_name(cocoid: int) -> str | None:
        return find_image(tmp_path, cocoid)

    explain = explain_records(questions, image_name, seed=0)
    cot = cot_records(questions, image_name, seed=0)
    rationales = sum(len(r) for r in questions["rationales"])
    assert explain.skipped == cot.skipped == {**ALL_REASONS, "image absent": 3}
    assert len(explain.frame) == len(cot.frame) == rationales - 3
    assert explain.frame["label"].tolist() == [" ".join(r.split()) for rs, i in
                                               zip(questions["rationales"], questions["image_id"])
                                               if find_image(tmp_path, i) for r in rs]
    assert all(label.endswith(".") for label in cot.frame["label"])
    assert all((tmp_path / "coco" / name.split("_")[1] / name).is_file() for name in explain.frame["image_id"])
