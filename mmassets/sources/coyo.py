"""COYO-700M's parquet files (``coyo/*.parquet``: ``id``, ``url``, ``text``,
``clip_similarity_vitb32``, ``clip_similarity_vitl14``, ...), read only for the ids a list names
(llm-jp's ``coyo_6m_ids.txt.gz``), a batch at a time; ``clip_sim`` is the sum of the two
similarities, as NVlabs' COYO downloader computes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mmassets.sources.validation import RawFormatError, files_matching

FOLDER = "coyo"
COLUMNS = ("id", "url", "text", "clip_similarity_vitb32", "clip_similarity_vitl14")
HOW_TO_GET = ("Download COYO-700M's parquet files (huggingface.co/datasets/kakaobrain/coyo-700m, data/) into "
              "<raw root>/coyo/.")


def parquet_files(raw_dir: str | Path) -> list[Path]:
    return files_matching(Path(raw_dir) / FOLDER, "*.parquet", HOW_TO_GET)


def read_subset(raw_dir: str | Path, ids: np.ndarray, batch_size: int = 65_536) -> pd.DataFrame:
    """The rows of every COYO file whose ``id`` is in ``ids``, in file order: file, id (int64, as COYO's), url,
    text, clip_sim; and image_id (``<file stem>/<id>.jpg``, where its image is downloaded to). A file that
    is not readable parquet, a column of the wrong type, a null id or a null value in a chosen row fails
    naming the file, the row and the column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted, parts = np.asarray(ids, dtype=np.int64), []
    for path in parquet_files(raw_dir):
        try:
            parquet = pq.ParquetFile(path)
            _check_columns(parquet.schema_arrow, path)
            offset = 0
            for batch in parquet.iter_batches(batch_size=batch_size, columns=list(COLUMNS)):
                found = batch.column("id")
                if found.null_count:
                    row = offset + int(np.flatnonzero(found.is_null().to_numpy(zero_copy_only=False))[0])
                    raise RawFormatError(path, "null id", record=f"row {row}", field="id")
                mask = np.isin(found.to_numpy(), wanted)
                if mask.any():
                    chosen = batch.filter(pa.array(mask)).to_pandas()
                    rows = offset + np.flatnonzero(mask)
                    for name in COLUMNS[1:]:
                        nulls = chosen[name].isna().to_numpy()
                        if nulls.any():
                            raise RawFormatError(path, "null value", record=f"row {rows[nulls.argmax()]}", field=name)
                    parts.append(pd.DataFrame({
                        "file": path.name, "id": chosen["id"].astype("int64"), "url": chosen["url"],
                        "text": chosen["text"],
                        "clip_sim": chosen["clip_similarity_vitb32"] + chosen["clip_similarity_vitl14"],
                        "image_id": [f"{path.stem}/{i}.jpg" for i in chosen["id"]]}))
                offset += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise RawFormatError(path, f"not a readable parquet file ({type(exc).__name__}: {exc})") from None
    columns = ["file", "id", "url", "text", "clip_sim", "image_id"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _check_columns(schema, path: Path) -> None:
    import pyarrow as pa

    missing = set(COLUMNS) - set(schema.names)
    if missing:
        raise RawFormatError(path, f"no column(s) {sorted(missing)}; columns are {schema.names}")
    text = lambda kind: pa.types.is_string(kind) or pa.types.is_large_string(kind)  # noqa: E731
    number = lambda kind: pa.types.is_floating(kind) or pa.types.is_integer(kind)  # noqa: E731
    for name, test, expected in (("id", pa.types.is_integer, "integers"), ("url", text, "strings"),
                                 ("text", text, "strings"), ("clip_similarity_vitb32", number, "numbers"),
                                 ("clip_similarity_vitl14", number, "numbers")):
        if not test(schema.field(name).type):
            raise RawFormatError(path, f"the column holds {schema.field(name).type}, expected {expected}", field=name)
