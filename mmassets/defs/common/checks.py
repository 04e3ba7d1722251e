"""Asset checks shared by every layer, computed inside the asset that owns the data.

Each check is a spec (declared on the asset with ``check_specs=``) and a function that turns the
data into an ``AssetCheckResult`` carrying the numbers that decided it. Blocking checks stop the
assets built from a failed one (``blocking``). An asset computes its checks before it writes its
exports and writes them only when no blocking check failed (``blocking_failures``, ``withheld``):
the last good export stays.
"""


import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets.defs.common.metadata import EXPORTS_WITHHELD, counts_metadata
from mmassets.records import schema_problems

SCHEMA = "schema"
IMAGES = "images_resolve"
LANGUAGE_COUNTS = "language_counts"
REFERENCES = "coco_references"
ROW_COUNT = "row_count_stable"
DUPLICATES = "duplicate_share"
SPLITS = "splits_present"
DOWNLOADS = "download_success_rate"
SHARDS = "vila_shards_exact"
MIN_DOWNLOAD_SUCCESS = 0.8
MAX_ROW_DROP = 0.5  # a materialization with less than half the rows of the previous one fails
MAX_DUPLICATE_SHARE = 0.01

_DESCRIPTIONS = {
    SCHEMA: "Every record has the required fields as non-empty strings.",
    IMAGES: "Every image_id resolves to a readable image file under the dataset's image root (header checked, "
            "no symlink out of the trusted roots).",
    LANGUAGE_COUNTS: "Each language has exactly the records the seeded assignment gives it, each once.",
    REFERENCES: "COCO-format reference files load in pycocotools and accept predictions via loadRes.",
    ROW_COUNT: f"The row count did not drop by more than {MAX_ROW_DROP:.0%} against the previous materialization.",
    SPLITS: "Every split the dataset publishes has records.",
    DOWNLOADS: f"At least {MIN_DOWNLOAD_SUCCESS:.0%} of the URLs were downloaded (advisory: the web loses images).",
    SHARDS: ("The shard folder holds only .pkl/.count pairs, every count equals its shard's length (each shard "
             "re-read, safely), and a seeded sample of the images decodes."),
    DUPLICATES: f"At most {MAX_DUPLICATE_SHARE:.0%} of the records are exact duplicates (advisory).",
}


ADVISORY = {DUPLICATES, DOWNLOADS}


def blocking_failures(results: Iterable[dg.AssetCheckResult]) -> list[str]:
    """The names of the ``results`` that failed and block (not advisory, severity ERROR)."""
    return sorted({r.check_name for r in results if not r.passed and r.check_name not in ADVISORY
                   and (r.severity or dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR})


def withheld(failed: Sequence[str], targets: Iterable[Path]) -> dict[str, str]:
    """Metadata of a materialization whose exports ``targets`` were not written because the checks
    ``failed`` block it: the last good exports stay (which of them exist is said). None failed: {}."""
    if not failed:
        return {}
    kept = [str(path) for path in targets if path.exists()]
    return {EXPORTS_WITHHELD: f"blocked by check {', '.join(failed)}: exports not written; " + (
        f"the last good ones stay: {', '.join(kept)}" if kept else "there is no earlier export")}


def specs(asset_key: Sequence[str], *names: str) -> list[dg.AssetCheckSpec]:
    """Check specs for an asset; all block what is downstream except the advisory ones."""
    return [dg.AssetCheckSpec(name, asset=dg.AssetKey(list(asset_key)), blocking=name not in ADVISORY,
                              description=_DESCRIPTIONS[name]) for name in names]


def run_config(context: dg.AssetExecutionContext) -> dict:
    """The asset's effective run configuration (defaults included); empty for assets without one."""
    return dict(context.op_config or {})


def config_metadata(context: dg.AssetExecutionContext) -> dict:
    """``{"config": ...}`` for an asset with a run configuration, to store with its materialization."""
    config = run_config(context)
    return {"config": dg.MetadataValue.json(config)} if config else {}


def row_count_stable(context: dg.AssetExecutionContext, rows: int,
                     asset_key: dg.AssetKey | None = None, config: dict | None = None) -> dg.AssetCheckResult:
    """Compare with the row count of the asset's previous materialization (none: passes). A changed
    run configuration (stored as ``config`` metadata, see ``config_metadata``) is a deliberate change
    and is not compared. Call it before yielding the asset's Output, which stores the new
    materialization; a multi-asset names the ``asset_key``; ``config`` stands in for the run
    configuration of an asset configured otherwise (a mixture: its recipe's hash)."""
    current = run_config(context) if config is None else config
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key or context.asset_key), limit=1).records
    previous, same_config = None, True
    if records:
        metadata = records[0].asset_materialization.metadata
        value = metadata.get("dagster/row_count")
        previous = None if value is None else int(value.value)
        stored = metadata.get("config")
        same_config = (stored.value if stored is not None else {}) == current
    passed = previous is None or not same_config or rows >= previous * (1 - MAX_ROW_DROP)
    return dg.AssetCheckResult(check_name=ROW_COUNT, passed=passed, metadata={
        "rows": rows, "previous rows": -1 if previous is None else previous, "max drop": MAX_ROW_DROP,
        "compared": previous is not None and same_config,
        **({} if same_config else {"not compared": "the run configuration changed"})})


