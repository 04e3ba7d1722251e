"""Generators for the sample profile: tiny deterministic copies of every raw dataset in its real upstream format."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from mmassets.files import DIR_MODE, discard, owned_prefix, remove_leftovers

from mmassets.sample.aokvqa import write_aokvqa
from mmassets.sample.coco import write_coco
from mmassets.sample.convllava import write_convllava
from mmassets.sample.dataoptim import write_dataoptim
from mmassets.sample.imagenet import write_imagenet
from mmassets.sample.iglue import write_iglue
from mmassets.sample.llava import write_llava
from mmassets.sample.llm_jp import write_llm_jp
from mmassets.sample.maxm import write_maxm
from mmassets.sample.pope import write_pope
from mmassets.sample.vqav2 import write_vqav2
from mmassets.sample.web_captions import write_web_captions
from mmassets.sample.xflickrco import write_xflickrco
from mmassets.sample.xm3600 import write_xm3600

SAMPLE_VERSION = 8
MARKER_NAME = ".mmassets-sample.json"

#: One ``(raw_dir, seed) -> None`` writer per dataset, run in order.
GENERATORS: list[Callable[[Path, int], None]] = [
    write_coco,
    write_iglue,
    write_xflickrco,
    write_xm3600,
    write_maxm,
    write_pope,
    write_vqav2,
    write_aokvqa,
    write_llava,
    write_imagenet,
    write_web_captions,
    write_llm_jp,
    write_convllava,
    write_dataoptim,
]

__all__ = ["GENERATORS", "MARKER_NAME", "SAMPLE_VERSION", "SampleFolderRefused", "check_sample_target", "ensure_sample_raw"]


def _marker_payload(seed: int) -> dict[str, object]:
    return {"generator": "mmassets.sample", "version": SAMPLE_VERSION, "seed": seed}


class SampleFolderRefused(ValueError):
    """The sample profile was pointed at a folder it did not make: it writes nothing there."""


def _marker(raw_dir: Path) -> dict | None:
    try:
        marker = json.loads((raw_dir / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("generator") == "mmassets.sample" else None


def _has_valid_marker(raw_dir: Path, seed: int) -> bool:
    marker = _marker(raw_dir)
    return marker is not None and marker.get("version") == SAMPLE_VERSION and marker.get("seed") == seed


def check_sample_target(raw_dir: Path) -> None:
    """Refuse a ``raw_dir`` that the generator may not replace: anything but a missing path, an
    empty folder or a folder it made itself (marked with ``.mmassets-sample.json``)."""
    raw_dir = Path(raw_dir)
    if not os.path.lexists(raw_dir) or _marker(raw_dir) is not None:
        return
    if raw_dir.is_dir() and not raw_dir.is_symlink() and not any(raw_dir.iterdir()):
        return
    what = "is not a folder" if not raw_dir.is_dir() or raw_dir.is_symlink() else "is not empty"
    raise SampleFolderRefused(
        f"{raw_dir} {what} and was not made by the sample generator (no {MARKER_NAME}): the sample profile "
        "writes its generated raw root only into a new or empty folder, and leaves this one untouched. "
        "To read your own raw files from it, use --profile production; for the sample, give --raw-dir a "
        "new folder or leave it unset.")


def ensure_sample_raw(raw_dir: Path, *, seed: int = 0) -> Path:
    """Make sure a complete sample raw root for ``seed`` exists at ``raw_dir``; return it.

    A marker written last (``.mmassets-sample.json``, holding the generator version and
    seed) means the root is complete and the generator's own. Without a valid marker, everything is
    generated into a temporary sibling folder that is then renamed into place — over a missing path,
    an empty folder or an older root of the generator's, never anything else (``SampleFolderRefused``).
    If another process puts a valid root there first, its copy is kept.

    The temporary folder, ``.tmp-sample-<pid>@<machine>.<random>``, names its process: the folders
    that killed generations left beside ``raw_dir`` are deleted here (``files.remove_leftovers``), a
    running generation's never. The root gets the mode of an ordinary folder (umask honoured).
    """
    raw_dir = Path(raw_dir)
    remove_leftovers(raw_dir.parent)
    if _has_valid_marker(raw_dir, seed):
        return raw_dir
    check_sample_target(raw_dir)
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=raw_dir.parent, prefix=owned_prefix(".tmp-sample-")))
    try:
        os.chmod(tmp, DIR_MODE)  # mkdtemp's folder is private; the root is an ordinary one
        for generate in GENERATORS:
            generate(tmp, seed)
        (tmp / MARKER_NAME).write_text(json.dumps(_marker_payload(seed), sort_keys=True) + "\n", encoding="utf-8")
        if _has_valid_marker(raw_dir, seed):
            shutil.rmtree(tmp)
            return raw_dir
        check_sample_target(raw_dir)  # nobody put anything else there while we generated
        if _marker(raw_dir) is not None:
            discard(raw_dir)
        try:
            os.rename(tmp, raw_dir)  # over a missing path or an empty folder
        except OSError:
            if not _has_valid_marker(raw_dir, seed):
                raise
            shutil.rmtree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return raw_dir
