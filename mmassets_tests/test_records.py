"""Tests for record export: JSON layout, atomic replacement, schema checks and the LLaVA view."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmassets.records import (
    EVAL_FIELDS,
    TRAIN_FIELDS,
    dumps_records,
    schema_problems,
    to_llava,
    write_json,
    write_records,
)

RECORDS = [
    {"context": "Eine kurze Bildbeschreibung:", "label": "Ein Hund läuft", "image_id": "a.jpg"},
    {"context": "简短的图片说明：", "label": "猫", "image_id": "b.jpg"},
    {"context": "Caption:", "label": 'a "quoted"\nline', "image_id": "c.jpg"},
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(RECORDS)


def test_dumps_records_round_trips_one_record_per_line() -> None:
    data = dumps_records(RECORDS)
    assert json.loads(data) == RECORDS
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == RECORDS
    # keys in the order given
    assert lines[1].startswith('{"context": ')


def test_dumps_records_keeps_non_ascii() -> None:
    data = dumps_records(RECORDS)
    assert "Ein Hund läuft".encode() in data
    assert "猫".encode() in data
    assert b"\\u" not in data


def test_dumps_records_empty() -> None:
    assert json.loads(dumps_records([])) == []


def test_write_records_exports_only_given_fields_in_order(tmp_path: Path) -> None:
    frame = _frame()
    frame["language"] = "de"
    path = write_records(tmp_path / "out" / "records.json", frame, ["image_id", "label"])
    loaded = json.loads(path.read_bytes())
    assert loaded == [{"image_id": r["image_id"], "label": r["label"]} for r in RECORDS]
    assert all(list(record) == ["image_id", "label"] for record in loaded)


def test_write_records_turns_arrays_into_lists(tmp_path: Path) -> None:
    frame = pd.DataFrame({"context": ["q"], "label": [np.array(["yes", "no"])], "image_id": ["a.jpg"]})
    path = write_records(tmp_path / "records.json", frame, TRAIN_FIELDS)
    assert json.loads(path.read_bytes()) == [{"context": "q", "label": ["yes", "no"], "image_id": "a.jpg"}]


def test_write_records_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("old", encoding="utf-8")
    write_records(path, _frame(), TRAIN_FIELDS)
    assert json.loads(path.read_bytes()) == RECORDS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


def test_missing_field_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(KeyError, match="text_label"):
        write_records(path, _frame(), EVAL_FIELDS)
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


def test_unserialisable_value_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("old", encoding="utf-8")
    frame = _frame()
    frame["label"] = ["fine", object(), "fine"]
    with pytest.raises(TypeError):
        write_records(path, frame, TRAIN_FIELDS)
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


def test_failure_while_writing_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "records.json"
    path.write_text("old", encoding="utf-8")
    frame = pd.DataFrame({"context": ["a", "b", "c"], "label": ["x", "y", float("nan")], "image_id": ["1", "2", "3"]})
    with pytest.raises(ValueError, match="Out of range float"):  # the second chunk cannot be JSON
        write_records(path, frame, TRAIN_FIELDS, chunk=2)
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["records.json"]  # no temp file left


def test_write_json_keeps_order_and_non_ascii(tmp_path: Path) -> None:
    obj = {"z": 1, "a": ["猫", "läuft"]}
    path = write_json(tmp_path / "x.json", obj)
    assert path.read_bytes() == '{"z": 1, "a": ["猫", "läuft"]}\n'.encode()


def test_nan_is_never_written_as_bare_nan(tmp_path: Path) -> None:
    frame = _frame()
    frame.loc[0, "label"] = math.nan
    path = tmp_path / "records.json"
    with pytest.raises(ValueError, match="JSON"):
        write_records(path, frame, TRAIN_FIELDS)
    assert not path.exists() and not list(tmp_path.iterdir())


def test_schema_problems_counts_per_problem() -> None:
    good = _frame()
    assert schema_problems(good, TRAIN_FIELDS) == {}
    bad = pd.DataFrame({
        "context": ["q", "", "  ", None],
        "label": ["a", 3, "b", math.nan],
    })
    assert schema_problems(bad, TRAIN_FIELDS) == {
        "context: not a string": 1,
        "context: empty": 2,
        "label: not a string": 2,
        "image_id: column missing": 4,
    }
    eval_frame = _frame().assign(label="", text_label="en")
    assert schema_problems(eval_frame, EVAL_FIELDS, allow_empty=["label"]) == {}
    assert schema_problems(eval_frame, EVAL_FIELDS) == {"label: empty": 3}


def test_to_llava() -> None:
    frame = _frame()
    assert to_llava(frame, "coco") == [
        {"id": f"coco-{i}", "image": r["image_id"],
         "conversations": [{"from": "human", "value": "<image>\n" + r["context"]},
                           {"from": "gpt", "value": r["label"]}]}
        for i, r in enumerate(RECORDS)
    ]


def test_to_llava_prefix_per_record_and_any_index() -> None:
    frame = _frame().set_axis([7, 3, 5])
    prefixes = pd.Series(["de", "zh", "en"], index=frame.index)
    items = to_llava(frame, prefixes)
    assert [item["id"] for item in items] == ["de-0", "zh-1", "en-2"]
    assert [item["conversations"][1]["value"] for item in items] == [r["label"] for r in RECORDS]


@pytest.mark.parametrize("rows", [0, 1, 3, 7])
def test_a_chunked_export_has_the_bytes_of_one_written_at_once(tmp_path, rows):
    from mmassets.records import dumps_records, write_records

    frame = pd.DataFrame({"context": [f"Décris l'image {i}." for i in range(rows)], "label": ["ein Hund"] * rows,
                          "image_id": [f"{i:08d}.jpg" for i in range(rows)]})
    path = write_records(tmp_path / "t.json", frame, ["context", "label", "image_id"], chunk=3)
    assert path.read_bytes() == dumps_records(frame.to_dict(orient="records"))
    assert len(json.loads(path.read_text(encoding="utf-8"))) == rows


def test_conversation_rows_are_written_as_published_and_split_for_the_mblip_view():
    from mmassets.records import to_mblip_frame

    conversation = {"id": 7, "image": "gqa/images/7.jpg", "model": "", "conversations": [
        {"from": "human", "value": "<image>\nIs it red?"}, {"from": "gpt", "value": "Yes"},
        {"from": "human", "value": "And the sky?"}, {"from": "gpt", "value": "Blue"}]}
    text_only = {"id": "t", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    frame = pd.DataFrame({"context": ["Caption it.", None, None], "label": ["a cat", None, None],
                          "image_id": ["c.jpg", "gqa/images/7.jpg", ""], "image": ["coco/c.jpg", "gqa/images/7.jpg", ""],
                          "record": [None, json.dumps(conversation), json.dumps(text_only)]})
    llava = to_llava(frame, "mix", image_column="image")
    assert llava[1] == conversation and llava[2] == text_only  # as published: integer id, extra key
    assert llava[0]["id"] == "mix-0" and llava[0]["image"] == "coco/c.jpg"
    mblip, skipped = to_mblip_frame(frame)
    assert mblip.to_dict(orient="records") == [
        {"context": "Caption it.", "label": "a cat", "image_id": "c.jpg"},
        {"context": "Is it red?", "label": "Yes", "image_id": "gqa/images/7.jpg"},
        {"context": "And the sky?", "label": "Blue", "image_id": "gqa/images/7.jpg"}]
    assert skipped == 1  # the text-only record has no image for an mBLIP record
