"""Tests for the SVIT reader (SVIT's original files): exact rows, speakers, broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmassets.sources.svit import COLUMNS, KINDS, read_svit, svit_file
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _items() -> list[dict]:
    return [
        {"image_id": 1, "conversations": [
            {"content": [{"from": "user", "value": "What color is the clock?"},
                         {"from": "gpt", "value": "The clock is white."},
                         {"from": "user", "value": "Where is it?"},
                         {"from": "gpt", "value": "On the building."}]},
            {"content": [{"from": "human", "value": "Is it daytime?"}, {"from": "gpt", "value": "Yes."}]},
        ]},
        {"image_id": "2327022", "conversations": [
            {"content": [{"from": "user", "value": "Where is <st>the clock<ed> [0.526, 0.152, 0.625, 0.717]?"},
                         {"from": "gpt", "value": "It hangs on the wall.", "extra": "kept out"}]},
        ]},
        {"image_id": 30, "conversations": []},
    ]


def _read(kind: str = "conversation"):
    return lambda path: read_svit(path, kind)


def _write(tmp_path: Path, data: object, kind: str = "conversation") -> Path:
    return write_json(tmp_path / svit_file(kind), data)


def test_reads_one_row_per_conversation(tmp_path: Path) -> None:
    frame = read_svit(_write(tmp_path, _items()), "conversation")
    assert tuple(frame.columns) == COLUMNS
    assert frame.to_dict(orient="records") == [
        {"image_id": 1, "conversation_index": 0, "turns": [
            {"from": "user", "value": "What color is the clock?"}, {"from": "gpt", "value": "The clock is white."},
            {"from": "user", "value": "Where is it?"}, {"from": "gpt", "value": "On the building."}]},
        {"image_id": 1, "conversation_index": 1, "turns": [
            {"from": "human", "value": "Is it daytime?"}, {"from": "gpt", "value": "Yes."}]},
        {"image_id": "2327022", "conversation_index": 0, "turns": [
            {"from": "user", "value": "Where is <st>the clock<ed> [0.526, 0.152, 0.625, 0.717]?"},
            {"from": "gpt", "value": "It hangs on the wall."}]},
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_and_its_file(tmp_path: Path, kind: str) -> None:
    assert svit_file(kind) == f"svit/{kind}.json"
    assert len(read_svit(_write(tmp_path, _items(), kind), kind)) == 3


def test_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown SVIT kind 'detail'"):
        read_svit(_write(tmp_path, _items()), "detail")


def test_malformed_json(tmp_path: Path) -> None:
    path = _write(tmp_path, _items())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:-20], encoding="utf-8")
    raw_error(_read(), path, "not valid JSON", "premature EOF", "truncated")
    path.write_text(text.replace('"gpt", "value": "Yes."', '"gpt" "value": "Yes."'), encoding="utf-8")
    raw_error(_read(), path, "not valid JSON")


@pytest.mark.parametrize("change, record, field", [
    (lambda items: items[1].pop("image_id"), "[1]", "image_id"),
    (lambda items: items[0].pop("conversations"), "[0]", "conversations"),
    (lambda items: items[0]["conversations"][1].pop("content"), "[0].conversations[1]", "content"),
    (lambda items: items[0]["conversations"][0]["content"][2].pop("from"), "[0].conversations[0].content[2]", "from"),
    (lambda items: items[1]["conversations"][0]["content"][1].pop("value"), "[1].conversations[0].content[1]",
     "value"),
])
def test_missing_field_names_file_record_and_field(tmp_path: Path, change, record: str, field: str) -> None:
    items = _items()
    change(items)
    error = raw_error(_read(), _write(tmp_path, items), record, f"field {field!r}", "field missing")
    assert error.record == record and error.field == field


@pytest.mark.parametrize("speaker", ["assistant", "USER", "system", ""])
def test_an_unknown_speaker_is_named(tmp_path: Path, speaker: str) -> None:
    items = _items()
    items[0]["conversations"][1]["content"][1]["from"] = speaker
    error = raw_error(_read(), _write(tmp_path, items), "[0].conversations[1].content[1]", "field 'from'",
                      f"unknown speaker {speaker!r}")
    assert error.field == "from"


@pytest.mark.parametrize("change, parts", [
    (lambda items: items[1].__setitem__("image_id", True), ["[1]", "field 'image_id'", "got bool"]),
    (lambda items: items[1].__setitem__("image_id", "../x"), ["[1]", "field 'image_id'", "unsafe image path"]),
    (lambda items: items[1].__setitem__("image_id", 2.5), ["[1]", "field 'image_id'", "expected int/str"]),
    (lambda items: items[0]["conversations"][0]["content"][0].__setitem__("value", None),
     ["[0].conversations[0].content[0]", "field 'value'", "expected str, got NoneType"]),
    (lambda items: items.__setitem__(2, ["not", "an", "item"]), ["[2]", "expected an object"]),
])
def test_broken_value(tmp_path: Path, change, parts: list) -> None:
    items = _items()
    change(items)
    raw_error(_read(), _write(tmp_path, items), *parts)


def test_top_level_and_empty(tmp_path: Path) -> None:
    raw_error(_read(), _write(tmp_path, {"items": _items()}), "expected a JSON list of SVIT conversation items")
    raw_error(_read(), _write(tmp_path, []), "holds no items", "broken download")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="BAAI/SVIT.*referring_qa.json"):
        read_svit(tmp_path / svit_file("referring_qa"), "referring_qa")
