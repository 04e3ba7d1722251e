"""Eval assets, one per benchmark (``mmassets.evalsets``), partitioned by the benchmark's languages.

Each partition writes ``exports/eval/<benchmark>/<split>/<lang>.json`` (eval records: label empty,
text_label the reference) and, for captioning, ``<lang>.coco.json`` references beside it.
"""

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets.defs.common import checks
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.evalsets.base import EvalBenchmark
from mmassets.evalsets.coco_reference import reference_problems
from mmassets.evalsets.registry import BENCHMARKS
from mmassets.files import safe_name
from mmassets.records import EVAL_FIELDS, write_json, write_records


def eval_asset(benchmark: EvalBenchmark) -> dg.AssetsDefinition:
    key = ["eval", benchmark.name]
    check_names = [checks.SCHEMA, checks.IMAGES] + ([checks.REFERENCES] if benchmark.captioning else [])

    @dg.asset(name=benchmark.name, key_prefix="eval", group_name="eval", kinds={"pandas", "json"},
              code_version="1", description=benchmark.description,
              partitions_def=dg.StaticPartitionsDefinition(list(benchmark.languages)),
              backfill_policy=dg.BackfillPolicy.single_run(),
              deps=[source_key(name) for name in benchmark.sources],
              check_specs=checks.specs(key, *check_names))
    def _eval(context: dg.AssetExecutionContext, folders: DataFolders):
        parts = benchmark.build(folders.raw, context.partition_keys)
        empty = [language for language in context.partition_keys if parts[language].records.empty]
        if empty:  # before any file is written: the previous exports stay as they were
            raise ValueError(f"eval/{benchmark.name}: no records for {', '.join(empty)} under {folders.raw} "
                             f"(its raw files: {', '.join(benchmark.sources)}); nothing was exported")
        fields = [*EVAL_FIELDS, *benchmark.extra_fields]
        frames, problems = {}, {}
        folder = folders.exports / "eval" / safe_name(benchmark.name, "benchmark name")

        def split_folder(split: object) -> Path:
            return folder / safe_name(str(split), f"eval/{benchmark.name} split")

        for language in context.partition_keys:
            part = parts[language]
            name = safe_name(language, f"eval/{benchmark.name} language")
            exports, written = {}, set()
            for split, records in part.records.groupby("split", sort=False):
                path = write_records(split_folder(split) / f"{name}.json", records, fields)
                exports[split] = str(path)
                written.add(path)
            for split, reference in part.references.items():
                path = write_json(split_folder(split) / f"{name}.coco.json", reference)
                written.add(path)
                problems[str(path)] = reference_problems(json.loads(path.read_text(encoding="utf-8")))
            remove_stale_exports(folder, name, written)
            context.add_asset_metadata({
                **frame_metadata(part.records, language_column=None),
                "records per split": counts_metadata(part.records["split"].value_counts(sort=False).to_dict()),
                "skipped": counts_metadata(part.skipped),
                "exports": dg.MetadataValue.json(exports)}, partition_key=language)
            frames[language] = part.records.assign(language=language)
        yield dg.Output(frames)
        merged = pd.concat(frames.values(), ignore_index=True)
        yield checks.eval_schema(merged)
        yield checks.images(merged, lambda image: benchmark.image_path(folders.raw, image), limit=folders.image_check_limit,
                            columns=benchmark.image_columns)
        if benchmark.captioning:
            yield checks.references(problems)

    return _eval


def remove_stale_exports(folder: Path, language: str, written: set[Path]) -> None:
    """Delete the files of ``language`` under ``folder/<split>/`` that this build did not write (a
    split or reference the raw files no longer have), so the folder never mixes two builds."""
    for path in sorted(folder.glob(f"*/{language}.json")) + sorted(folder.glob(f"*/{language}.coco.json")):
        if path not in written:
            path.unlink(missing_ok=True)


eval_assets = [eval_asset(benchmark) for benchmark in BENCHMARKS]
