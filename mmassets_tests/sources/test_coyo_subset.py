"""COYO-700M read for the ids of llm-jp's list only, with clip_sim as NVlabs computes it."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmassets.sources.coyo import read_subset
from mmassets.sources.validation import RawFileMissing, RawFormatError


def write(path, ids):
    pq.write_table(pa.table({"id": pa.array(ids, pa.int64()), "url": [f"https://x/{i}.jpg" for i in ids],
                             "text": [f"text {i}" for i in ids], "clip_similarity_vitb32": [0.3] * len(ids),
                             "clip_similarity_vitl14": [0.25] * len(ids)}), path)


def test_only_the_listed_ids_are_read_in_file_order(tmp_path):
    (tmp_path / "coyo").mkdir()
    write(tmp_path / "coyo" / "part-00001.parquet", [30, 31, 32])
    write(tmp_path / "coyo" / "part-00000.parquet", [10, 11, 12])
    frame = read_subset(tmp_path, np.array([32, 11, 99, 10]), batch_size=2)
    assert frame["id"].tolist() == [10, 11, 32] and frame["file"].tolist() == ["part-00000.parquet"] * 2 + ["part-00001.parquet"]
    assert frame["clip_sim"].round(6).tolist() == [0.55] * 3
    assert frame["image_id"].tolist() == ["part-00000/10.jpg", "part-00000/11.jpg", "part-00001/32.jpg"]


def test_missing_files_or_columns(tmp_path):
    with pytest.raises(RawFileMissing, match="coyo-700m"):
        read_subset(tmp_path, np.array([1]))
    (tmp_path / "coyo").mkdir()
    pq.write_table(pa.table({"id": [1], "url": ["u"]}), tmp_path / "coyo" / "a.parquet")
    with pytest.raises(RawFormatError, match="clip_similarity_vitb32"):
        read_subset(tmp_path, np.array([1]))