def splits_present(counts: dict[str, int]) -> dg.AssetCheckResult:
    empty = sorted(split for split, n in counts.items() if not n)
    return dg.AssetCheckResult(check_name=SPLITS, passed=not empty, metadata={
        "records per split": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
        "empty splits": dg.MetadataValue.json(empty)})


def duplicates(frame: pd.DataFrame, fields: Sequence[str]) -> dg.AssetCheckResult:
    repeated = int(frame.duplicated(subset=list(fields)).sum()) if len(frame) else 0
    share = repeated / len(frame) if len(frame) else 0.0
    return dg.AssetCheckResult(check_name=DUPLICATES, passed=share <= MAX_DUPLICATE_SHARE,
                               severity=dg.AssetCheckSeverity.WARN, metadata={
                                   "duplicate records": repeated, "share": round(share, 4),
                                   "threshold": MAX_DUPLICATE_SHARE})


def schema(frame: pd.DataFrame, fields: Sequence[str], *, allow_empty: Sequence[str] = ()) -> dg.AssetCheckResult:
    problems = schema_problems(frame, fields, allow_empty=allow_empty)
    return dg.AssetCheckResult(check_name=SCHEMA, passed=not problems, metadata={
        "records": len(frame), "fields": ", ".join(fields),
        "problems": dg.MetadataValue.json(problems)})


def eval_schema(frame: pd.DataFrame) -> dg.AssetCheckResult:
    """Eval records: context and image_id non-empty strings, label a string (empty for eval splits),
    text_label a non-empty string or a non-empty list of non-empty strings."""
    problems = schema_problems(frame, ["context", "image_id", "label"], allow_empty=["label"])
    if "text_label" not in frame.columns:
        problems["text_label: column missing"] = len(frame)
    else:
        bad = frame["text_label"].map(lambda v: not _reference_ok(v))
        if bad.any():
            problems["text_label: not a non-empty string or list of strings"] = int(bad.sum())
    return dg.AssetCheckResult(check_name=SCHEMA, passed=not problems, metadata={
        "records": len(frame), "problems": dg.MetadataValue.json(problems)})


def _reference_ok(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    values = value.tolist() if hasattr(value, "tolist") else value
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) and v.strip() for v in values)


