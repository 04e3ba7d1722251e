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
    # ShareGPT4V, ALLaVA, Vision-Flan and LLaVA-1.5 (ConvLLaVA's data folder)
    "coco_train2017": "coco/train2017",
    "sharegpt4v_llava": "llava/llava_pretrain/images",  # LLaVA-Pretrain's images where ShareGPT4V's files name them
    "sam": "sam/images",
    "share_textvqa": "share_textvqa",
    "web_celebrity": "web-celebrity",
    "web_landmark": "web-landmark",
    "wikiart": "wikiart",
    "allava_laion": "allava_laion",
    "allava_vflan": "allava_vflan",
    "vflan": "vflan/images_191task_1k",  # Vision-Flan's records name images relative to it
    # DataOptim's sources (besides coco, gqa, ocr_vqa, textvqa, vg)
    "flickr30k": "flickr30k/images",
    "textcaps": "textcaps/train_images",
}
"""Root name → folder under the raw root (publisher's layout)."""

DERIVED_ROOTS = {"repaired": "images/repaired"}
"""Roots of images mmassets makes, under the data folder: ``repaired`` holds real JPEGs of images
whose content was not what their extension says (``mmassets.images.verify``), at their published path."""

PUBLISHED_PREFIXES = ("coco/train2017", "llava/llava_pretrain/images", "sam/images", "gqa/images", "ocr_vqa/images",
                      "textvqa/train_images", "vg", "share_textvqa", "web-celebrity", "web-landmark", "wikiart",
                      "allava_laion", "allava_vflan")
"""The folders of the LLaVA-family data folder whose paths (``coco/train2017/…``) the publishers'
files use, each its own root (``split_published``)."""
_PREFIX_ROOTS = {folder: name for name, folder in DEFAULT_ROOTS.items() if folder in PUBLISHED_PREFIXES}

ENV_PREFIX = "MMASSETS_IMAGE_ROOT_"


def roots_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """``MMASSETS_IMAGE_ROOT_<NAME>=<folder>`` settings as ``{name: folder}``."""
    return {key[len(ENV_PREFIX):].lower(): value for key, value in env.items()
            if key.startswith(ENV_PREFIX) and value}


def split_published(path: str) -> tuple[str, str]:
    """A data-folder path (``coco/train2017/000000000009.jpg``) as (root, path under it): the root
    of its longest published prefix (``coco_train2017``, ``000000000009.jpg``), else ``raw``."""
    parts = path.split("/")
    for depth in range(len(parts) - 1, 0, -1):
        root = _PREFIX_ROOTS.get("/".join(parts[:depth]))
        if root:
            return root, "/".join(parts[depth:])
    return "raw", path


def default_folder(root: str) -> str:
    """Where a root sits by default, relative to the raw root (derived roots: to the data folder);
    "" for the raw root itself."""
    folder = DEFAULT_ROOTS.get(root) or DERIVED_ROOTS[root]
    return "" if folder == "." else folder


def resolve_roots(raw_dir: str | Path, overrides: Mapping[str, str] | None = None,
                  data_dir: str | Path | None = None) -> dict[str, Path]:
    """Every root's folder: the override when given, else its default under ``raw_dir`` (the
    derived roots under ``data_dir``, when given)."""
    overrides = dict(overrides or {})
    known = {**DEFAULT_ROOTS, **DERIVED_ROOTS}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"unknown image root(s) {unknown} (from {ENV_PREFIX}<NAME>); "
                         f"the roots are {', '.join(known)}")
    roots = {name: Path(raw_dir) / folder for name, folder in DEFAULT_ROOTS.items()}
    if data_dir is not None:
        roots.update({name: Path(data_dir) / folder for name, folder in DERIVED_ROOTS.items()})
    roots.update({name: Path(folder).resolve() for name, folder in overrides.items()})
    return roots
