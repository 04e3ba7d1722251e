"""What every raw asset shares: upstream files as published, read and checked, with their sha256 as
data version (``raw_output``). The raw assets themselves live in their family's module
(``defs/families/``)."""

import hashlib
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs import known_beta
from mmassets.defs.common.metadata import frame_metadata
from mmassets.files import sha256_file
from mmassets.sources.validation import EMPTY_HINT, LONE_SURROGATES, RawFormatError, replacements


def raw_output(frame: pd.DataFrame, *paths: Path, **metadata: Any) -> dg.Output:
    """A raw asset's value with the files it read: its data version is the sha256 of the file (of
    the files' sha256s, when several), shown with the path(s), row count, schema and preview, and the
    lone surrogates its readers replaced with U+FFFD (counted, the first named, and logged)."""
    replaced, first = replacements(*paths)
    if replaced:
        metadata = {LONE_SURROGATES: replaced, f"{LONE_SURROGATES}, the first at": first, **metadata}
        dg.get_dagster_logger().warning(f"{replaced:,} lone surrogate(s) (UTF-16 halves no UTF-8 file can hold) "
                                        f"replaced with U+FFFD; the first at {first}")
    if frame.empty:
        raise RawFormatError(paths[0], f"holds no records; {EMPTY_HINT}")
    digests = [sha256_file(path) for path in paths]
    version = digests[0] if len(digests) == 1 else hashlib.sha256(":".join(digests).encode()).hexdigest()
    where = ({"path": dg.MetadataValue.path(str(paths[0]))} if len(paths) == 1 else
             {"paths": dg.MetadataValue.json([str(path) for path in paths])})
    with known_beta():
        return dg.Output(frame, data_version=dg.DataVersion(version), metadata={
            **frame_metadata(frame, language_column=None), **where, "sha256": version, **metadata})
