"""Image roots: the named folders that records' image paths are relative to.

A record's ``image`` (conversation records) or ``image_id`` (mBLIP records) is a path relative to
its **image root**, named in the record's ``image_root`` column; each root is a folder setting,
by default a folder of the raw root in its publisher's layout. ``MMASSETS_IMAGE_ROOT_<NAME>``
(e.g. ``MMASSETS_IMAGE_ROOT_COCO=/datasets/coco``) moves one root elsewhere. A mixture export
writes beside its files which root each path is relative to, so that a trainer's ``--image_folder``
can be pointed at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DEFAULT_ROOTS = {
    "coco": "coco",                     # train2014/, val2014/ (COCO 2014; Karpathy file names)
    "imagenet": "imagenet/train",       # <wnid>/<file>
    "gqa": "gqa/images",
    "vg": "vg",                         # VG_100K/, VG_100K_2/
    "ocr_vqa": "ocr_vqa/images",
    "textvqa": "textvqa/train_images",
    "web_captions": "blip/images",      # images downloaded for BLIP's web captions
    "raw": ".",                         # the raw root itself: the LLaVA-family "data folder" (coco/train2017/..., gqa/images/...)
    "llava_pretrain": "llava_pretrain/images",
    "llm_jp_step0": "llm_jp/alt_pair_ja/image_step0",
    "llm_jp_step1": "llm_jp/alt_pair_ja/image_step1",  # downloaded by mmassets for the Step-1 pairs
    "llm_jp_interleaved": "llm_jp/interleaved_ja/images",  # downloaded for the interleaved documents
    "coyo": "coyo/images",              # downloaded for the COYO subset
    "mmc4": "mmc4/images",              # downloaded for the mmc4-core subset
    "japanese_photos": "llm_jp/japanese-photos/images",
    "llm_jp": "llm_jp",                 # synthdog-ja/image/... as llm-jp's converter names them
}
"""Root name → folder under the raw root (publisher's layout)."""

ENV_PREFIX = "MMASSETS_IMAGE_ROOT_"


def roots_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """``MMASSETS_IMAGE_ROOT_<NAME>=<folder>`` settings as ``{name: folder}``."""
    return {key[len(ENV_PREFIX):].lower(): value for key, value in env.items()
            if key.startswith(ENV_PREFIX) and value}


def resolve_roots(raw_dir: str | Path, overrides: Mapping[str, str] | None = None) -> dict[str, Path]:
    """Every root's folder: the override when given, else its default under ``raw_dir``."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(DEFAULT_ROOTS))
    if unknown:
        raise ValueError(f"unknown image root(s) {unknown} (from {ENV_PREFIX}<NAME>); "
                         f"the roots are {', '.join(DEFAULT_ROOTS)}")
    return {name: Path(overrides[name]).resolve() if name in overrides else Path(raw_dir) / folder
            for name, folder in DEFAULT_ROOTS.items()}
