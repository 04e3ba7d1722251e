"""llm-jp's id lists: gzip COYO ids and mmc4 shard,index pairs, and the mmc4 selection under both
readings of ``index``."""

import gzip

import numpy as np
import pytest

from mmassets.sources.llm_jp_ids import read_coyo_ids, read_mmc4_ids, select_documents
from mmassets.sources.validation import RawFileMissing, RawFormatError


def gz(path, text):
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(text)
    return path


def test_coyo_ids_are_read_sorted_and_once(tmp_path):
    path = gz(tmp_path / "coyo_6m_ids.txt.gz", "4398046511104\n12\n\n12\n7\n")
    assert read_coyo_ids(path).tolist() == [7, 12, 4398046511104]


def test_mmc4_ids_group_by_shard_with_an_optional_header(tmp_path):
    path = gz(tmp_path / "mmc4_6m_ids.csv.gz", "shard_number,index\n3,10\n0,2\n3,1\n0,2\n")
    ids = read_mmc4_ids(path)
    assert list(ids) == [0, 3] and ids[0].tolist() == [2] and ids[3].tolist() == [1, 10]


@pytest.mark.parametrize("text, problem", [("1,x\n", "field 'index'"), ("1;2\n", "expected 'shard_number,index'"),
                                           ("-1,2\n", "field 'shard_number'")])
def test_bad_lines_are_named(tmp_path, text, problem):
    path = gz(tmp_path / "ids.csv.gz", "0,1\n" + text)
    with pytest.raises(RawFormatError) as caught:
        read_mmc4_ids(path)
    assert "line 2" in str(caught.value) and problem in str(caught.value)


def test_a_broken_or_missing_list(tmp_path):
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"1\n2\n3\n")[:-6])
    with pytest.raises(RawFormatError, match="not a complete gzip file"):
        read_coyo_ids(tmp_path / "cut.txt.gz")
    with pytest.raises(RawFileMissing, match="llm-jp-VILA"):
        read_coyo_ids(tmp_path / "absent.txt.gz")
    with pytest.raises(RawFormatError, match="holds no ids"):
        read_coyo_ids(gz(tmp_path / "empty.txt.gz", "\n"))


def test_both_readings_of_the_mmc4_index():
    documents = [{"n": i, "images": i % 3 != 1} for i in range(8)]  # lines 1, 4 and 7 lost their images
    wanted = np.array([0, 2, 4])
    by_line = [line for line, _ in select_documents(documents, wanted, "line")]
    assert by_line == [0, 2, 4]
    by_kept = [line for line, _ in select_documents(documents, wanted, "kept", kept=lambda d: d["images"])]
    assert by_kept == [0, 3, 6]  # kept documents are lines 0, 2, 3, 5, 6: the 0th, 2nd and 4th of them
    with pytest.raises(ValueError, match="unknown id-list reading"):
        list(select_documents(documents, wanted, "position"))
