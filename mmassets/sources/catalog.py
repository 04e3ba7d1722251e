"""Which raw files make up each upstream dataset, and their fingerprints.

A dataset's **version** is a sha256 over the relative path and sha256 of each of its annotation
files (images are not hashed: they are large and never change alone); its **stamp** is the cheap
(path, size, mtime) listing a sensor polls to notice new or changed files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mmassets.files import sha256_file

DATASET_FILES: dict[str, tuple[str, ...]] = {
    "coco": ("coco/dataset_coco.json",),
    "blip": ("blip/ccs_synthetic_filtered_large.json", "blip/ccs_synthetic_filtered_large_2273005_raw.json"),
    "gqa": ("iglue/gqa/annotations/*.json", "iglue/xGQA/annotations/**/*.json"),
    "xvnli": ("iglue/XVNLI/annotations/**/*.jsonl",),
    "marvl": ("iglue/marvl/zero_shot/annotations/*.jsonl",),
    "flickr30k": ("iglue/flickr30k/annotations/*.jsonl",),
    "xflickrco": ("iglue/xFlickrCO/annotations/**/*.jsonl",),
    "xm3600": ("xm3600/captions.jsonl",),
    "maxm": ("maxm/*.json",),
    "pope": ("pope/*.json",),
    "vqav2": ("vqav2/*.json",),
    "aokvqa": ("aokvqa/*.json",),
    "llava": ("llava/*.json",),
    "llava_pretrain": ("llava_pretrain/*.json",),
    "llm_jp": ("llm_jp/alt_pair_ja/*.json", "llm_jp/llava_instruct_ja/*.json", "llm_jp/japanese-photos/*.json",
               "llm_jp/ja-vg-vqa/*.json"),
    "synthdog_ja": ("llm_jp/synthdog-ja/data/*.parquet",),
    "llm_jp_pairs": ("llm_jp/alt_pair_ja/*.jsonl",),
    "llm_jp_interleaved": ("llm_jp/interleaved_ja/*.jsonl",),
    "llm_jp_ids": ("llm_jp/ids/*.gz",),
    "coyo": ("coyo/*.parquet",),
    "mmc4": ("mmc4/docs_shard_*_v3.jsonl", "mmc4/docs_shard_*_v3.jsonl.zip", "mmc4/docs_no_face_shard_*_v3.jsonl",
             "mmc4/docs_no_face_shard_*_v3.jsonl.zip"),
    "sharegpt4v": ("sharegpt4v/*.json",),
    "allava": ("allava_laion/*.json", "allava_vflan/*.json"),
    "vflan": ("vflan/*.json",),
    "flickr30k_karpathy": ("flickr30k/dataset_flickr30k.json",),
    "textcaps": ("textcaps/*.json",),
    "textvqa": ("textvqa/*.json",),
    "okvqa": ("okvqa/*.json",),
    "ocrvqa": ("ocr_vqa/dataset.json",),
    "gqa_balanced": ("gqa/train_balanced_questions.json",),
    "refcoco": ("refcoco/*/*.p", "refcoco/*/instances.json"),
    "shikra": ("shikra/*.jsonl",),
    "svit": ("svit/*.json",),
    "imagenet": ("imagenet/imagenet_class_index.json",),
    "babel_imagenet": ("babel_imagenet/*.json",),
}
"""Dataset → glob patterns of its annotation files under the raw root."""

MISSING = "missing"


def dataset_files(raw_dir: str | Path, dataset: str) -> list[Path]:
    raw_dir = Path(raw_dir)
    found = {p for pattern in DATASET_FILES[dataset] for p in raw_dir.glob(pattern) if p.is_file()}
    return sorted(found)


def version(raw_dir: str | Path, dataset: str) -> tuple[str, list[Path]]:
    """(sha256 over the dataset's files, the files); ``"missing"`` when it has none."""
    files = dataset_files(raw_dir, dataset)
    if not files:
        return MISSING, files
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.relative_to(raw_dir).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest(), files


def stamp(raw_dir: str | Path, dataset: str) -> str:
    """A cheap fingerprint (paths, sizes, modification times) that changes when files do."""
    parts = [f"{p.relative_to(raw_dir).as_posix()}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
             for p in dataset_files(raw_dir, dataset)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
