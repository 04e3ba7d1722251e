"""One image folder for a whole export, whatever roots its images come from: what LLaVA-style
trainers take as ``--image_folder`` (they open ``os.path.join(image_folder, record["image"])``).

Every image root has a place in such a folder, its publisher's path (``mount``): ``coco_train2017``
is at ``coco/train2017``, ``vflan`` at ``vflan/images_191task_1k``, the raw root at the top, and
mmassets' own ``repaired`` JPEGs at ``mmassets_repaired``; so a record's path in the export
(``folder_path``) is the path its publisher wrote, unless mmassets repaired the image or the root
lives elsewhere. ``link_image_folder`` makes the folder out of symbolic links, one per image
directory (so a few hundred links for a million images), pointing at the roots where they are.
Nothing here imports Dagster.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmassets.files import move_dir_into_place
from mmassets.image_roots import default_folder, split_published

MOUNTS = {"repaired": "mmassets_repaired"}
"""Roots placed somewhere other than their default folder (the derived roots live in the data folder)."""


def mount(root: str) -> str:
    """Where a root's images sit in an export's image folder ("" for the raw root)."""
    return MOUNTS.get(root, "") or default_folder(root)


def folder_path(root: str, path: str) -> str:
    """An image's path in an export's image folder: its root's mount, then its path under the root."""
    place = mount(root)
    return f"{place}/{path}" if place else path


def link_plan(files: Mapping[str, str | Path]) -> tuple[dict[str, str], dict[str, str]]:
    """(directory links, file links) that make every ``folder path → real file`` of ``files``
    resolve: a directory is linked whole when all its images come from one real directory and no
    other image directory lies below it; else its files are linked one by one."""
    by_dir: dict[str, set[str | None]] = {}
    for path, real in files.items():  # a file whose name differs from its real one cannot be reached by a directory link
        real = str(real)
        by_dir.setdefault(posixpath.dirname(path), set()).add(
            os.path.dirname(real) if posixpath.basename(path) == os.path.basename(real) else None)
    ancestors = {parent for d in by_dir for parent in _parents(d)}
    dir_links = {d: next(iter(reals)) for d, reals in by_dir.items()
                 if d and len(reals) == 1 and None not in reals and d not in ancestors}
    file_links = {path: str(real) for path, real in files.items() if posixpath.dirname(path) not in dir_links}
    return dir_links, file_links


def _parents(directory: str) -> list[str]:
    parts = directory.split("/") if directory else []
    return ["/".join(parts[:i]) for i in range(len(parts))]


def link_image_folder(target: Path, files: Mapping[str, str | Path]) -> Path:
    """Build ``target`` (``link_plan``; links to absolute paths) beside it, then rename it into place."""
    dir_links, file_links = link_plan(files)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        for place, real in [*sorted(dir_links.items()), *sorted(file_links.items())]:
            link = staging / place
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.abspath(real), link)
        move_dir_into_place(staging, target, lambda _: False)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def row_images(roots: Sequence[str], images: Sequence[Any], firsts: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Each row's images as (root, path under it): a conversation row's ``images`` (a list; none for
    a text-only record), else its one ``image``. A path under the raw root that lies in a published
    folder is given that folder's root (``split_published``), so that a moved root is followed."""
    out = []
    for root, paths, first in zip(roots, images, firsts):
        paths = list(paths) if isinstance(paths, (list, tuple, np.ndarray)) else [first]
        out.append([split_published(p) if root == "raw" else (root, p) for p in paths])
    return out


def export_paths(located: Sequence[Sequence[tuple[str, str]]]) -> list[list[str]]:
    """Each row's image paths in the export's image folder (``folder_path``)."""
    return [[folder_path(root, path) for root, path in row] for row in located]


def folder_files(located: Sequence[Sequence[tuple[str, str]]], root_folder: Callable[[str], Path]) -> dict[str, str]:
    """Folder path → real file of every image of ``located`` rows (``root_folder``: a root's folder)."""
    folders = {root: str(root_folder(root)) for root in {root for row in located for root, _ in row}}
    return {folder_path(root, path): f"{folders[root]}/{path}" for row in located for root, path in row}
