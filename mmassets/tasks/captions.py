"""Image captioning records from a caption dataset (MSCOCO Karpathy for now)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.tasks.instructions import choose

CAPTION_INSTRUCTIONS = (
    "A short image caption:",
    "A short image description:",
    "Write a short description for the image.",
    "Briefly describe the content of the image.",
    "Caption the image in a few words.",
    "Give a brief description of the picture.",
)
"""English caption instructions; translated into every language of the mix."""

CAPTION_INSTRUCTIONS_NAMING_LANGUAGE = (
    "A short image caption in {language}:",
    "Write a short description of the image in {language}.",
    "Briefly describe the image in {language}.",
)
"""Instructions that name the target language in English, added to every language's list."""

_SPACES = re.compile(r"\s+")


def clean_caption(text: str) -> str:
    """Collapse whitespace (raw COCO captions carry newlines, double and trailing spaces)."""
    return _SPACES.sub(" ", text).strip()


def caption_records(images: pd.DataFrame, splits: Sequence[str], seed: int,
                    instructions: Sequence[str] = CAPTION_INSTRUCTIONS) -> TaskRecords:
    """One record per caption of the images in ``splits``, in file order; blank captions are skipped
    and counted. Columns: context (a seeded choice of instruction), label (the caption), image_id
    (the image file name)."""
    chosen = images[images["split"].isin(list(splits))]
    rows, blank = [], 0
    for filename, captions in zip(chosen["filename"], chosen["captions"]):
        for caption in map(clean_caption, captions):
            if caption:
                rows.append((caption, filename))
            else:
                blank += 1
    frame = pd.DataFrame(rows, columns=["label", "image_id"], dtype=object)
    frame.insert(0, "context", choose(instructions, len(frame), seed) if len(frame) else [])
    return TaskRecords(frame, {"blank caption": blank})


def sample_captions(images: pd.DataFrame, splits: Sequence[str], per_image: int, seed: int) -> pd.DataFrame:
    """Up to ``per_image`` non-blank captions of each image in ``splits``, a seeded choice kept in
    caption order: columns image_id (the file name), caption."""
    rng, rows = random.Random(seed), []
    chosen = images[images["split"].isin(list(splits))]
    for filename, captions in zip(chosen["filename"], chosen["captions"]):
        cleaned = [c for c in map(clean_caption, captions) if c]
        rows += [(filename, cleaned[i]) for i in sorted(rng.sample(range(len(cleaned)), min(per_image, len(cleaned))))]
    return pd.DataFrame(rows, columns=["image_id", "caption"], dtype=object)
