"""Control characters and absurd lengths never reach an export: stripped or dropped, and counted."""

import json

import pandas as pd
from pycocotools.coco import COCO

from mmassets.evalsets.coco_reference import build_reference
from mmassets.text_limits import limit_conversations, limit_json_records, limit_reference, limit_text


def test_control_characters_are_stripped_and_counted_and_long_records_dropped():
    frame = pd.DataFrame({"context": ["a\x00b", "tab\tand\nnewline stay", "x" * 1_000_000, "c\x1b[31m"],
                          "label": ["l\x7f", ["one\x0c", "two"], "y", "\x85z"]}, index=[10, 11, 12, 13])
    limited, counts = limit_text(frame, ["context", "label"], max_chars=20_000)
    assert limited["context"].tolist() == ["ab", "tab\tand\nnewline stay", "c[31m"]
    assert limited["label"].tolist() == ["l", ["one", "two"], "z"]
    assert limited.index.tolist() == [10, 11, 13]
    assert counts == {"control characters stripped": 5, "longer than 20,000 characters": 1}


def test_clean_text_passes_through_untouched():
    frame = pd.DataFrame({"context": ["héllo", "中文"], "label": ["ok", "fine"]})
    limited, counts = limit_text(frame, ["context", "label"], max_chars=100)
    assert counts == {} and limited is frame


def test_json_records_are_parsed_only_when_they_may_hold_a_problem():
    records = [json.dumps({"conversations": [{"from": "human", "value": "hi\u0000"}]}),
               json.dumps({"conversations": [{"value": "a backslash then b: \\b"}]}),
               json.dumps({"conversations": [{"value": "z" * 50}]}),
               '{"keep":  "as published"}']
    out, counts = limit_json_records(records, max_chars=40)
    assert json.loads(out[0]) == {"conversations": [{"from": "human", "value": "hi"}]}
    assert out[1] == records[1] and out[3] == records[3]  # untouched text is kept byte for byte
    assert out[2] is None
    assert counts == {"control characters stripped": 1, "longer than 40 characters": 1}


def test_conversation_frames_lose_the_dropped_records():
    frame = pd.DataFrame({"id": ["a", "b"], "record": [json.dumps({"v": "ok"}), json.dumps({"v": "y" * 30})]})
    limited, counts = limit_conversations(frame, max_chars=20)
    assert limited["id"].tolist() == ["a"] and counts == {"longer than 20 characters": 1}


def test_references_keep_only_the_kept_images_and_load_in_pycocotools(tmp_path):
    reference = build_reference(["1.jpg", "2.jpg"], [["a cat\u0000", "a dog"], ["gone"]])
    limited = limit_reference(reference, {"1.jpg"})
    assert [a["caption"] for a in limited["annotations"]] == ["a cat", "a dog"]
    assert [i["id"] for i in limited["images"]] == ["1.jpg"]
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(limited))
    assert COCO(str(path)).getImgIds() == ["1.jpg"]
