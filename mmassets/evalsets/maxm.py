"""MaXM: multilingual VQA on XM3600 images (7 languages, split ``test``).

One record per question-answer pair of ``maxm/maxm_v1_<lang>.json``, in file order: the context asks
the question and for a short answer in the language (by English name), ``text_label`` is the list of
processed answers, ``image_id`` the XM3600 file ``<key>.jpg``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, RawInputError, build_each, check_languages
from mmassets.languages import LanguageTable
from mmassets.sources import maxm

SPLIT = "test"
PROMPT = "Question: {question} Answer briefly in {language}."
COLUMNS = ("context", "label", "image_id", "text_label", "split")


def maxm_records(qa: pd.DataFrame, language_name: str, split: str = SPLIT) -> tuple[pd.DataFrame, dict[str, int]]:
    """Eval records of one language from ``read_maxm``'s rows, and skips by reason: a blank
    question or no processed answer."""
    rows, skipped = [], {}
    for image_id, question, processed in zip(qa["image_id"], qa["question"], qa["processed_answers"]):
        reason = "empty question" if not question.strip() else "no processed answers" if not processed else None
        if reason:
            key = f"{split}: {reason}"
            skipped[key] = skipped.get(key, 0) + 1
            continue
        rows.append((PROMPT.format(question=question.strip(), language=language_name), "", f"{image_id}.jpg",
                     list(processed), split))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), skipped


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart | RawInputError]:
    """``{language: EvalPart}`` for the requested MaXM languages (one file each: a language without
    it fails alone)."""
    check_languages(languages, maxm.LANGUAGES, "MaXM")
    table = LanguageTable.load()

    def language_part(lang: str) -> EvalPart:
        records, skipped = maxm_records(maxm.read_maxm(Path(raw_dir) / maxm.maxm_file(lang)), table[lang].display_name)
        return EvalPart(records=records, skipped=skipped)

    return build_each(languages, language_part)


BENCHMARK = EvalBenchmark(
    name="maxm",
    description="MaXM v1: multilingual VQA on Crossmodal-3600 images (test only); text_label lists the "
                "processed answers.",
    languages=maxm.LANGUAGES,
    build=build,
    image_path=maxm.image_path,
    sources=("maxm",),
)
