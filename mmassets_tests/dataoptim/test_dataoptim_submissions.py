"""DataOptim's submission rules on its own example files and on hand-made ones: ids in file order,
repeats repeated, an unknown id named with its line and the closest ids, BYOD problems per record."""

import json
from pathlib import Path

import pytest

from mmassets.dataoptim.submissions import SubmissionError, check_byod, read_ids, select, source_of
from mmassets.sources.validation import RawFormatError

EXAMPLES = Path(__file__).parent / "examples"
STANDARD, BYOD = EXAMPLES / "example-standard.txt", EXAMPLES / "example-byod.json"


def _lookup_from(records):
    tables = {}
    for record in records:
        tables.setdefault(source_of(record["id"]), {})[record["id"]] = json.dumps(record)
    return tables.__getitem__


def test_dataoptims_own_example_files_parse_and_agree():
    ids = read_ids(STANDARD)
    assert len(ids) == 17 and ids[0] == (1, "coco_0") and ids[-1] == (17, "svit_referring_0")  # no final newline
    assert [source_of(i) for _, i in ids] == ["coco", "flickr30k", "textcaps", "vqav2", "okvqa", "ocrvqa", "gqa", "textvqa",
                                              "aokvqa", "ref3reg", "ref3rec", "shikra", "llava", "svit", "svit", "svit", "svit"]
    frame, problems = check_byod(BYOD, lambda record_id, image: True)
    assert len(frame) == 17 and problems == []
    byod = json.loads(BYOD.read_text(encoding="utf-8"))
    chosen = select(STANDARD, _lookup_from(byod))
    assert [json.loads(r) for r in chosen.records] == byod  # the standard ids select exactly the BYOD example


def test_order_repeats_blank_lines_and_unknown_ids(tmp_path):
    byod = json.loads(BYOD.read_text(encoding="utf-8"))
    path = tmp_path / "mine.txt"
    path.write_text("gqa_05145757\ncoco_0\n\ngqa_05145757\n", encoding="utf-8")
    chosen = select(path, _lookup_from(byod))
    assert [json.loads(r)["id"] for r in chosen.records] == ["gqa_05145757", "coco_0", "gqa_05145757"]
    assert chosen.sources == ["gqa", "coco", "gqa"] and chosen.blank_lines == 1
    path.write_text("coco_0\ngqa_05145758\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match=r"mine.txt, line 2: unknown id 'gqa_05145758' \(source gqa\); "
                                              r"closest known: gqa_05145757"):
        select(path, _lookup_from(byod))
    path.write_text("coco_0\nimagenet_3\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="line 2: id 'imagenet_3' has no known source prefix"):
        select(path, _lookup_from(byod))
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(SubmissionError, match="names no ids"):
        select(path, _lookup_from(byod))


def test_byod_problems_are_listed_per_record(tmp_path):
    records = json.loads(BYOD.read_text(encoding="utf-8"))[:3]
    records.append({**records[0], "conversations": records[0]["conversations"]})  # coco_0 again
    records.append({"id": "mine_1", "image": "/etc/passwd", "conversations": records[1]["conversations"]})
    path = tmp_path / "byod.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    frame, problems = check_byod(path, lambda record_id, image: not image.startswith("flickr30k/"))
    assert len(frame) == 5
    assert problems == [
        {"record": 1, "id": "flickr30k_0", "problem": "image 'flickr30k/1000092795.jpg' not found"},
        {"record": 3, "id": "coco_0", "problem": "id also used by record 0"},
        {"record": 4, "id": "mine_1", "problem": "unsafe image path '/etc/passwd'"}]
    path.write_text(json.dumps([{"id": "x", "conversations": "hello"}]), encoding="utf-8")
    with pytest.raises(RawFormatError, match="record 0, field 'conversations'"):
        check_byod(path, lambda record_id, image: True)
