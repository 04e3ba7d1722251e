"""Train assets: the final multilingual file of each task (instructions applied), exported to
``exports/train/<task>.json``, and what every train asset shares: the export, the metadata and the
checks. The assets of the other datasets live in their family's module (``defs/vqav2.py``, ...);
the task mix in ``defs/task_mix.py``."""

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.partitions import LANGUAGES
from mmassets.defs.resources import DataFolders
from mmassets.languages import SOURCE_LANGUAGE, largest_remainder_counts
from mmassets.records import TRAIN_FIELDS, write_records
from mmassets.sources import coco
from mmassets.tasks.instructions import rotate

TRAIN = dict(group_name="train", key_prefix="train", kinds={"pandas", "json"}, automation_condition=REFRESH)
COLUMNS = [*TRAIN_FIELDS, "language"]


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
            image_path: Callable[[str], Path], *, translated: pd.DataFrame | None = None, n_english: int = 0,
            metadata: dict[str, Any] | None = None, multi_asset: bool = False) -> Iterator:
    """Export ``frame`` as ``exports/train/<name>.json``, yield it with its metadata, then the train
    checks; ``translated`` (with ``n_english`` source records) adds the language-count check. In a
    multi-asset the output is named ``name`` and the checks name their asset."""
    if "language" not in frame.columns:
        frame = frame.assign(language=SOURCE_LANGUAGE)
    key = dg.AssetKey(["train", name]) if multi_asset else None
    export = write_records(folders.exports / "train" / f"{name}.json", frame, TRAIN_FIELDS)
    row_count = checks.row_count_stable(context, len(frame), key)  # before this materialization is stored
    yield dg.Output(frame[COLUMNS].reset_index(drop=True), output_name=name if multi_asset else "result",
                    metadata={**frame_metadata(frame, export=export),
                              "distinct images": int(frame["image_id"].nunique()),
                              **checks.config_metadata(context), **(metadata or {})})
    results = [checks.schema(frame, TRAIN_FIELDS), checks.images(frame, image_path)]
    if translated is not None:
        expected = largest_remainder_counts(n_english, LANGUAGES.shares())
        results.append(checks.language_counts(translated, expected, n_english))
    results += [row_count, checks.duplicates(frame, TRAIN_FIELDS)]
    yield from (result._replace(asset_key=key) if key else result for result in results)


@dg.asset(name="coco_captions", code_version="1", **TRAIN,
          ins={"translated": dg.AssetIn(key=["translated", "coco_captions"]),
               "instructions": dg.AssetIn(key=["translated", "caption_instructions"]),
               "english": dg.AssetIn(key=["english", "coco_captions"])},
          check_specs=train_specs("coco_captions"))
def train_coco_captions(context: dg.AssetExecutionContext, folders: DataFolders, translated: pd.DataFrame,
                        instructions: pd.DataFrame, english: pd.DataFrame):
    """The multilingual COCO caption training file: every language's captions, each non-English
    record with the next instruction of its language's list (English keeps its seeded instruction);
    records whose translation was dropped by the gate are left out and counted.
    Exported to `exports/train/coco_captions.json`."""
    frame, dropped = usable_translations(translated, ["label"])
    others = frame["language"] != SOURCE_LANGUAGE
    frame.loc[others, "context"] = rotate(frame[others], instructions)
    yield from publish(context, folders, "coco_captions", frame, lambda i: coco.image_path(folders.raw, i),
                       translated=translated, n_english=len(english),
                       metadata={"dropped translations": counts_metadata(dropped)})
