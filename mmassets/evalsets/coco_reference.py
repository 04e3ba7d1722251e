"""COCO-format caption reference files, as pycocotools and pycocoevalcap read them.

``{"images": [{"id", "file_name"}], "annotations": [{"id", "image_id", "caption"}]}`` with the image
id equal to the eval record's ``image_id`` string, so a prediction file is simply
``[{"image_id": record["image_id"], "caption": prediction}, ...]``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Sequence

import pandas as pd


def build_reference(image_ids: Sequence[str], captions: Iterable[Sequence[str]]) -> dict:
    """The reference dict for images (in order) and each image's reference captions."""
    images, annotations = [], []
    for image_id, refs in zip(image_ids, captions, strict=True):
        images.append({"id": image_id, "file_name": image_id})
        for caption in refs:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "caption": caption})
    return {"info": {"description": "mmassets caption references"}, "licenses": [],
            "type": "captions", "images": images, "annotations": annotations}


def reference_problems(reference: dict) -> list[str]:
    """Why ``reference`` is not a usable caption reference (empty list when it is).

    It must load in ``pycocotools.coco.COCO``, have unique image and annotation ids, every caption's
    image in ``images``, no empty caption, and accept a prediction per image through ``loadRes``.
    """
    from pycocotools.coco import COCO

    problems = []
    image_ids = [img.get("id") for img in reference.get("images", [])]
    ann_ids = [ann.get("id") for ann in reference.get("annotations", [])]
    if len(set(image_ids)) != len(image_ids):
        problems.append(f"{len(image_ids) - len(set(image_ids))} duplicate image ids")
    if len(set(ann_ids)) != len(ann_ids):
        problems.append(f"{len(ann_ids) - len(set(ann_ids))} duplicate annotation ids")
    known = set(image_ids)
    orphans = sum(ann.get("image_id") not in known for ann in reference.get("annotations", []))
    if orphans:
        problems.append(f"{orphans} captions whose image is not in images")
    blank = sum(not str(ann.get("caption", "")).strip() for ann in reference.get("annotations", []))
    if blank:
        problems.append(f"{blank} empty captions")
    if problems:
        return problems
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            coco = COCO()
            coco.dataset = reference
            coco.createIndex()
            predictions = [{"image_id": i, "caption": "a prediction"} for i in image_ids]
            coco.loadRes(predictions)
    except Exception as exc:  # noqa: BLE001 - any failure of pycocotools is the finding
        problems.append(f"pycocotools rejects it: {type(exc).__name__}: {exc}")
    return problems


def caption_eval_records(image_ids: Sequence[str], language: str, language_name: str) -> pd.DataFrame:
    """Eval records of a captioning benchmark: context = the language's English name (the
    evaluator's prompt template takes it), label empty, text_label = the language code."""
    return pd.DataFrame({"context": language_name, "label": "", "image_id": list(image_ids),
                         "text_label": language}, dtype=object)
