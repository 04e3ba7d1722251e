"""BLIP's web-caption files and mBLIP's released sample, read as a stream with errors that name file,
record and field."""

import json
from pathlib import Path

import pytest

from mmassets.sources.blip import read_blip
from mmassets.sources.validation import RawFileMissing
from raw_files import raw_error, write_json

BLIP = [{"url": "http://example.org/a.jpg", "caption": "a dog on a beach"},
        {"url": "https://example.org/b.png", "caption": "ein Hund, ünïcode kept"}]


def test_blip_captions_in_file_order_as_arrow_strings(tmp_path):
    frame = read_blip(write_json(tmp_path / "blip.json", BLIP))
    assert frame.to_dict(orient="records") == BLIP
    assert str(frame["url"].dtype) == "string"


def test_mblips_sample_names_each_image_by_the_base_name_of_jpg(tmp_path):
    sample = [{**BLIP[0], "jpg": "./images/00000000.jpg"}, {**BLIP[1], "jpg": "images\\00000007.jpg"}]
    frame = read_blip(write_json(tmp_path / "sample.json", sample))
    assert frame["image_id"].tolist() == ["00000000.jpg", "00000007.jpg"]


def test_many_records_are_read_in_chunks(tmp_path, monkeypatch):
    import mmassets.sources.blip as blip

    monkeypatch.setattr(blip, "CHUNK", 7)
    records = [{"url": f"http://example.org/{i}.jpg", "caption": f"caption {i}"} for i in range(50)]
    frame = read_blip(write_json(tmp_path / "many.json", records))
    assert frame["caption"].tolist() == [r["caption"] for r in records]


@pytest.mark.parametrize("data, parts", [
    ([{"url": "http://x/a.jpg"}], ["record 0", "field 'caption'", "field missing"]),
    ([BLIP[0], {"url": 3, "caption": "c"}], ["record 1", "field 'url'", "expected str, got int"]),
    ([BLIP[0], {"url": "http://x", "caption": None}], ["record 1", "field 'caption'", "expected str, got NoneType"]),
    ([BLIP[0], "just a string"], ["record 1", "expected an object"]),
    ([{"url": "http://x", "caption": "a\u0000b"}], ["record 0", "NUL character"]),
    ([], ["holds no records"]),
    ({"url": "http://x", "caption": "c"}, ["expected a JSON array"]),
    ([{**BLIP[0], "jpg": "images/1.jpg"}, {**BLIP[1], "jpg": "other/1.jpg"}], ["record 1", "named twice"]),
    ([{**BLIP[0], "jpg": "images/.."}], ["record 0", "field 'jpg'", "no usable file name"]),
])
def test_malformed_records_name_file_record_and_field(tmp_path, data, parts):
    raw_error(read_blip, write_json(tmp_path / "bad.json", data), *parts)


def test_a_truncated_file_and_a_missing_file(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(BLIP)[:60], encoding="utf-8")
    raw_error(read_blip, path, "truncated")
    with pytest.raises(RawFileMissing, match="salesforce/BLIP"):
        read_blip(Path(tmp_path / "absent.json"))
