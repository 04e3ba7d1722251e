"""Conversation files as VILA's loader reads them: JSON arrays and JSON lines, mixed id types,
text-only and multi-image records, each kept exactly as published; bad records named."""

import json

import pytest

from mmassets.sources.conversation_files import read_conversation_file
from mmassets.sources.validation import RawFileMissing, RawFormatError

HOW = "get it from its publisher"
RECORDS = [
    {"id": "000000033471", "image": "coco/train2017/000000033471.jpg", "conversations": [
        {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
        {"from": "gpt", "value": "The bus in the image is white and red."}]},
    {"id": 2354786, "image": "gqa/images/2354786.jpg", "conversations": [  # GQA's ids are integers
        {"from": "human", "value": "<image>\nIs the sky dark?"}, {"from": "gpt", "value": "Yes"}]},
    {"id": "i6IyJda_0", "model": "", "conversations": [  # ShareGPT text-only, with an extra key
        {"from": "human", "value": "こんにちは"}, {"from": "gpt", "value": "こんにちは！"}]},
    {"id": "pair-1", "image": ["a/1.jpg", "a/2.jpg"], "conversations": [
        {"from": "human", "value": "<image>\n<image>\nCompare."}, {"from": "gpt", "value": "Same."}]},
]


@pytest.mark.parametrize("layout", ["array", "lines"])
def test_arrays_and_json_lines_read_the_same(tmp_path, layout):
    path = tmp_path / "mix.json"
    text = json.dumps(RECORDS, ensure_ascii=False, indent=1) if layout == "array" else \
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n\n"
    path.write_text(text, encoding="utf-8")
    frame = read_conversation_file(path, HOW)
    assert frame["id"].tolist() == ["000000033471", "2354786", "i6IyJda_0", "pair-1"]
    assert frame["id_is_int"].tolist() == [False, True, False, False]
    assert [list(i) for i in frame["images"]] == [["coco/train2017/000000033471.jpg"], ["gqa/images/2354786.jpg"], [],
                                                  ["a/1.jpg", "a/2.jpg"]]
    assert [json.loads(r) for r in frame["record"]] == RECORDS  # as published, extra keys and id types kept


@pytest.mark.parametrize("record, where", [
    ({"image": "x.jpg", "conversations": []}, "field 'id'"),
    ({"id": True, "conversations": [{"from": "human", "value": "hi"}]}, "field 'id'"),
    ({"id": "a", "image": "x.jpg", "conversations": [{"from": "robot", "value": "hi"}]}, "field 'conversations[0]'"),
    ({"id": "a", "image": 3, "conversations": [{"from": "human", "value": "hi"}]}, "field 'image'"),
    ({"id": "a", "image": "../../etc/passwd", "conversations": [{"from": "human", "value": "hi"}]}, "unsafe image path"),
])
def test_a_bad_record_is_named_with_its_file_and_field(tmp_path, record, where):
    path = tmp_path / "mix.json"
    path.write_text(json.dumps([RECORDS[0], record]), encoding="utf-8")
    with pytest.raises(RawFormatError) as caught:
        read_conversation_file(path, HOW)
    assert str(path) in str(caught.value) and "record 1" in str(caught.value) and where in str(caught.value)


def test_broken_missing_and_empty_files(tmp_path):
    path = tmp_path / "mix.jsonl"
    path.write_text(json.dumps(RECORDS[0]) + "\n{\"id\": 3, \n", encoding="utf-8")
    with pytest.raises(RawFormatError, match="line 2"):
        read_conversation_file(path, HOW)
    path.write_text(json.dumps(RECORDS)[:-40], encoding="utf-8")
    with pytest.raises(RawFormatError, match="truncated"):
        read_conversation_file(path, HOW)
    for empty in ("", "[]"):
        path.write_text(empty, encoding="utf-8")
        with pytest.raises(RawFormatError, match="empty|no records"):
            read_conversation_file(path, HOW)
    with pytest.raises(RawFileMissing, match=HOW):
        read_conversation_file(tmp_path / "absent.json", HOW)
