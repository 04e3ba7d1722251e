"""llm-jp's Step-1 pair files: a URL and a text a line, read in file order with where each image goes."""

import json

import pytest

from mmassets.sources.llm_jp_pairs import read_pairs
from mmassets.sources.validation import RawFileMissing, RawFormatError


def write(raw, name, records):
    folder = raw / "llm_jp" / "alt_pair_ja"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_pairs_in_file_order_with_their_image_names(tmp_path):
    write(tmp_path, "b.jsonl", [{"url": "https://x/3.jpg", "caption": "三"}])
    write(tmp_path, "a.jsonl", [{"url": "https://x/1.jpg", "text": "一", "id": 17}, {"url": "https://x/2.jpg", "text": "二"}])
    frame = read_pairs(tmp_path)
    assert frame[["file", "id", "text", "image_id"]].values.tolist() == [
        ["a.jsonl", "17", "一", "a/00000000.jpg"], ["a.jsonl", "a-1", "二", "a/00000001.jpg"],
        ["b.jsonl", "b-0", "三", "b/00000000.jpg"]]


@pytest.mark.parametrize("record, field", [({"text": "一"}, "url"), ({"url": "https://x/1.jpg", "text": 3}, "text"),
                                           ({"url": "", "text": "一"}, "url")])
def test_a_bad_pair_is_named(tmp_path, record, field):
    write(tmp_path, "a.jsonl", [{"url": "https://x/0.jpg", "text": "零"}, record])
    with pytest.raises(RawFormatError) as caught:
        read_pairs(tmp_path)
    assert "a.jsonl" in str(caught.value) and "record 1" in str(caught.value) and f"field '{field}'" in str(caught.value)


def test_no_pair_files(tmp_path):
    with pytest.raises(RawFileMissing, match="llm-jp-japanese-image-text-pairs"):
        read_pairs(tmp_path)
