"""VQAv2 val: English VQA on COCO val2014 (benchmark ``vqav2_val``, split ``val``).

Questions of ``vqav2/v2_OpenEnded_mscoco_val2014_questions.json`` joined with
``vqav2/v2_mscoco_val2014_annotations.json`` on question_id; one record per matched question, in
question-file order: context = the question in a short-answer prompt, ``text_label`` = all the
annotators' answers in file order, ``image_id`` = ``COCO_val2014_%012d.jpg``, plus ``question_id``.
Unmatched ids and questions without answers are counted in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, check_languages
from mmassets.sources import coco, vqav2

LANGUAGES = ("en",)
SPLIT = "val"
SUBSET = "val2014"
PROMPT = "Question: {question} Short answer:"
COLUMNS = ("context", "label", "image_id", "text_label", "split", "question_id")


def vqav2_records(joined: pd.DataFrame, unmatched: dict[str, int], split: str = SPLIT
                  ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Eval records from ``join_questions_annotations``'s output; skips by reason (non-zero only)."""
    skipped = {f"{split}: {reason}": n for reason, n in unmatched.items() if n}
    rows = []
    for question_id, image_id, question, answers in zip(joined["question_id"], joined["image_id"],
                                                         joined["question"], joined["answers"]):
        if not answers:
            key = f"{split}: no answers"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        rows.append((PROMPT.format(question=question.strip()), "", vqav2.image_file_name(image_id, SUBSET),
                     list(answers), split, question_id))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), skipped


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """``{"en": EvalPart}`` with the val records."""
    check_languages(languages, LANGUAGES, "VQAv2 val")
    if not languages:
        return {}
    questions = vqav2.read_questions(Path(raw_dir) / vqav2.questions_file(SUBSET))
    annotations = vqav2.read_annotations(Path(raw_dir) / vqav2.annotations_file(SUBSET))
    records, skipped = vqav2_records(*vqav2.join_questions_annotations(questions, annotations))
    return {"en": EvalPart(records=records, skipped=skipped)}


BENCHMARK = EvalBenchmark(
    name="vqav2_val",
    description="VQAv2 val: English open-ended VQA on COCO val2014 images; text_label lists the ten "
                "annotators' answers.",
    languages=LANGUAGES,
    build=build,
    image_path=coco.image_path,
    extra_fields=("question_id",),
    sources=("vqav2",),
)
