"""MaRVL: multicultural reasoning over pairs of images (IGLUE, zero-shot test).

Per language, split ``test`` from ``iglue/marvl/zero_shot/annotations/marvl-<lang>.jsonl``. Each record
has two images, ``left_image`` and ``right_image`` = ``<language>/images/<concept>/<file>`` in Unicode
NFKD form (the form of the folder names on disk), relative to ``iglue/marvl/images/``; image_id is the
left one. Context = the caption, text_label = ``"True"``/``"False"``; ``concept`` and ``language`` are
kept as written in the annotation.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, RawInputError, build_each, check_languages
from mmassets.sources import iglue

SPLIT = "test"
EXTRA_FIELDS = ("left_image", "right_image", "concept", "language")
COLUMNS = ("context", "label", "image_id", "text_label", "split", *EXTRA_FIELDS)


def marvl_image_id(language: str, concept: str, file_name: str) -> str:
    """``<language>/images/<concept>/<file>`` in NFKD, as the image folders are named on disk."""
    return unicodedata.normalize("NFKD", f"{language}/images/{concept}/{file_name}")


def marvl_records(frame: pd.DataFrame) -> pd.DataFrame:
    """Eval records (label empty) from the rows of one MaRVL file, in file order."""
    rows = []
    for concept, language, caption, left, right, label in frame[list(iglue.MARVL_COLUMNS)].itertuples(index=False):
        left_image = marvl_image_id(language, concept, left)
        right_image = marvl_image_id(language, concept, right)
        rows.append((caption, "", left_image, str(bool(label)), SPLIT, left_image, right_image, concept, language))
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart | RawInputError]:
    """Test records of each requested language (one file each: a language without it fails alone)."""
    check_languages(languages, iglue.MARVL_LANGUAGES, "MaRVL")
    return build_each(languages, lambda language: EvalPart(
        records=marvl_records(iglue.read_marvl(Path(raw_dir) / iglue.marvl_file(language)))))


BENCHMARK = EvalBenchmark(
    name="marvl",
    description="MaRVL (IGLUE): is a caption true of a pair of culturally specific images (True/False); "
                "zero-shot test in Indonesian, Swahili, Tamil, Turkish and Chinese.",
    languages=iglue.MARVL_LANGUAGES,
    build=build,
    image_path=iglue.marvl_image_path,
    image_columns=("left_image", "right_image"),
    extra_fields=EXTRA_FIELDS,
    sources=("marvl",),
)
