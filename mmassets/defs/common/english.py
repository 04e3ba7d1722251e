"""What every English task asset shares (records built from raw data, before any translation): the
asset factory, the publisher with its metadata and checks. The assets live in their family's module
(``defs/families/``)."""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs.common import checks
from mmassets.defs.common.accounting import refuse_empty
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.resources import DataFolders, LanguageMix
from mmassets.records import TRAIN_FIELDS, TaskRecords
from mmassets.sources import coco
from mmassets.seeding import derive_seed
from mmassets.text_limits import limit_text

ENGLISH = dict(key_prefix="english", group_name="english", kinds={"pandas"})


def english_specs(name: str) -> list[dg.AssetCheckSpec]:
    return checks.specs(["english", name], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT, checks.DUPLICATES)


def publish_english(context: dg.AssetExecutionContext, folders: DataFolders, built: TaskRecords,
                    metadata: dict[str, Any] | None = None, *, image_root: str = "coco",
                    relative_image: Callable[[str], str] = coco.relative_image) -> Iterator:
    """Yield an English task's records with their metadata (rows, preview, distinct images, skipped
    inputs by reason), then its checks; each image is ``relative_image(image_id)`` under the image
    root named ``image_root`` (COCO's by default)."""
    frame, text = limit_text(built.frame, ["context", "label"], folders.max_text_chars)
    built = TaskRecords(frame, {**built.skipped, **text})
    refuse_empty(context.asset_key.to_user_string(), len(frame), built.skipped)
    row_count = checks.row_count_stable(context, len(frame))  # before this materialization is stored
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "distinct images": int(frame["image_id"].nunique()),
        "skipped": counts_metadata(built.skipped), **checks.config_metadata(context), **(metadata or {})})
    yield checks.schema(frame, TRAIN_FIELDS)
    root = folders.image_root(image_root)
    yield checks.images(frame, lambda image_id: root / relative_image(image_id), within=folders.trusted_roots(),
                        limit=folders.image_check_limit)
    yield row_count
    yield checks.duplicates(frame, TRAIN_FIELDS)


def english_asset(name: str, upstream: list[str], build: Callable[[pd.DataFrame, DataFolders, int], TaskRecords],
                  description: str):
    """``english/<name>``: ``build(upstream frame, folders, seed)`` records of COCO images, with the
    English checks; the seed is derived from the global one and the task."""

    @dg.asset(name=name, code_version="1", ins={"upstream": dg.AssetIn(key=upstream)},
              check_specs=english_specs(name), description=description, **ENGLISH)
    def _asset(context: dg.AssetExecutionContext, mix: LanguageMix, folders: DataFolders, upstream: pd.DataFrame):
        built = build(upstream, folders, derive_seed(mix.seed, name, "context"))
        yield from publish_english(context, folders, built)

    return _asset


def check_splits(asset: str, splits: list[str]) -> None:
    unknown = sorted(set(splits) - set(coco.SPLITS))
    if unknown:
        raise ValueError(f"{asset} config: unknown splits {unknown}; expected some of {coco.SPLITS}")
