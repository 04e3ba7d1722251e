"""Crossmodal-3600 (XM3600): captioning eval records and COCO-format references in 36 languages.

Input (see ``sources.xm3600``): ``xm3600/captions.jsonl``, one image a line with a ``{"caption": [...]}``
object per language. Each language's split ``test`` has one record per image in file order (context =
the language's English name, label empty, text_label = the code, image_id = ``<key>.jpg``) and a
reference with all of the image's captions in that language, cleaned, NFC-normalised and, for zh/ja/th,
split into words. Skips are counted as in ``evalsets.xflickrco.caption_split``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mmassets.evalsets.base import EvalBenchmark, EvalPart, check_languages
from mmassets.evalsets.xflickrco import caption_split
from mmassets.sources.xm3600 import CAPTIONS_FILE, LANGUAGES, image_path, read_xm3600

SPLIT = "test"


def build_xm3600(raw_dir: Path, languages: Sequence[str]) -> dict[str, EvalPart]:
    """Records and references for each requested language; captions.jsonl is read once."""
    check_languages(languages, LANGUAGES, "xm3600")
    if not languages:
        return {}
    frame = read_xm3600(Path(raw_dir) / CAPTIONS_FILE, languages)
    parts = {}
    for language in languages:
        records, reference, skipped = caption_split(frame["image_id"].tolist(), frame[language].tolist(),
                                                    language, SPLIT)
        parts[language] = EvalPart(records, {SPLIT: reference}, skipped)
    return parts


BENCHMARK = EvalBenchmark(
    name="xm3600",
    description="Crossmodal-3600: 3,600 geographically diverse images captioned by native speakers in 36 "
                "languages; eval records per image and COCO-format references (zh/ja/th segmented into words).",
    languages=LANGUAGES,
    build=build_xm3600,
    image_path=image_path,
    captioning=True,
    sources=("xm3600",),
)
