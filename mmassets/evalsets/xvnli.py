"""XVNLI: cross-lingual visual entailment (IGLUE) on Flickr30k images.

Per language: split ``test`` from ``iglue/XVNLI/annotations/<lang>/test.jsonl`` (``gold_label``),
split ``dev`` from ``en/dev.jsonl`` for English and ``en/dev-<lang>_gmt.jsonl`` otherwise (the first of
``annotator_labels``); English also gets split ``train`` from ``en/train.jsonl`` (``gold_label``), whose
records carry the label as ``label`` too (fine-tuning). Labels map entailment/contradiction/neutral to
yes/no/maybe; any other label (``"-"``: no consensus) is skipped and counted. Context = ``sentence2``
(the hypothesis), image_id = ``<Flikr30kID>.jpg`` under ``iglue/flickr30k/images/``; ``pair_id`` is kept.
Every file is optional, but a language needs its test or its dev file: the splits present are built
and the absent ones listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import (EvalBenchmark, EvalPart, RawInputError, build_each, check_languages,
                                    optional_file, present_files)
from mmassets.records import TaskRecords
from mmassets.sources import iglue

LABELS = {"entailment": "yes", "contradiction": "no", "neutral": "maybe"}
EXTRA_FIELDS = ("pair_id",)
COLUMNS = ("context", "label", "image_id", "text_label", "split", *EXTRA_FIELDS)
TRAIN_LANGUAGE = "en"


def flickr30k_image_id(value: str) -> str:
    """``<Flikr30kID>.jpg``: IGLUE's test files write the bare id, SNLI-VE's train/dev already add ``.jpg``."""
    return value if value.lower().endswith(".jpg") else f"{value}.jpg"


def xvnli_records(frame: pd.DataFrame, split: str, *, with_label: bool = False) -> TaskRecords:
    """Records of one XVNLI file in file order; ``with_label`` puts the mapped label in ``label``
    (train). Unknown raw labels are skipped, counted as ``"<split>: label '<raw>'"``."""
    rows, skipped = [], {}
    for pair_id, image, hypothesis, raw_label in frame[list(iglue.XVNLI_COLUMNS)].itertuples(index=False):
        label = LABELS.get(raw_label)
        if label is None:
            reason = f"{split}: label {raw_label!r}"
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        rows.append((hypothesis, label if with_label else "", flickr30k_image_id(image), label, split, pair_id))
    return TaskRecords(pd.DataFrame(rows, columns=list(COLUMNS), dtype=object), skipped)


def language_part(raw_dir: Path, language: str) -> EvalPart:
    """The splits of one language whose files are present (train only for English)."""
    present, absent = present_files(raw_dir, {"dev": iglue.xvnli_dev_file(language),
                                              "test": iglue.xvnli_test_file(language)}, iglue.XVNLI_HOW_TO_GET)
    built = []
    if language == TRAIN_LANGUAGE:
        path = optional_file(raw_dir, iglue.XVNLI_TRAIN_FILE, "split train (SNLI-VE's English train set)",
                             iglue.XVNLI_HOW_TO_GET, absent)
        if path is not None:
            built.append(xvnli_records(iglue.read_xvnli(path, "gold_label"), "train", with_label=True))
    if "dev" in present:
        built.append(xvnli_records(iglue.read_xvnli(present["dev"], "annotator_labels"), "dev"))
    if "test" in present:
        built.append(xvnli_records(iglue.read_xvnli(present["test"], "gold_label"), "test"))
    skipped = {reason: count for part in built for reason, count in part.skipped.items()}
    return EvalPart(records=pd.concat([part.frame for part in built], ignore_index=True), skipped=skipped,
                    absent=absent)


def build(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart | RawInputError]:
    """Records of the present splits of each requested language; a language with neither its dev
    nor its test file maps to the RawFileMissing naming them."""
    check_languages(languages, iglue.XVNLI_LANGUAGES, "XVNLI")
    return build_each(languages, lambda language: language_part(Path(raw_dir), language))


BENCHMARK = EvalBenchmark(
    name="xvnli",
    description="XVNLI (IGLUE): visual entailment of a hypothesis by a Flickr30k image, labels yes/no/maybe; "
                "test in 5 languages, dev (machine-translated for non-English) and the English SNLI-VE train set.",
    languages=iglue.XVNLI_LANGUAGES,
    build=build,
    image_path=iglue.flickr30k_image_path,
    extra_fields=EXTRA_FIELDS,
    sources=("xvnli",),
)
