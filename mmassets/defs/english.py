"""English task assets: task records built from raw data, before any translation. The COCO
caption records live here; the other datasets' in their family's module (``defs/vqav2.py``, ...)."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.resources import DataFolders, LanguageMix
from mmassets.records import TRAIN_FIELDS, TaskRecords
from mmassets.sources import coco
from mmassets.seeding import derive_seed
from mmassets.tasks.captions import caption_records

ENGLISH = dict(key_prefix="english", group_name="english", kinds={"pandas"}, automation_condition=REFRESH)


def english_specs(name: str) -> list[dg.AssetCheckSpec]:
    return checks.specs(["english", name], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT, checks.DUPLICATES)


def publish_english(context: dg.AssetExecutionContext, built: TaskRecords, image_path: Callable[[str], Path],
                    metadata: dict[str, Any] | None = None) -> Iterator:
    """Yield an English task's records with their metadata (rows, preview, distinct images, skipped
    inputs by reason), then its checks."""
    frame = built.frame
    row_count = checks.row_count_stable(context, len(frame))  # before this materialization is stored
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "distinct images": int(frame["image_id"].nunique()),
        "skipped": counts_metadata(built.skipped), **checks.config_metadata(context), **(metadata or {})})
    yield checks.schema(frame, TRAIN_FIELDS)
    yield checks.images(frame, image_path)
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
        yield from publish_english(context, built, lambda image_id: coco.image_path(folders.raw, image_id))

    return _asset


class CocoCaptionsConfig(dg.Config):
    splits: list[str] = Field(default=["train", "restval"],
                              description=f"Karpathy splits to train on, of {', '.join(coco.SPLITS)}")


def check_splits(asset: str, splits: list[str]) -> None:
    unknown = sorted(set(splits) - set(coco.SPLITS))
    if unknown:
        raise ValueError(f"{asset} config: unknown splits {unknown}; expected some of {coco.SPLITS}")


@dg.asset(code_version="1", ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          check_specs=english_specs("coco_captions"), **ENGLISH)
def coco_captions(context: dg.AssetExecutionContext, config: CocoCaptionsConfig, mix: LanguageMix,
                  folders: DataFolders, images: pd.DataFrame):
    """COCO caption records: one per caption of the training splits; context is a seeded choice of
    English caption instruction, label the caption, image_id the COCO file name."""
    check_splits("english/coco_captions", config.splits)
    built = caption_records(images, config.splits, derive_seed(mix.seed, "coco_captions", "context"))
    yield from publish_english(context, built, lambda image_id: coco.image_path(folders.raw, image_id),
                               {"splits": ", ".join(config.splits)})
