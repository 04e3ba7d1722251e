"""What every train asset shares — the final multilingual file of a task (instructions applied),
exported to ``exports/train/<task>.json``: the export, the stored columns (image root, lineage), the
metadata and the checks. The assets live in their family's module (``defs/families/``); the
mixtures of train assets in ``defs/mixtures.py``."""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs.common import checks
from mmassets.defs.common.accounting import counted_drops, refuse_empty
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.resources import NO_IMAGE_FOLDER, DataFolders, LanguageMix
from mmassets.conversations import LINEAGE_FIELDS
from mmassets.images.image_folder import export_paths, folder_files, link_image_folder, row_images
from mmassets.languages import SOURCE_LANGUAGE, largest_remainder_counts
from mmassets.records import TRAIN_FIELDS, write_conversations, write_records
from mmassets.sources import coco
from mmassets.text_limits import limit_conversations

TRAIN = dict(group_name="train", key_prefix="train", kinds={"pandas", "json"})
COLUMNS = [*TRAIN_FIELDS, "language", "image_root", "image", *LINEAGE_FIELDS]
"""A train asset's stored columns: the mBLIP record, its language, its image as a path relative to a
named image root (``mmassets.image_roots``), and its lineage: dataset, raw file (relative to the raw
root) and upstream id or record index. Exports hold the mBLIP record only."""
CONVERSATION_COLUMNS = ["id", "id_is_int", "record", "images", "turns", "language", "image_root", "image", "image_id",
                        *LINEAGE_FIELDS]
"""A conversation train asset's stored columns: the record as published (``record``, JSON), its
images (paths under ``image_root``; ``image``/``image_id`` the first, or "" for a text-only
record), its language, and its lineage."""
SOURCE_ID_COLUMNS = ("source_id", "question_id", "source_index")
"""Where a record's upstream id is found, first present first; else its row in the task."""


def train_specs(name: str, *, translated: bool = True) -> list[dg.AssetCheckSpec]:
    """The checks of a train asset; translated tasks also check their language counts."""
    names = [checks.SCHEMA, checks.IMAGES, *([checks.LANGUAGE_COUNTS] if translated else []), checks.ROW_COUNT,
             checks.DUPLICATES]
    return checks.specs(["train", name], *names)


