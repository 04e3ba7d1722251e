"""Eval assets, one per benchmark (``mmassets.evalsets``), partitioned by the benchmark's languages.

Each partition writes ``exports/eval/<benchmark>/<split>/<lang>.json`` (eval records: label empty,
text_label the reference) and, for captioning, ``<lang>.coco.json`` references beside it. Splits
whose optional files are absent are left out and listed (metadata ``absent files``); a language
whose raw files are missing or malformed fails alone (``partitions_failed``), the others build.
"""

import json
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets.defs import known_beta
from mmassets.defs.common import checks
from mmassets.defs.common.metadata import absent_metadata, counts_metadata, frame_metadata
from mmassets.defs.common.partitions import partitions_failed
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.evalsets.base import EvalBenchmark, EvalPart
from mmassets.evalsets.coco_reference import reference_problems
from mmassets.evalsets.registry import BENCHMARKS
from mmassets.files import safe_name
from mmassets.records import EVAL_FIELDS, write_json, write_records
from mmassets.sources.validation import RawFileMissing
from mmassets.text_limits import limit_reference, limit_text


def eval_asset(benchmark: EvalBenchmark) -> dg.AssetsDefinition:
    key = ["eval", benchmark.name]
    check_names = [checks.SCHEMA, checks.IMAGES] + ([checks.REFERENCES] if benchmark.captioning else [])

    with known_beta():  # backfill_policy
        asset = dg.asset(name=benchmark.name, key_prefix="eval", group_name="eval", kinds={"pandas", "json"},
                         code_version="1", description=benchmark.description,
                         partitions_def=dg.StaticPartitionsDefinition(list(benchmark.languages)),
                         backfill_policy=dg.BackfillPolicy.single_run(),
                         deps=[source_key(name) for name in benchmark.sources],
                         check_specs=checks.specs(key, *check_names))

    @asset
    def _eval(context: dg.AssetExecutionContext, folders: DataFolders):
        parts = benchmark.build(folders.raw, context.partition_keys)
        failed = {language: why_failed(part, folders.raw, benchmark) for language, part in parts.items()
                  if isinstance(part, Exception) or part.records.empty}
        if failed:  # before any file is written: the previous exports stay as they were
            raise partitions_failed(f"eval/{benchmark.name}", failed, [
                part.how_to_get for part in parts.values() if isinstance(part, RawFileMissing)])
        fields = [*EVAL_FIELDS, *benchmark.extra_fields]
        folder = folders.exports / "eval" / safe_name(benchmark.name, "benchmark name")

        def split_folder(split: object) -> Path:
            return folder / safe_name(str(split), f"eval/{benchmark.name} split")

        limited = {language: limit_part(parts[language], folders.max_text_chars) for language in context.partition_keys}
        names = {language: safe_name(language, f"eval/{benchmark.name} language") for language in limited}
        problems = {str(split_folder(split) / f"{names[language]}.coco.json"): reference_problems(as_written(reference))
                    for language, part in limited.items() for split, reference in part.references.items()}
        merged = pd.concat([part.records.assign(language=language) for language, part in limited.items()],
                           ignore_index=True)
        results = [checks.eval_schema(merged),
                   checks.images(merged, lambda image: benchmark.image_path(folders.raw, image),
                                 within=folders.trusted_roots(), limit=folders.image_check_limit,
                                 columns=benchmark.image_columns)]
        if benchmark.captioning:
            results.append(checks.references(problems))
        blocking = checks.blocking_failures(results)
        for language, part in limited.items():
            name = names[language]
            targets = {split: split_folder(split) / f"{name}.json" for split in part.records["split"].unique()}
            if blocking:  # the last good exports stay: none written, none removed
                exports = checks.withheld(blocking, targets.values())
            else:
                written = {write_records(targets[split], records, fields)
                           for split, records in part.records.groupby("split", sort=False)}
                written |= {write_json(split_folder(split) / f"{name}.coco.json", reference)
                            for split, reference in part.references.items()}
                remove_stale_exports(folder, name, written)
                exports = {"exports": dg.MetadataValue.json({split: str(path) for split, path in targets.items()})}
            context.add_asset_metadata({
                **frame_metadata(part.records, language_column=None),
                "records per split": counts_metadata(part.records["split"].value_counts(sort=False).to_dict()),
                "skipped": counts_metadata(part.skipped),
                **absent_metadata(part.absent), **exports}, partition_key=language)
            for absent in part.absent:
                context.log.warning(f"eval/{benchmark.name} {language}: built without {absent.adds}, its file "
                                    f"{absent.path} is not in the raw root")
        yield dg.Output({language: part.records.assign(language=language) for language, part in limited.items()})
        yield from results

    return _eval


def as_written(reference: dict) -> dict:
    """A COCO reference as its file will read back (``records.write_json``): checked before it is written."""
    return json.loads(json.dumps(reference, ensure_ascii=False, allow_nan=False))


def limit_part(part: EvalPart, max_chars: int) -> EvalPart:
    """The part with control characters stripped from its texts and records over ``max_chars``
    dropped (their images left out of the references too), counted with its skips."""
    records, counts = limit_text(part.records, ["context", "text_label"], max_chars)
    kept = set(records["image_id"])
    references = {split: limit_reference(reference, kept) for split, reference in part.references.items()}
    return replace(part, records=records, references=references, skipped={**part.skipped, **counts})


def why_failed(part: EvalPart | Exception, raw: Path, benchmark: EvalBenchmark) -> str:
    """One line on why a language could not be built (where to get a missing file is said once)."""
    if isinstance(part, RawFileMissing):
        return f"raw file not found: {part.path}"
    if isinstance(part, Exception):
        return str(part)
    return f"no records under {raw} (its raw files: {', '.join(benchmark.sources)})"


def remove_stale_exports(folder: Path, language: str, written: set[Path]) -> None:
    """Delete the files of ``language`` under ``folder/<split>/`` that this build did not write (a
    split or reference the raw files no longer have), so the folder never mixes two builds."""
    for path in sorted(folder.glob(f"*/{language}.json")) + sorted(folder.glob(f"*/{language}.coco.json")):
        if path not in written:
            path.unlink(missing_ok=True)


eval_assets = [eval_asset(benchmark) for benchmark in BENCHMARKS]
