"""The image check of ConvLLaVA's datasets at their scale, through the code ``images/<dataset>`` runs
(``images.references`` then ``images.verify.check_images``):

- ``exists``: LLaVA-1.5's 665k records (the real mix's shape: ~624k distinct images over COCO
  train2017, GQA, OCR-VQA, TextVQA and VG, some shared by several records, 40k text-only) looked up
  on disk; the target is under 60 s. Then the rerun, which finds every file unchanged.
- ``decode``: real 640×480 JPEGs decoded (JPEG at reduced scale) by ``--workers`` processes; the
  rate gives the time for ShareGPT4V-PT's 1.2M images.

The files are made first (the exists step: 1-byte files, in the publishers' folders, so the page
cache holds what a warm data disk would; a cold disk is slower and is not measured here). Last line::

    exists_665k_s=<a> rerun_665k_s=<b> decode_per_s=<c> decode_1_2m_min=<d>

``python benchmarks/image_check_scale.py`` (about 3 minutes on 2 cores); ``--records 66500`` for a
quicker look.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmassets.image_roots import resolve_roots  # noqa: E402
from mmassets.images.references import image_references  # noqa: E402
from mmassets.images.verify import Wanted, check_images  # noqa: E402

SHARES = (("coco/train2017", 0.55), ("gqa/images", 0.14), ("ocr_vqa/images", 0.12), ("textvqa/train_images", 0.03),
          ("vg/VG_100K", 0.08), ("vg/VG_100K_2", 0.02))
TEXT_ONLY = 0.06
DISTINCT = 0.94
"""The 665k mix names about 624k distinct images; ShareGPT's 40k records have none."""


def mix_paths(records: int, rng: random.Random) -> list[list[str]]:
    with_image = int(records * (1 - TEXT_ONLY))
    distinct = int(with_image * DISTINCT)
    pool = []
    for folder, share in SHARES:
        pool += [f"{folder}/{i:012d}.jpg" for i in range(int(distinct * share / sum(s for _, s in SHARES)))]
    chosen = pool + [rng.choice(pool) for _ in range(with_image - len(pool))]
    rng.shuffle(chosen)
    images = [[p] for p in chosen] + [[] for _ in range(records - len(chosen))]
    rng.shuffle(images)
    return images


def make_files(raw: Path, paths: set[str]) -> None:
    for folder in {p.rsplit("/", 1)[0] for p in paths}:
        (raw / folder).mkdir(parents=True, exist_ok=True)
    for path in paths:
        fd = os.open(raw / path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"x")
        os.close(fd)


def wanted_of(raw: Path, images: list[list[str]]) -> list[Wanted]:
    table = image_references(pd.Series(images), "raw")
    roots = resolve_roots(raw)
    return [Wanted(str(roots[r] / p)) for r, p in zip(table["root"], table["path"])]


def exists_step(work: Path, records: int) -> tuple[float, float, int]:
    raw = work / "raw"
    images = mix_paths(records, random.Random(0))
    start = time.perf_counter()
    make_files(raw, {p for paths in images for p in paths})
    print(f"made {sum(map(len, images)):,} references' files in {time.perf_counter() - start:.1f} s", flush=True)
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        wanted = wanted_of(raw, images)
        results, counts = check_images(wanted, level="exists", cache_dir=work / "cache", log=print, label="exists")
        timings.append(time.perf_counter() - start)
        assert (results["status"] == "ok").all(), results["status"].value_counts()
        print(f"{records:,} records, {len(wanted):,} distinct images: {timings[-1]:.1f} s ({counts})", flush=True)
    return timings[0], timings[1], len(wanted)


def decode_step(work: Path, images: int, workers: int) -> float:
    from PIL import Image

    folder = work / "jpegs"
    folder.mkdir()
    rng = random.Random(1)
    base = [Image.effect_noise((640, 480), rng.randrange(20, 80)).convert("RGB") for _ in range(8)]
    for i in range(images):
        base[i % len(base)].save(folder / f"{i:06d}.jpg", "JPEG", quality=85 + i % 10)
    wanted = [Wanted(str(folder / f"{i:06d}.jpg")) for i in range(images)]
    start = time.perf_counter()
    results, _ = check_images(wanted, level="decode", cache_dir=work / "decode_cache", workers=workers, chunk=500)
    elapsed = time.perf_counter() - start
    assert (results["status"] == "ok").all()
    rate = images / elapsed
    print(f"decoded {images:,} 640x480 JPEGs with {workers} workers in {elapsed:.1f} s: {rate:,.0f}/s", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=665_298, help="records of the mix (LLaVA-1.5: 665,298)")
    parser.add_argument("--decode-images", type=int, default=4_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mmassets-image-check-") as tmp:
        first, rerun, _ = exists_step(Path(tmp), args.records)
        rate = decode_step(Path(tmp), args.decode_images, args.workers)
    print(f"exists_665k_s={first * 665_298 / args.records:.1f} rerun_665k_s={rerun * 665_298 / args.records:.1f} "
          f"decode_per_s={rate:.0f} decode_1_2m_min={1_246_901 / rate / 60:.1f}")


if __name__ == "__main__":
    main()
