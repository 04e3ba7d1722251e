"""xFlickrCO (IGLUE captioning, 8 languages, test) and Flickr30k (IGLUE, English): eval records and
COCO-format references; plus the English Flickr30k training captions.

Inputs (see ``sources.flickr``): JSON lines ``{"sentences": [...], "id", "img_path"}``, one image a line.
For each language and split the eval records are one per image in file order (context = the language's
English name, label empty, text_label = the language code, image_id = ``img_path``) and the reference
holds every caption of the image, whitespace-collapsed, NFC-normalised and, for zh/ja/th, split into
words (``evalsets.segmentation``). Blank captions, images left without a caption and repeated images
(their captions are merged into the first occurrence) are counted in ``EvalPart.skipped``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmassets.evalsets.base import EvalBenchmark, EvalPart, RawInputError, build_each, check_languages
from mmassets.evalsets.coco_reference import build_reference, caption_eval_records
from mmassets.evalsets.segmentation import segment
from mmassets.languages import LanguageTable
from mmassets.records import TaskRecords
from mmassets.sources.flickr import (
    FLICKR30K_FILES,
    XFLICKRCO_LANGUAGES,
    flickr30k_image_path,
    read_flickr30k,
    read_xflickrco,
    xflickrco_file,
    xflickrco_image_path,
)
from mmassets.tasks.captions import CAPTION_INSTRUCTIONS, caption_records, clean_caption

XFLICKRCO_SPLIT = "test"
FLICKR30K_EVAL_SPLIT = "val"

FALLBACK_NAMES = {"he": "Hebrew", "hr": "Croatian", "quz": "Quechua", "fil": "Filipino"}
"""English names of benchmark languages that the language table lacks (it spells Hebrew ``iw``)."""

SKIP_REASONS = ("blank caption", "image without captions", "repeated image (captions merged)")


def language_name(code: str) -> str:
    """The English name of a language code: the language table's, else ``FALLBACK_NAMES``."""
    table = LanguageTable.load()
    if code in table.codes:
        return table[code].display_name
    if code in FALLBACK_NAMES:
        return FALLBACK_NAMES[code]
    raise KeyError(f"no English name for language code {code!r}")


def caption_split(image_ids: Sequence[str], captions: Sequence[Sequence[str]], language: str,
                  split: str) -> tuple[pd.DataFrame, dict, dict[str, int]]:
    """Eval records, COCO-format reference and skip counts of one language and split.

    ``image_ids[i]`` has the raw ``captions[i]``; each image keeps its first position, a repeated image
    adds its captions to it. Captions are cleaned and segmented; blank ones are dropped, and so are images
    left without any.
    """
    merged: dict[str, list[str]] = {}
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    for image_id, raw in zip(image_ids, captions, strict=True):
        if image_id in merged:
            skipped["repeated image (captions merged)"] += 1
        refs = merged.setdefault(image_id, [])
        for caption in raw:
            text = segment(clean_caption(caption), language)
            if text:
                refs.append(text)
            else:
                skipped["blank caption"] += 1
    kept = [image_id for image_id, refs in merged.items() if refs]
    skipped["image without captions"] = len(merged) - len(kept)
    records = caption_eval_records(kept, language, language_name(language))
    records["split"] = split
    return records, build_reference(kept, [merged[i] for i in kept]), skipped


def build_xflickrco(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart | RawInputError]:
    """xFlickrCO test records and references for each requested language (one file per language: a
    language without it fails alone)."""
    check_languages(languages, XFLICKRCO_LANGUAGES, "xflickrco")

    def language_part(language: str) -> EvalPart:
        frame = read_xflickrco(Path(raw_dir) / xflickrco_file(language))
        records, reference, skipped = caption_split(frame["img_path"].tolist(), frame["captions"].tolist(),
                                                     language, XFLICKRCO_SPLIT)
        return EvalPart(records, {XFLICKRCO_SPLIT: reference}, skipped)

    return build_each(languages, language_part)


def build_flickr30k(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """Flickr30k (IGLUE) English val records and references (``valid_ann.jsonl``)."""
    check_languages(languages, ("en",), "flickr30k")
    if not languages:
        return {}
    frame = read_flickr30k(Path(raw_dir) / FLICKR30K_FILES[FLICKR30K_EVAL_SPLIT])
    records, reference, skipped = caption_split(frame["img_path"].tolist(), frame["captions"].tolist(),
                                                "en", FLICKR30K_EVAL_SPLIT)
    return {"en": EvalPart(records, {FLICKR30K_EVAL_SPLIT: reference}, skipped)}


def flickr30k_train_records(raw_dir: Path, seed: int) -> TaskRecords:
    """English caption training records from ``train_ann.jsonl``: one per non-blank caption in file order,
    context a seeded choice of ``CAPTION_INSTRUCTIONS``, label the cleaned caption, image_id = img_path."""
    frame = read_flickr30k(Path(raw_dir) / FLICKR30K_FILES["train"])
    images = pd.DataFrame({"split": "train", "filename": frame["img_path"], "captions": frame["captions"]})
    return caption_records(images, ["train"], seed, CAPTION_INSTRUCTIONS)


BENCHMARK = EvalBenchmark(
    name="xflickrco",
    description="xFlickrCO (IGLUE): image captioning in 8 languages on 1,000 Flickr30k and 1,000 COCO "
                "images; eval records per image and COCO-format references (zh/ja segmented into words).",
    languages=XFLICKRCO_LANGUAGES,
    build=build_xflickrco,
    image_path=xflickrco_image_path,
    captioning=True,
    sources=("xflickrco",),
)

FLICKR30K = EvalBenchmark(
    name="flickr30k",
    description="Flickr30k (IGLUE/Karpathy split) English captioning, val split: eval records per image "
                "and COCO-format references with the five captions of each image.",
    languages=("en",),
    build=build_flickr30k,
    image_path=flickr30k_image_path,
    captioning=True,
    sources=("flickr30k",),
)
