"""VQAv2 training records: short-answer VQA and question generation (VQG), and their localisation.

English records come from ``sources.vqav2.join_questions_annotations``'s output, one per matched
question; the localised ones from a language's translation of those records, where the question is
always the translation and the answer is, with a given probability, the translated answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.sources.vqav2 import image_file_name
from mmassets.tasks.captions import clean_caption

VQA_TEMPLATES = (
    "{question} Short answer in {language}:",
    "Question: {question} Answer briefly in {language}.",
    "Answer the question using a single word or phrase in {language}. {question}",
    "{question} Answer in {language} with a word or a short phrase.",
    "Question: {question} Short answer ({language}):",
    "Give a short answer in {language}. Question: {question}",
    "{question} Reply in {language} in a few words.",
)
"""Short-answer instructions around ``{question}``, naming the answer's ``{language}`` in English."""

VQG_TEMPLATES = (
    'Write a question in {language} about the image whose answer is "{answer}".',
    'Ask a question in {language} about this image that can be answered with "{answer}".',
    'Given the answer "{answer}", write a matching question about the image in {language}.',
    'Answer: "{answer}". Which question in {language} about the image has this answer?',
    'Write a question about the picture in {language}. Its answer should be "{answer}".',
    'Write a {language} question about the image that "{answer}" answers.',
)
"""Question-generation instructions: write a ``{language}`` question about the image answered by ``{answer}``."""

COLUMNS = ("context", "label", "image_id", "question", "answer", "template", "question_id")
SKIP_REASONS = ("blank question", "blank answer")
LOCALIZE_COUNTS = ("translated answer", "English answer", "answer unchanged by translation",
                   "answer translation dropped", "question translation dropped")
TASKS = ("vqa", "vqg")


def vqa_records(joined: pd.DataFrame, seed: int, subset: str = "train2014") -> TaskRecords:
    """VQA records: context = the question in a seeded ``VQA_TEMPLATES`` template naming English,
    label = the answer (``multiple_choice_answer``); see ``_question_rows`` for rows and columns."""
    rows, skipped = _question_rows(joined, seed, subset, len(VQA_TEMPLATES))
    contexts = [VQA_TEMPLATES[t].format(question=q, language="English")
                for q, t in zip(rows["question"], rows["template"])]
    return TaskRecords(_with_context(rows, contexts, rows["answer"]), skipped)


def vqg_records(joined: pd.DataFrame, seed: int, subset: str = "train2014") -> TaskRecords:
    """VQG records: context = a seeded ``VQG_TEMPLATES`` instruction with the answer, naming English,
    label = the question; see ``_question_rows`` for rows and columns."""
    rows, skipped = _question_rows(joined, seed, subset, len(VQG_TEMPLATES))
    contexts = [VQG_TEMPLATES[t].format(answer=a, language="English")
                for a, t in zip(rows["answer"], rows["template"])]
    return TaskRecords(_with_context(rows, contexts, rows["question"]), skipped)


def _question_rows(joined: pd.DataFrame, seed: int, subset: str, templates: int
                   ) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per joined question with a non-blank question and answer, in order: image_id (COCO
    file name), question and answer (whitespace collapsed), template and question_id; blank ones are
    counted by reason. ``template`` is ``random.Random(seed).randrange(templates)``, drawn once per
    joined row (skipped ones included) so that a skip does not shift the other rows' templates."""
    rng = random.Random(seed)
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    rows = []
    for question_id, image_id, question, answer in zip(joined["question_id"], joined["image_id"],
                                                       joined["question"], joined["multiple_choice_answer"]):
        template = rng.randrange(templates)
        question, answer = clean_caption(question), clean_caption(answer)
        if not question:
            skipped["blank question"] += 1
        elif not answer:
            skipped["blank answer"] += 1
        else:
            rows.append((image_file_name(image_id, subset), question, answer, template, question_id))
    frame = pd.DataFrame(rows, columns=list(COLUMNS[2:]), dtype=object)
    return frame.astype({"template": "int64", "question_id": "int64"}), skipped


def _with_context(rows: pd.DataFrame, contexts: list[str], labels: Iterable[str]) -> pd.DataFrame:
    """``rows`` with ``context`` and ``label`` in front (object columns, like every record text)."""
    frame = rows.copy()
    frame.insert(0, "label", pd.Series(list(labels), index=frame.index, dtype=object))
    frame.insert(0, "context", pd.Series(contexts, index=frame.index, dtype=object))
    return frame


def localize_vqa(frame: pd.DataFrame, language_name: str, probability: float, seed: int, *, task: str
                 ) -> tuple[pd.DataFrame, dict[str, int]]:
    """One language's VQA or VQG records from its translation of the English ones.

    ``frame`` has columns question and answer (the translations; None/NA where the translator gave
    none), question_en, answer_en, template (index into the task's templates) and any others, kept.
    ``random.Random(seed)`` draws once per input row, in order. A row whose question is missing or
    blank is dropped. The translated answer is used when the draw is below ``probability``, it is a
    non-blank string and it differs from answer_en after strip and casefold; otherwise answer_en.
    Texts are whitespace-collapsed. vqa: context = the question in its ``VQA_TEMPLATES`` template
    naming ``language_name`` when the answer is translated, else English; label = the answer.
    vqg: context = its ``VQG_TEMPLATES`` template with the answer, naming ``language_name``; label =
    the question. Returns the kept rows (context and label first, index reset) and a count per
    ``LOCALIZE_COUNTS`` key; every input row is counted once: "question translation dropped", else
    "answer translation dropped" (no translated answer), "answer unchanged by translation", then
    "translated answer" or "English answer" by the draw.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r} (expected one of {', '.join(TASKS)})")
    if not 0 <= probability <= 1:
        raise ValueError(f"probability {probability!r} is not within [0, 1]")
    rng = random.Random(seed)
    counts = dict.fromkeys(LOCALIZE_COUNTS, 0)
    keep, contexts, labels = [], [], []
    for question, answer, answer_en, template in zip(frame["question"], frame["answer"], frame["answer_en"],
                                                     frame["template"]):
        draw = rng.random()
        question, answer, answer_en = _text(question), _text(answer), clean_caption(answer_en)
        if not question:
            counts["question translation dropped"] += 1
            keep.append(False)
            continue
        reason = _answer_choice(answer, answer_en, draw < probability)
        counts[reason] += 1
        translated = reason == "translated answer"
        chosen = answer if translated else answer_en
        if task == "vqa":
            language = language_name if translated else "English"
            contexts.append(VQA_TEMPLATES[int(template)].format(question=question, language=language))
            labels.append(chosen)
        else:
            contexts.append(VQG_TEMPLATES[int(template)].format(answer=chosen, language=language_name))
            labels.append(question)
        keep.append(True)
    kept = frame.loc[pd.Series(keep, index=frame.index, dtype=bool)].drop(columns=["context", "label"],
                                                                          errors="ignore")
    return _with_context(kept.reset_index(drop=True), contexts, labels), counts


def _text(value: object) -> str:
    """A translation's text, whitespace-collapsed; empty for None, NA or anything not a string."""
    return clean_caption(value) if isinstance(value, str) else ""


def _answer_choice(answer: str, answer_en: str, drawn: bool) -> str:
    """Which ``LOCALIZE_COUNTS`` key a kept row's answer falls under."""
    if not answer:
        return "answer translation dropped"
    if answer.casefold() == answer_en.casefold():
        return "answer unchanged by translation"
    return "translated answer" if drawn else "English answer"
