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
    text, clip_sim; and image_id (``<file stem>/<id>.jpg``, where its image is downloaded to)."""
    import pyarrow.parquet as pq

    wanted, parts = np.asarray(ids, dtype=np.int64), []
    for path in parquet_files(raw_dir):
        parquet = pq.ParquetFile(path)
        missing = set(COLUMNS) - set(parquet.schema_arrow.names)
        if missing:
            raise RawFormatError(path, f"no column(s) {sorted(missing)}; columns are {parquet.schema_arrow.names}")
        for batch in parquet.iter_batches(batch_size=batch_size, columns=list(COLUMNS)):
            frame = batch.to_pandas()
            chosen = frame[np.isin(frame["id"].to_numpy(dtype=np.int64), wanted)]
            if len(chosen):
                parts.append(pd.DataFrame({
                    "file": path.name, "id": chosen["id"].astype("int64"), "url": chosen["url"],
                    "text": chosen["text"],
                    "clip_sim": chosen["clip_similarity_vitb32"] + chosen["clip_similarity_vitl14"],
                    "image_id": [f"{path.stem}/{i}.jpg" for i in chosen["id"]]}))
    columns = ["file", "id", "url", "text", "clip_sim", "image_id"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