def usable_translations(translated: pd.DataFrame, fields: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """The records of a translated task in source order whose ``fields`` all survived the quality
    gate, and how many were left out, by the gate's reason (``<field>: <flag>``)."""
    translated = translated.sort_values("source_index", kind="stable").reset_index(drop=True)
    keep = pd.Series(True, index=translated.index)
    dropped: dict[str, int] = {}
    for field in fields:
        ok = translated[field].map(lambda text: isinstance(text, str) and bool(text.strip()))
        flags = translated.loc[keep & ~ok, f"{field}_flag"].fillna("empty")
        for flag, n in flags.value_counts().items():
            dropped[f"{field}: {flag}"] = int(n)
        keep &= ok
    return translated[keep].reset_index(drop=True), dropped


def publish(context: dg.AssetExecutionContext, folders: DataFolders, name: str, frame: pd.DataFrame,
            *, translated: pd.DataFrame | None = None, n_english: int = 0,
            mix: LanguageMix | None = None, metadata: dict[str, Any] | None = None, multi_asset: bool = False,
            image_root: str = "coco",
            relative_image: Callable[[str], str] = coco.relative_image, source: tuple[str, str]) -> Iterator:
    """Check ``frame``, export it as ``exports/train/<name>.json`` when no blocking check failed,
    yield it with its metadata, then the train checks; ``translated`` (with ``n_english`` source records and the ``mix``) adds the language-count check. In a
    multi-asset the output is named ``name`` and the checks name their asset. Each record's image is
    also stored as ``relative_image(image_id)`` under ``image_root``, for mixtures to export, and its
    lineage: ``source`` = (dataset, raw file) and the upstream id (``SOURCE_ID_COLUMNS``)."""
    if "language" not in frame.columns:
        frame = frame.assign(language=SOURCE_LANGUAGE)
    ids = next((frame[c] for c in SOURCE_ID_COLUMNS if c in frame.columns), pd.Series(range(len(frame)), index=frame.index))
    frame = frame.assign(image_root=image_root, image=frame["image_id"].map(relative_image), dataset=source[0],
                         source_file=source[1], source_id=ids.astype(str))
    refuse_empty(f"train/{name}", len(frame), counted_drops(metadata or {}),
                 read=None if translated is None else len(translated))
    key = dg.AssetKey(["train", name]) if multi_asset else None
    root = folders.image_root(image_root)
    results = [checks.schema(frame, TRAIN_FIELDS),
               checks.images(frame, lambda image: root / image, columns=("image",), within=folders.trusted_roots(),
                             limit=folders.image_check_limit)]
    if translated is not None:
        expected = largest_remainder_counts(n_english, mix.table.shares())
        results.append(checks.language_counts(translated, expected, n_english))
    results += [checks.row_count_stable(context, len(frame), key),  # before this materialization is stored
                checks.duplicates(frame, TRAIN_FIELDS)]
    export_path = folders.exports / "train" / f"{name}.json"
    failed = checks.blocking_failures(results)
    export = None if failed else write_records(export_path, frame, TRAIN_FIELDS)
    yield dg.Output(frame[COLUMNS].reset_index(drop=True), output_name=name if multi_asset else "result",
                    metadata={**frame_metadata(frame, export=export), **checks.withheld(failed, [export_path]),
                              "distinct images": int(frame["image_id"].nunique()),
                              **checks.config_metadata(context), **(metadata or {})})
    yield from (result._replace(asset_key=key) if key else result for result in results)


def conversation_specs(name: str) -> list[dg.AssetCheckSpec]:
    return checks.specs(["train", name], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT, checks.DUPLICATES)


def publish_conversations(context: dg.AssetExecutionContext, folders: DataFolders, name: str, frame: pd.DataFrame,
                          *, image_root: str | None, language: str, source: tuple[str, str],
                          metadata: dict[str, Any] | None = None, image_folder: bool = False,
                          missing_allowed: bool = False) -> Iterator:
    """Check conversation records (``sources.conversation_files``: id, id_is_int, images, turns,
    record), export them as ``exports/train/<name>.llava.json`` when no blocking check failed, yield
    them with their metadata, then the checks: ids and records present, every image under its root, row count, duplicates. The
    images are under ``image_root``, or (None) under each row's ``image_root``. With
    ``image_folder`` the export names each image by its path in ``exports/train/<name>.images/``,
    the one image folder made for it (``images.image_folder``); else as published. With
    ``missing_allowed`` (the user kept records whose images are missing) missing images only warn."""
    frame, text = limit_conversations(frame, folders.max_text_chars)
    refuse_empty(f"train/{name}", len(frame), {**counted_drops(metadata or {}), **text})
    first = frame["images"].map(lambda images: images[0] if len(images) else "")
    roots = frame["image_root"] if image_root is None else image_root
    frame = frame.assign(language=language, image_root=roots, image=first, image_id=first, dataset=source[0],
                         source_file=source[1], source_id=frame["id"])
    located = row_images(frame["image_root"], frame["images"], frame["image"])
    files = [str(folders.image_root(root) / path) for row in located for root, path in row]
    resolved = checks.images(pd.DataFrame({"file": files}), Path, columns=("file",), within=folders.trusted_roots(),
                             limit=folders.image_check_limit)
    results = [checks.schema(frame, ["id", "record"]),
               resolved._replace(severity=dg.AssetCheckSeverity.WARN) if missing_allowed else resolved,
               checks.row_count_stable(context, len(frame)),  # before this materialization is stored
               checks.duplicates(frame, ["record"])]
    failed = checks.blocking_failures(results)
    export_path = folders.exports / "train" / f"{name}.llava.json"
    extra: dict[str, Any] = checks.withheld(failed, [export_path])
    if image_folder and not folders.exports_local:
        extra["image folder"] = NO_IMAGE_FOLDER
        image_folder = False
    export = None
    if not failed:
        if image_folder:
            target = link_image_folder(export_path.with_name(f"{name}.images"), folder_files(located, folders.image_root))
            extra["image folder"] = dg.MetadataValue.path(str(target))
        export = write_conversations(export_path, frame["record"], paths=export_paths(located) if image_folder else None)
    text_only = int((first == "").sum())
    yield dg.Output(frame[CONVERSATION_COLUMNS].reset_index(drop=True), metadata={
        **frame_metadata(frame[["id", "images", "turns", "language"]], export=export), **extra,
        "distinct images": int(frame["images"].explode().dropna().nunique()), "text-only records": text_only,
        "turns": counts_metadata(frame["turns"].value_counts().sort_index().to_dict()),
        "text": counts_metadata(text), **checks.config_metadata(context), **(metadata or {})})
    yield from results
