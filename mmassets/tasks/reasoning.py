"""Reasoning records from A-OKVQA: explaining a given answer, and chain-of-thought answers.

Both tasks make one record per rationale of a question, in question order and then rationale order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.seeding import derive_seed

EXPLAIN_TEMPLATES = (
    "{question} Answer: {answer}. Explain why this is the answer.",
    "Question: {question} The answer is {answer}. Why?",
    "{question} The answer is {answer}. Give the reason, based on the image.",
    "Explain, using the image, why the answer to \"{question}\" is {answer}.",
    "{question} Answer: {answer}. What in the image supports this answer?",
)
"""English contexts that ask for the rationale of a given answer."""

COT_TEMPLATES = (
    "{question} Think step by step, then answer.",
    "Reason about the image to answer the question: {question}",
    "{question} Explain your reasoning before giving the answer.",
    "Look at the image and think it through: {question}",
    "Question: {question} First give your reasoning, then the answer.",
)
"""English contexts that ask for reasoning followed by an answer."""

COT_ANSWER_FORMS = (
    "{rationale} So the answer is {answer}.",
    "{rationale} Therefore, the answer is {answer}.",
    "{rationale} The answer is {answer}.",
    "{rationale} Hence the answer: {answer}.",
)
"""How a chain-of-thought label joins a rationale (ending in . ! or ?) and the answer."""

SKIP_REASONS = ("image absent", "no correct answer", "blank rationale")
EXTRA_COLUMNS = ("question_id",)

_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    """Whitespace collapsed and stripped."""
    return _SPACES.sub(" ", text).strip()


def _as_sentence(text: str) -> str:
    """``text`` with a final '.' unless it already ends in . ! or ?."""
    return text if text.endswith((".", "!", "?")) else text + "."


def _rationales(questions: pd.DataFrame, image_name: Callable[[int], str | None],
                skipped: dict[str, int]) -> Iterator[tuple[str, str, str, str, str]]:
    """``(question, answer, rationale, image file name, question_id)`` per usable rationale; the rest
    are counted in ``skipped`` by the first reason that applies, in ``SKIP_REASONS`` order."""
    for qid, image_id, question, choices, correct, rationales in zip(
            questions["question_id"], questions["image_id"], questions["question"], questions["choices"],
            questions["correct_choice_idx"], questions["rationales"]):
        image = image_name(int(image_id))
        for rationale in map(_clean, rationales):
            if image is None:
                skipped["image absent"] += 1
            elif correct is None or pd.isna(correct):
                skipped["no correct answer"] += 1
            elif not rationale:
                skipped["blank rationale"] += 1
            else:
                yield _clean(question), _clean(choices[int(correct)]), rationale, image, qid


def _frame(rows: list[tuple[str, str, str, str]], skipped: dict[str, int]) -> TaskRecords:
    columns = ["context", "label", "image_id", *EXTRA_COLUMNS]
    return TaskRecords(pd.DataFrame(rows, columns=columns, dtype=object), skipped)


def explain_records(questions: pd.DataFrame, image_name: Callable[[int], str | None], seed: int) -> TaskRecords:
    """Records that ask why the correct choice answers the question: context = a seeded
    ``EXPLAIN_TEMPLATES`` entry with question and answer, label = one rationale (whitespace
    collapsed), image_id = ``image_name(image_id)``, question_id.

    ``questions`` is ``read_aokvqa``'s frame; ``image_name`` maps a COCO id to its file name or None.
    Skips are counted per rationale, i.e. per record that would have been made: "image absent", "no
    correct answer" (test split), "blank rationale".
    """
    rng = random.Random(seed)
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    rows = [(rng.choice(EXPLAIN_TEMPLATES).format(question=question, answer=answer), rationale, image, qid)
            for question, answer, rationale, image, qid in _rationales(questions, image_name, skipped)]
    return _frame(rows, skipped)


def cot_records(questions: pd.DataFrame, image_name: Callable[[int], str | None], seed: int) -> TaskRecords:
    """Chain-of-thought records: context = a seeded ``COT_TEMPLATES`` entry with the question, label =
    a seeded ``COT_ANSWER_FORMS`` entry with the rationale (given a final '.' if it lacks . ! ?) and
    the answer; image_id and question_id as in ``explain_records``, with the same rows and skip counts."""
    templates = random.Random(derive_seed(seed, "template"))
    forms = random.Random(derive_seed(seed, "answer form"))
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    rows = [(templates.choice(COT_TEMPLATES).format(question=question),
             forms.choice(COT_ANSWER_FORMS).format(rationale=_as_sentence(rationale), answer=answer), image, qid)
            for question, answer, rationale, image, qid in _rationales(questions, image_name, skipped)]
    return _frame(rows, skipped)
