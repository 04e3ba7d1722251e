"""Where DataOptim's image paths are on disk. DataOptim names images under one ``images/`` folder
(``coco/``, ``flickr30k/``, ``open_images/``, ``ocrvqa/``, ``visual_genome/``); mmassets reads them
from the publishers' folders, its image roots. ``locate`` maps a DataOptim path to (root, path
under it) per source: ``visual_genome/`` is GQA's image folder for GQA and Visual Genome's
``VG_100K``/``VG_100K_2`` for SVIT; ``open_images/`` is TextCaps' or TextVQA's ``train_images``.
An export then names each image as DataOptim does, in an image folder of links to the real files
(``images.image_folder``).
"""

from __future__ import annotations

from collections.abc import Callable

from mmassets.sources.coco import relative_image

FOLDER_ROOTS = {"flickr30k": "flickr30k", "ocrvqa": "ocr_vqa"}
OPEN_IMAGES = {"textcaps": "textcaps", "textvqa": "textvqa"}
VG_FOLDERS = ("VG_100K", "VG_100K_2")


def locate(source: str, path: str, exists: Callable[[str, str], bool] = lambda root, path: True) -> tuple[str, str]:
    """(root, path under it) of a DataOptim image path of ``source``; ``exists(root, path)`` picks
    between Visual Genome's two folders."""
    folder, _, rest = path.partition("/")
    if folder == "coco":
        return "coco", relative_image(rest)
    if folder == "open_images":
        return OPEN_IMAGES.get(source, "textvqa"), rest
    if folder == "visual_genome":
        if source == "gqa":
            return "gqa", rest
        candidates = [f"{sub}/{rest}" for sub in VG_FOLDERS]
        return "vg", next((c for c in candidates if exists("vg", c)), candidates[0])
    if folder in FOLDER_ROOTS:
        return FOLDER_ROOTS[folder], rest
    raise ValueError(f"{path!r} is not under one of DataOptim's image folders (coco, flickr30k, open_images, ocrvqa, "
                     "visual_genome)")
