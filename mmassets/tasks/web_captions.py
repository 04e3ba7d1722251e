"""mBLIP's web-caption task (BLIP Web CapFilt): the sample's image names, the English records, and
the instruction lists of the training file (``data/pretrain/generate_train.py``,
``translate_train.py``).

- The sample is either mBLIP's released file (its entries in order, images named by the base name
  of ``jpg``) or a concept-balanced sample of BLIP's file (``tasks.concepts``); either way a
  caption's image is ``{position:08d}.jpg`` by its position in the sample unless the release names
  it.
- English records: context a seeded choice of the five English caption instructions, label the
  caption, image_id the image's file name; only captions whose image was downloaded are kept.
- The training file: per language, record ``i`` takes slot ``i % n`` of that language's list — six
  English templates naming the language, then the language's translations of the five
  instructions (translations that still contain "image caption" dropped); English cycles the six
  naming "English" and the five plain ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from mmassets.records import TaskRecords
from mmassets.tasks.captions import clean_caption
from mmassets.tasks.instructions import choose

WEB_CAPTION_INSTRUCTIONS = (
    "Caption the image.",
    "Short image caption: ",
    "Briefly describe the image.",
    "Write a short image description.",
    "Summarize the image.",
)
"""mBLIP's five English caption instructions (the trailing space is upstream's)."""

WEB_CAPTION_INSTRUCTIONS_NAMING_LANGUAGE = (
    "Caption the image in {}.",
    "Short {} image caption: ",
    "Image caption (in {}): ",
    "Briefly describe the image in {}.",
    "Write a short {} image description.",
    "Summarize the image in {}.",
)
"""mBLIP's six templates that name the language in English: the first slots of every language."""

UNWANTED_IN_TRANSLATION = "image caption"
"""A translated instruction still containing this (left in English) is dropped, as upstream."""


def select_sample(captions: pd.DataFrame, chosen: Iterable[Sequence[int]] | None) -> pd.DataFrame:
    """The sample, in source order: the rows of ``captions`` (the raw file) named in any of the
    ``chosen`` lists (a concept draw), or every row when ``chosen`` is None (mBLIP's released
    sample). Columns: source_index (row of the raw file), url, caption, image_id."""
    if chosen is None:
        rows = np.arange(len(captions), dtype=np.int64)
    else:
        lists = [np.asarray(c, dtype=np.int64) for c in chosen]
        rows = np.unique(np.concatenate(lists)) if lists else np.array([], dtype=np.int64)
    sample = captions.iloc[rows].reset_index(drop=True)
    sample.insert(0, "source_index", rows)
    sample["image_id"] = image_names(sample).to_numpy()
    return sample[["source_index", "url", "caption", "image_id"]]


def image_names(sample: pd.DataFrame) -> pd.Series:
    """Each sampled caption's image file name: the release's own (``image_id``) where the sample is
    mBLIP's released file, else ``{position:08d}.jpg`` as mBLIP's downloader names them."""
    if "image_id" in sample.columns:
        return sample["image_id"].astype(object)
    return pd.Series([f"{i:08d}.jpg" for i in range(len(sample))], index=sample.index, dtype=object)


def web_caption_records(sample: pd.DataFrame, downloaded: set[str], seed: int) -> TaskRecords:
    """The English records of the sampled captions whose image is in ``downloaded`` (file names), in
    sample order: context, label, image_id, and source_id (the caption's row in the raw file).
    Captions without an image, and blank ones, are skipped and counted."""
    have = sample["image_id"].isin(downloaded)
    captions = sample.loc[have, "caption"].map(clean_caption)
    blank = captions == ""
    kept = sample.loc[have].loc[~blank]
    frame = pd.DataFrame({"label": captions[~blank].astype(object), "image_id": kept["image_id"].astype(object),
                          "source_id": kept["source_index"].astype("int64")}).reset_index(drop=True)
    frame.insert(0, "context", choose(WEB_CAPTION_INSTRUCTIONS, len(frame), seed) if len(frame) else [])
    return TaskRecords(frame, {"no image downloaded": int((~have).sum()), "blank caption": int(blank.sum())})


def keep_translated_instruction(text: str | None) -> bool:
    return bool(text and text.strip()) and UNWANTED_IN_TRANSLATION not in text


def instruction_list(language_name: str, translated: Sequence[str] | None) -> list[str]:
    """A language's instructions in slot order: the six naming it, then its kept translations
    (``None``: the language is English, whose five plain instructions follow instead)."""
    named = [template.format(language_name) for template in WEB_CAPTION_INSTRUCTIONS_NAMING_LANGUAGE]
    rest = list(WEB_CAPTION_INSTRUCTIONS) if translated is None else [t for t in translated
                                                                       if keep_translated_instruction(t)]
    return named + rest
