"""Eval assets, one per benchmark (``mmassets.evalsets``), partitioned by the benchmark's languages.

Each partition writes ``exports/eval/<benchmark>/<split>/<lang>.json`` (eval records: label empty,
text_label the reference) and, for captioning, ``<lang>.coco.json`` references beside it.
"""

import json

import dagster as dg
import pandas as pd

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.resources import DataFolders
from mmassets.defs.sources import source_key
from mmassets.evalsets.base import EvalBenchmark
from mmassets.evalsets.coco_reference import reference_problems
from mmassets.evalsets.registry import BENCHMARKS
from mmassets.records import EVAL_FIELDS, write_json, write_records


def eval_asset(benchmark: EvalBenchmark) -> dg.AssetsDefinition:
    key = ["eval", benchmark.name]
    check_names = [checks.SCHEMA, checks.IMAGES] + ([checks.REFERENCES] if benchmark.captioning else [])

    @dg.asset(name=benchmark.name, key_prefix="eval", group_name="eval", kinds={"pandas", "json"},
              code_version="1", description=benchmark.description,
              partitions_def=dg.StaticPartitionsDefinition(list(benchmark.languages)),
              backfill_policy=dg.BackfillPolicy.single_run(),
              deps=[source_key(name) for name in benchmark.sources], automation_condition=REFRESH,
              check_specs=checks.specs(key, *check_names))
    def _eval(context: dg.AssetExecutionContext, folders: DataFolders):
        parts = benchmark.build(folders.raw, context.partition_keys)
        fields = [*EVAL_FIELDS, *benchmark.extra_fields]
        frames, problems = {}, {}
        for language in context.partition_keys:
            part = parts[language]
            folder = folders.exports / "eval" / benchmark.name
            exports = {split: str(write_records(folder / split / f"{language}.json", records, fields))
                       for split, records in part.records.groupby("split", sort=False)}
            for split, reference in part.references.items():
                path = write_json(folder / split / f"{language}.coco.json", reference)
                problems[str(path)] = reference_problems(json.loads(path.read_text(encoding="utf-8")))
            context.add_asset_metadata({
                **frame_metadata(part.records, language_column=None),
                "records per split": counts_metadata(part.records["split"].value_counts(sort=False).to_dict()),
                "skipped": counts_metadata(part.skipped),
                "exports": dg.MetadataValue.json(exports)}, partition_key=language)
            frames[language] = part.records.assign(language=language)
        yield dg.Output(frames)
        merged = pd.concat(frames.values(), ignore_index=True)
        yield checks.eval_schema(merged)
        yield checks.images(merged, lambda image: benchmark.image_path(folders.raw, image),
                            columns=benchmark.image_columns)
        if benchmark.captioning:
            yield checks.references(problems)

    return _eval


eval_assets = [eval_asset(benchmark) for benchmark in BENCHMARKS]
