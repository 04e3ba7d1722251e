"""Interleaved image–text documents in mmc4's format (llm-jp's Japanese interleaved data under
``llm_jp/interleaved_ja/*.jsonl``; mmc4-core's ``docs_<shard>_v3.jsonl``), one document a line::

    {"url", "text_list": [sentence, ...],
     "image_info": [{"image_name", "raw_url", "matched_text_index", "matched_sim", "face_detections"}, ...],
     "similarity_matrix": [[sim per sentence] per image], "could_have_url_duplicate"}

VILA's mmc4 loader zips ``image_info`` with ``similarity_matrix`` (an image without its row is
silently dropped), keeps at most six images and puts ``<image>`` before each image's matched
sentence; the image itself is ``image_info[i].image_base64``, which the downloader adds. A
document is checked as it is read: the file, line and field of a malformed one are named.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mmassets.sources.validation import EMPTY_HINT, RawFormatError, files_matching, jsonl_records

FOLDER = "llm_jp/interleaved_ja"
MMC4_FOLDER = "mmc4"
"""mmc4-core's shards, ``mmc4/docs_<shard>_v3.jsonl``."""
HOW_TO_GET = ("Download the JSON-lines files of gitlab.llm-jp.nii.ac.jp/datasets/llm-jp-japanese-interleaved-data "
              "into <raw root>/llm_jp/interleaved_ja/.")


def document_files(raw_dir: str | Path, folder: str = FOLDER) -> list[Path]:
    return files_matching(Path(raw_dir) / folder, "*.jsonl", HOW_TO_GET)


def check_document(doc: Any, path: Path, where: str) -> dict:
    """``doc`` if it is an mmc4 document we can use, else a RawFormatError naming the field."""
    if not isinstance(doc, dict):
        raise RawFormatError(path, f"expected an object, got {type(doc).__name__}", record=where)
    texts = doc.get("text_list")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise RawFormatError(path, "expected a list of strings", record=where, field="text_list")
    images = doc.get("image_info")
    if not isinstance(images, list):
        raise RawFormatError(path, "expected a list of images", record=where, field="image_info")
    for i, image in enumerate(images):
        field = f"image_info[{i}]"
        if not isinstance(image, dict) or not isinstance(image.get("raw_url"), str):
            raise RawFormatError(path, "expected an object with a string raw_url", record=where, field=field)
        index = image.get("matched_text_index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(texts):
            raise RawFormatError(path, f"matched_text_index {index!r} is not a sentence of text_list",
                                 record=where, field=f"{field}.matched_text_index")
    matrix = doc.get("similarity_matrix", [])
    if not isinstance(matrix, list):
        raise RawFormatError(path, "expected a list of rows", record=where, field="similarity_matrix")
    return doc


def read_documents(path: str | Path) -> Iterator[tuple[int, dict]]:
    """``(line number, document)`` of a JSON-lines file of mmc4 documents, streamed; blank lines
    skipped; a file with no document is an error (a broken download)."""
    path = Path(path)
    empty = True
    for number, doc in jsonl_records(path, HOW_TO_GET):
        empty = False
        yield number, check_document(doc, path, f"line {number}")
    if empty:
        raise RawFormatError(path, f"the file holds no documents; {EMPTY_HINT}")


def rows_missing(doc: Mapping) -> int:
    """Images VILA would drop silently: those past the end of ``similarity_matrix``."""
    return max(0, len(doc["image_info"]) - len(doc.get("similarity_matrix", [])))


def with_images(doc: Mapping, jpegs: Mapping[int, bytes]) -> dict | None:
    """The document as VILA's shards hold it: each image that was downloaded (``jpegs``: position in
    ``image_info`` → JPEG bytes) with its ``image_base64``, and its similarity row kept beside it;
    images that were not are dropped together with their rows, so the two stay aligned. None when
    no image is left."""
    matrix = doc.get("similarity_matrix", [])
    kept = [i for i in range(len(doc["image_info"])) if i in jpegs and i < len(matrix)]
    if not kept:
        return None
    out = dict(doc)
    out["image_info"] = [{**doc["image_info"][i], "image_base64": base64.b64encode(jpegs[i]).decode("ascii")}
                         for i in kept]
    out["similarity_matrix"] = [matrix[i] for i in kept]
    return out
