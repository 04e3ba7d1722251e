"""Reasoning records from A-OKVQA: explaining a given answer, and chain-of-thought answers.

Both tasks make one record per rationale of a question, in question order and then rationale order.
What is not made is counted by reason, per record that would have been made: one per rationale, and
one for a question without rationales (a test-split record has none, nor a correct choice), so that
``sum(max(1, len(rationales)))`` over the questions = records + skipped.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.seeding import derive_seed
from mmassets.sources.aokvqa import TRAIN_FILE, answers_held

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

IMAGE_ABSENT = "image absent"
NO_CHOICE = "no correct choice (a test-split record?)"
NO_RATIONALES = "no rationales"
BLANK_RATIONALE = "blank rationale"
SKIP_REASONS = (IMAGE_ABSENT, NO_CHOICE, NO_RATIONALES, BLANK_RATIONALE)
"""Why a record is not made, in the order they are tried (the first that applies counts)."""
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
    are counted in ``skipped`` by the first reason that applies, in ``SKIP_REASONS`` order: a
    question's reason counts once per rationale, or once where it has none."""
    for qid, image_id, question, choices, correct, rationales in zip(
            questions["question_id"], questions["image_id"], questions["question"], questions["choices"],
            questions["correct_choice_idx"], questions["rationales"]):
        rationales = [_clean(r) for r in rationales]
        would_make, image = len(rationales) or 1, image_name(int(image_id))
        if image is None:
            skipped[IMAGE_ABSENT] += would_make
        elif correct is None or pd.isna(correct):
            skipped[NO_CHOICE] += would_make
        elif not rationales:
            skipped[NO_RATIONALES] += 1
        else:
            answer = _clean(choices[int(correct)])
            for rationale in rationales:
                if rationale:
                    yield _clean(question), answer, rationale, image, qid
                else:
                    skipped[BLANK_RATIONALE] += 1


def no_records_reason(questions: pd.DataFrame, built: TaskRecords) -> str | None:
    """Why ``questions`` (not none) gave no records at all, with the skips by reason and what they
    suggest (a test-split file in the place of the train file, COCO images not found); None where
    records were made or there were no questions."""
    if len(questions) == 0 or len(built.frame) > 0:
        return None
    counts = ", ".join(f"{reason}: {n:,}" for reason, n in built.skipped.items() if n)
    n = len(questions)
    text = (f"no records from the {n:,} question{'s' if n != 1 else ''} of raw/aokvqa ({TRAIN_FILE}); "
            f"skipped: {counts or 'none'}")
    if built.skipped.get(IMAGE_ABSENT) and not any(n for r, n in built.skipped.items() if r != IMAGE_ABSENT):
        return text + (". None of their COCO images is under the raw root (coco/train2014/, coco/val2014/): "
                       "A-OKVQA's images are COCO's")
    return f"{text}. {answers_held(questions)}"


def _frame(rows: list[tuple[str, str, str, str]], skipped: dict[str, int]) -> TaskRecords:
    columns = ["context", "label", "image_id", *EXTRA_COLUMNS]
    return TaskRecords(pd.DataFrame(rows, columns=columns, dtype=object), skipped)


def explain_records(questions: pd.DataFrame, image_name: Callable[[int], str | None], seed: int) -> TaskRecords:
    """Records that ask why the correct choice answers the question: context = a seeded
    ``EXPLAIN_TEMPLATES`` entry with question and answer, label = one rationale (whitespace
    collapsed), image_id = ``image_name(image_id)``, question_id.

    ``questions`` is ``read_aokvqa``'s frame; ``image_name`` maps a COCO id to its file name or None.
    Skips are counted per record that would have been made (a rationale, or a question without
    any), by the first of ``SKIP_REASONS`` that applies: "image absent", "no correct choice (a
    test-split record?)", "no rationales", "blank rationale".
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
