"""Metadata every asset shows in the UI: rows, column schema, a preview, a language histogram."""


from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

TINY_MODEL_NOTE = ("Translated by the sample profile's tiny random NLLB-architecture model: the "
                   "translations are NOT meaningful text, only a working pipeline.")


def markdown_table(rows: list[Mapping[str, Any]], columns: list[str], max_chars: int = 80) -> str:
    def cell(value: Any) -> str:
        text = str(value.tolist() if hasattr(value, "tolist") else value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= max_chars else text[: max_chars - 1] + "…"

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def language_histogram(languages: pd.Series) -> str:
    counts = languages.value_counts()
    total = int(counts.sum())
    rows = [{"language": lang, "rows": int(n), "share": f"{100 * n / total:.2f}%"} for lang, n in counts.items()]
    return markdown_table(rows, ["language", "rows", "share"])


def frame_metadata(frame: pd.DataFrame, *, export: Path | None = None, preview_rows: int = 5,
                   language_column: str | None = "language") -> dict[str, Any]:
    """Row count, column schema, a Markdown preview, the language histogram and the export path."""
    meta: dict[str, Any] = {
        "dagster/row_count": len(frame),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()]),
        "preview": dg.MetadataValue.md(
            markdown_table(frame.head(preview_rows).to_dict(orient="records"), [str(c) for c in frame.columns])),
    }
    if language_column and language_column in frame.columns and len(frame):
        meta["languages"] = dg.MetadataValue.md(language_histogram(frame[language_column]))
        meta["language count"] = int(frame[language_column].nunique())
    if export is not None:
        meta["export"] = dg.MetadataValue.path(str(export))
    return meta


def counts_metadata(counts: Mapping[str, int]) -> dg.MetadataValue:
    return dg.MetadataValue.json({k: int(v) for k, v in counts.items()})


EXPORTS_WITHHELD = "exports withheld"
"""Metadata key: why a materialization's exports were not written (it failed a blocking check) and
which earlier exports stay; `mmassets build` prints it with the failed check."""

ABSENT_FILES = "absent files"
"""Metadata key: the optional raw files an asset (partition) was built without; `mmassets build`
lists them in its summary."""


def absent_metadata(absent: list) -> dict[str, dg.MetadataValue]:
    """``{"absent files": [{path, adds, how_to_get}, ...]}``, or nothing when none is absent."""
    return {ABSENT_FILES: dg.MetadataValue.json([asdict(a) for a in absent])} if absent else {}