def images(frame: pd.DataFrame, resolve: Callable[[str], Path], *, within: Sequence[str],
           columns: Sequence[str] = ("image_id",), examples: int = 5, limit: int = 50_000) -> dg.AssetCheckResult:
    """Every distinct image is a file under the trusted roots ``within`` (no symlink out of them)
    whose header an image reader accepts (``images.verify.check_file``, level ``format``: empty,
    corrupt or decompression-bomb files fail); above ``limit`` distinct images (the setting
    ``MMASSETS_IMAGE_CHECK_LIMIT``, default 50,000) a seeded sample of that size is checked, and
    the metadata says so. The metadata counts problems by status and lists examples by image."""
    from mmassets.images.verify import USABLE, check_file

    ids = list(pd.unique(pd.concat([frame[c] for c in columns], ignore_index=True))) if len(frame) else []
    checked = random.Random(0).sample(ids, limit) if len(ids) > limit else ids
    problems = []
    for image in checked:
        file = str(resolve(image))
        status, _, detail = check_file(file, "format", within=within)
        if status not in USABLE:
            problems.append({"image": str(image), "file": file, "status": status, "detail": detail})
    by_status = Counter(problem["status"] for problem in problems)
    return dg.AssetCheckResult(check_name=IMAGES, passed=not problems, metadata={
        "distinct images": len(ids), "checked": len(checked), "missing": by_status["missing"],
        "problems by status": counts_metadata(dict(sorted(by_status.items()))),
        "found share": float(1 - len(problems) / len(checked)) if checked else 1.0,
        "missing examples": dg.MetadataValue.json([p["file"] for p in problems if p["status"] == "missing"][:examples]),
        "problem examples": dg.MetadataValue.json(problems[:examples])})


def language_counts(frame: pd.DataFrame, expected: Mapping[str, int], n_source: int) -> dg.AssetCheckResult:
    actual = frame["language"].value_counts().to_dict()
    wrong = {lang: {"expected": int(n), "actual": int(actual.get(lang, 0))}
             for lang, n in expected.items() if actual.get(lang, 0) != n}
    wrong.update({lang: {"expected": 0, "actual": int(n)} for lang, n in actual.items() if lang not in expected})
    seen = frame["source_index"]
    once = bool(seen.is_unique and len(seen) == n_source and set(seen) == set(range(n_source)))
    return dg.AssetCheckResult(check_name=LANGUAGE_COUNTS, passed=not wrong and once, metadata={
        "source records": n_source, "records": len(frame), "each source record once": once,
        "languages off": dg.MetadataValue.json(wrong)})


def references(problems: Mapping[str, list[str]]) -> dg.AssetCheckResult:
    bad = {name: p for name, p in problems.items() if p}
    return dg.AssetCheckResult(check_name=REFERENCES, passed=not bad, metadata={
        "files": len(problems), "problems": dg.MetadataValue.json(bad)})


def download_success(summary: Mapping, threshold: float = MIN_DOWNLOAD_SUCCESS) -> dg.AssetCheckResult:
    """Advisory: the share of a download's URLs that succeeded (img2dataset users meet 5–60%
    without noticing), with the failures by kind."""
    rate = float(summary["success rate"])
    return dg.AssetCheckResult(check_name=DOWNLOADS, passed=rate >= threshold, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"success rate": rate, "threshold": threshold, "urls": summary["urls"],
                                         "errors by kind": dg.MetadataValue.json(summary["errors by kind"])})


def vila_shards(folder: Path, *, images_of: Callable[[dict], list[str]], sample: int = 20) -> dg.AssetCheckResult:
    """VILA's shards as its loader will see them: matched pairs and exact counts (``vila.shards``), and
    the base64 images (``images_of(record)``) of ``sample`` records (a seeded choice) decode."""
    import base64
    import io

    from PIL import Image

    from mmassets.vila.shards import folder_problems, read_shard

    problems = folder_problems(folder)
    shard_files = sorted(folder.glob("*.pkl"))
    lengths = [int(p.with_suffix(".count").read_text()) for p in shard_files if p.with_suffix(".count").is_file()]
    positions = [(i, j) for i, n in enumerate(lengths) for j in range(n)]
    chosen = sorted(random.Random(0).sample(positions, min(sample, len(positions))))
    undecodable = []
    for i in sorted({i for i, _ in chosen}):
        records = read_shard(shard_files[i])
        for _, j in (c for c in chosen if c[0] == i):
            try:
                for encoded in images_of(records[j]):
                    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
                        image.verify()
            except Exception:  # noqa: BLE001 - any failure to decode is what the check reports
                undecodable.append(f"{shard_files[i].name}[{j}]")
    return dg.AssetCheckResult(check_name=SHARDS, passed=not problems and not undecodable, metadata={
        "shards": len(shard_files), "records": sum(lengths), "problems": dg.MetadataValue.json(problems),
        "images decoded": len(chosen), "undecodable": dg.MetadataValue.json(undecodable)})
