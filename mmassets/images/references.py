"""The images a file of conversation records names, and what becomes of each record once they are
checked (``mmassets.images.verify``): kept with its images (a repaired one in the ``repaired``
root), kept though an image is missing, or dropped for a reason.

Paths are as published: relative to the data folder (``coco/train2017/…``, split into the root of
their folder by ``image_roots.split_published``) or, for a dataset whose records name images
relative to one folder (Vision-Flan's ``images_191task_1k``), relative to that ``base`` root.
Nothing here imports Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mmassets.image_roots import default_folder, split_published
from mmassets.images.verify import USABLE, repaired_name

ON_MISSING = ("drop", "keep", "fail")
REFERENCE_COLUMNS = ("root", "path", "records")
DROP_REASONS = ("unsafe path", "missing image", "unreadable image", "truncated image", "images under several roots")


def locate(path: str, base: str) -> tuple[str, str]:
    """(root, path under it) of a published path."""
    return split_published(path) if base == "raw" else (base, path)


def image_references(images: pd.Series, base: str) -> pd.DataFrame:
    """Each distinct image the records name, in first-use order: root, path under it, and how many
    records name it."""
    counts: dict[tuple[str, str], int] = {}
    for paths in images:
        for path in paths:
            key = locate(path, base)
            counts[key] = counts.get(key, 0) + 1
    return pd.DataFrame([(root, path, n) for (root, path), n in counts.items()], columns=list(REFERENCE_COLUMNS))


def repaired_path(root: str, path: str) -> str:
    """Where the repaired JPEG of an image goes under the ``repaired`` root: its published path."""
    folder = default_folder(root)
    return repaired_name(f"{folder}/{path}" if folder else path)


class MissingImages(ValueError):
    """``on_missing_image: fail`` and some records' images are missing."""


def resolve_records(records: pd.DataFrame, checked: pd.DataFrame, base: str, on_missing: str,
                    where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, dropped) records. ``records`` has ``images`` (published paths) and ``unsafe_path``;
    ``checked`` one row per image (root, path, status). A kept record gets ``image_root`` and
    ``images`` under it (a repaired image's root is ``repaired``; a text-only record's root is
    ``base``); a dropped one its ``reason`` (``DROP_REASONS``)."""
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing_image must be one of {', '.join(ON_MISSING)}, not {on_missing!r}")
    status = {(r, p): s for r, p, s in zip(checked["root"], checked["path"], checked["status"])}
    roots, paths, reasons = [], [], []
    for images, unsafe in zip(records["images"], records["unsafe_path"]):
        root, under, reason = _resolve(list(images), unsafe, base, status, on_missing)
        roots.append(root)
        paths.append(under)
        reasons.append(reason)
    frame = records.assign(image_root=roots, images=paths, reason=reasons)
    if on_missing == "fail" and (frame["reason"] == "missing: fail").any():
        bad = frame[frame["reason"] == "missing: fail"]
        raise MissingImages(f"{where}: {len(bad):,} records name images that are missing (on_missing_image: fail); "
                            f"the first: record {bad['source_index'].iloc[0]} (id {bad['id'].iloc[0]!r}), "
                            f"{list(records.loc[bad.index[0], 'images'])}")
    kept = frame[frame["reason"] == ""].drop(columns=["reason"]).reset_index(drop=True)
    return kept, frame[frame["reason"] != ""].reset_index(drop=True)


def _resolve(images: Sequence[str], unsafe: str, base: str, status: dict, on_missing: str) -> tuple[str, list, str]:
    if unsafe:
        return "", [], "unsafe path"
    if not images:
        return base, [], ""
    located = [locate(path, base) for path in images]
    states = [status[key] for key in located]
    if "missing" in states and on_missing != "keep":
        return "", [], "missing image" if on_missing == "drop" else "missing: fail"
    for bad in ("unreadable", "truncated"):
        if bad in states:
            return "", [], f"{bad} image"
    if "unsafe" in states:  # the check refused it unopened: a symlink out of the trusted roots
        return "", [], "unsafe path"
    placed = [("repaired", repaired_path(root, path)) if state == "repaired" else (root, path)
              for (root, path), state in zip(located, states)]
    if len({root for root, _ in placed}) > 1:
        return "", [], "images under several roots"
    assert all(state in USABLE or state == "missing" for state in states)
    return placed[0][0], [path for _, path in placed], ""
