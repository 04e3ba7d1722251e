"""Asset checks shared by every layer, computed inside the asset that owns the data.

Each check is a spec (declared on the asset with ``check_specs=``) and a function that turns the
data into an ``AssetCheckResult`` carrying the numbers that decided it. Blocking checks stop the
assets built from a failed one.
"""


from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets.records import schema_problems

SCHEMA = "schema"
IMAGES = "images_resolve"
LANGUAGE_COUNTS = "language_counts"
REFERENCES = "coco_references"

_DESCRIPTIONS = {
    SCHEMA: "Every record has the required fields as non-empty strings.",
    IMAGES: "Every image_id resolves to a file under the dataset's image root.",
    LANGUAGE_COUNTS: "Each language has exactly the records the seeded assignment gives it, each once.",
    REFERENCES: "COCO-format reference files load in pycocotools and accept predictions via loadRes.",
}


def specs(asset_key: Sequence[str], *names: str, blocking: bool = True) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(name, asset=dg.AssetKey(list(asset_key)), blocking=blocking,
                              description=_DESCRIPTIONS[name]) for name in names]


def schema(frame: pd.DataFrame, fields: Sequence[str], *, allow_empty: Sequence[str] = ()) -> dg.AssetCheckResult:
    problems = schema_problems(frame, fields, allow_empty=allow_empty)
    return dg.AssetCheckResult(check_name=SCHEMA, passed=not problems, metadata={
        "records": len(frame), "fields": ", ".join(fields),
        "problems": dg.MetadataValue.json(problems)})


def images(frame: pd.DataFrame, resolve: Callable[[str], Path], *, column: str = "image_id",
           examples: int = 5) -> dg.AssetCheckResult:
    ids = pd.unique(frame[column]) if len(frame) else []
    missing = [i for i in ids if not resolve(i).is_file()]
    return dg.AssetCheckResult(check_name=IMAGES, passed=not missing, metadata={
        "distinct images": len(ids), "missing": len(missing),
        "found share": float(1 - len(missing) / len(ids)) if len(ids) else 1.0,
        "missing examples": dg.MetadataValue.json([str(resolve(i)) for i in missing[:examples]])})


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
