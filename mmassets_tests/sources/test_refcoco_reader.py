"""Tests for the RefCOCO readers (refer's refs pickle and instances.json) and the plain-data unpickler
they use: exact rows, Python 2 pickles, hostile pickles refused unrun, broken files named."""

from __future__ import annotations

import copyreg
import os
import pickle
import struct
from pathlib import Path

import pytest

from mmassets.pickles import UnsafePickle, load_plain_pickle
from mmassets.sources.refcoco import (ANNOTATION_COLUMNS, DATASETS, IMAGE_COLUMNS, REF_COLUMNS, SPLIT_BY,
                                      instances_file, read_instances, read_refs, refs_file)
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


def _refs() -> list[dict]:
    """Two refs as refer's files hold them (keys as refer's README lists them)."""
    return [
        {"sent_ids": [0, 1], "file_name": "COCO_train2014_000000581857_16.jpg", "ann_id": 1719310, "ref_id": 0,
         "image_id": 581857, "split": "train", "category_id": 1,
         "sentences": [{"tokens": ["the", "lady", "with", "the", "blue", "shirt"],
                        "raw": "THE LADY WITH THE BLUE SHIRT", "sent_id": 0, "sent": "the lady with the blue shirt"},
                       {"tokens": ["lady", "w", "back", "to", "us"], "raw": "lady w back to us", "sent_id": 1,
                        "sent": "lady w back to us"}]},
        {"sent_ids": [2], "file_name": "COCO_train2014_000000581857_17.jpg", "ann_id": 1719311, "ref_id": 1,
         "image_id": 581857, "split": "testA", "category_id": 1,
         "sentences": [{"tokens": ["man", "on", "left"], "raw": "man on left", "sent_id": 2, "sent": "man on left"}]},
    ]


EXPECTED = [
    {"ref_id": 0, "ann_id": 1719310, "image_id": 581857, "category_id": 1, "split": "train",
     "sentences": ["the lady with the blue shirt", "lady w back to us"]},
    {"ref_id": 1, "ann_id": 1719311, "image_id": 581857, "category_id": 1, "split": "testA",
     "sentences": ["man on left"]},
]


def _write_pickle(path: Path, value: object, protocol: int = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    return path


def py2_pickle(value: object) -> bytes:
    """``value`` pickled as Python 2's cPickle writes it with protocol 2: ``bytes`` stand for Python 2
    ``str`` (SHORT_BINSTRING/BINSTRING), ``str`` for ``unicode`` (BINUNICODE), memo puts after
    containers. Python 3's pickler cannot write Python 2 byte strings, hence this small writer."""
    out = bytearray(b"\x80\x02")
    memo = [0]

    def put() -> None:
        out.extend(b"q" + bytes([memo[0]]) if memo[0] < 256 else b"r" + struct.pack("<I", memo[0]))
        memo[0] += 1

    def emit(v: object) -> None:
        if v is None:
            out.extend(b"N")
        elif isinstance(v, bool):
            out.extend(b"\x88" if v else b"\x89")
        elif isinstance(v, int):
            if 0 <= v < 256:
                out.extend(b"K" + bytes([v]))
            elif 0 <= v < 65536:
                out.extend(b"M" + struct.pack("<H", v))
            elif -2**31 <= v < 2**31:
                out.extend(b"J" + struct.pack("<i", v))
            else:
                data = v.to_bytes((v.bit_length() + 8) // 8, "little", signed=True)
                out.extend(b"\x8a" + bytes([len(data)]) + data)
        elif isinstance(v, float):
            out.extend(b"G" + struct.pack(">d", v))
        elif isinstance(v, bytes):
            out.extend((b"U" + bytes([len(v)]) if len(v) < 256 else b"T" + struct.pack("<i", len(v))) + v)
            put()
        elif isinstance(v, str):
            data = v.encode("utf-8")
            out.extend(b"X" + struct.pack("<I", len(data)) + data)
            put()
        elif isinstance(v, list):
            out.extend(b"]")
            put()
            if v:
                out.extend(b"(")
                for item in v:
                    emit(item)
                out.extend(b"e")
        elif isinstance(v, dict):
            out.extend(b"}")
            put()
            if v:
                out.extend(b"(")
                for key, item in v.items():
                    emit(key)
                    emit(item)
                out.extend(b"u")
        else:
            raise TypeError(type(v))

    emit(value)
    out.extend(b".")
    return bytes(out)


def _as_py2(value: object) -> object:
    """Every str turned into ASCII/UTF-8 bytes: a Python 2 program's plain ``str`` values."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, list):
        return [_as_py2(v) for v in value]
    if isinstance(value, dict):
        return {_as_py2(k): _as_py2(v) for k, v in value.items()}
    return value


@pytest.fixture
def refs_path(tmp_path: Path) -> Path:
    return tmp_path / "refcoco" / "refcoco" / "refs(unc).p"


# --- refs ---------------------------------------------------------------------------------------------

def test_reads_refs_exactly(refs_path: Path) -> None:
    frame = read_refs(_write_pickle(refs_path, _refs()))
    assert tuple(frame.columns) == REF_COLUMNS
    assert frame.to_dict(orient="records") == EXPECTED


def test_a_python2_protocol2_pickle_loads(refs_path: Path) -> None:
    data = py2_pickle(_as_py2(_refs()))
    assert data[:2] == b"\x80\x02" and b"U\x06ref_id" in data  # Python 2 byte strings, as cPickle writes them
    refs_path.parent.mkdir(parents=True)
    refs_path.write_bytes(data)
    assert read_refs(refs_path).to_dict(orient="records") == EXPECTED
    # unicode values and big (long) ints as Python 2 writes them
    mixed = _refs()
    mixed[1]["sentences"][0]["sent"] = "caf\u00e9 on the left"
    mixed[1]["ann_id"] = 2**40
    refs_path.write_bytes(py2_pickle(mixed))
    frame = read_refs(refs_path)
    assert frame["sentences"].tolist()[1] == ["caf\u00e9 on the left"] and frame["ann_id"].tolist()[1] == 2**40


def test_python2_byte_strings_utf8_then_latin1(tmp_path: Path) -> None:
    path = tmp_path / "x.p"
    path.write_bytes(py2_pickle([{b"sent": "café".encode("utf-8")}]))
    assert load_plain_pickle(path) == [{"sent": "café"}]  # UTF-8 bytes decoded as UTF-8
    path.write_bytes(py2_pickle([{b"sent": "café".encode("latin-1")}]))
    assert load_plain_pickle(path) == [{"sent": "café"}]  # not UTF-8: the file is read as latin-1, losslessly


class Boom:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_a_hostile_pickle_is_refused_without_running(refs_path: Path, tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    _write_pickle(refs_path, [{"ref_id": 0, "evil": Boom(marker)}], protocol=protocol)
    error = raw_error(read_refs, refs_path, "refusing to load posix.system", "refused unread")
    assert isinstance(error.__cause__, UnsafePickle)
    with pytest.raises(UnsafePickle, match="posix.system") as info:
        load_plain_pickle(refs_path)
    assert str(refs_path) in str(info.value) and isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


def test_classes_and_extension_codes_go_through_the_refusal(tmp_path: Path) -> None:
    path = tmp_path / "x.p"
    path.write_bytes(pickle.dumps([{1, 2}, frozenset(), (1, "a"), b"raw", None, True, 1.5], protocol=4))
    assert load_plain_pickle(path) == [{1, 2}, frozenset(), (1, "a"), b"raw", None, True, 1.5]
    path.write_bytes(pickle.dumps([{1, 2}], protocol=2))  # below protocol 4 a set is a class call
    with pytest.raises(UnsafePickle, match="__builtin__.set"):  # named as the pickle names it
        load_plain_pickle(path)
    copyreg.add_extension("os", "system", 240)
    try:
        path.write_bytes(b"\x80\x02\x82\xf0X\x04\x00\x00\x00true\x85R.")  # EXT1 240 -> os.system("true")
        with pytest.raises(UnsafePickle, match="os.system"):
            load_plain_pickle(path)
    finally:
        copyreg.remove_extension("os", "system", 240)


def test_an_unreadable_pickle(refs_path: Path) -> None:
    data = pickle.dumps(_refs(), protocol=2)
    refs_path.parent.mkdir(parents=True)
    refs_path.write_bytes(data[: len(data) // 2])
    raw_error(read_refs, refs_path, "not a readable pickle", "truncated")
    refs_path.write_bytes(b"not a pickle at all")
    raw_error(read_refs, refs_path, "not a readable pickle")


def test_refs_must_be_a_nonempty_list(refs_path: Path) -> None:
    raw_error(read_refs, _write_pickle(refs_path, {"refs": _refs()}), "expected a pickled list of refs", "dict")
    raw_error(read_refs, _write_pickle(refs_path, []), "holds no refs", "broken download")


@pytest.mark.parametrize("field", ["ref_id", "ann_id", "image_id", "category_id", "split", "sentences"])
def test_ref_missing_field(refs_path: Path, field: str) -> None:
    refs = _refs()
    del refs[1][field]
    error = raw_error(read_refs, _write_pickle(refs_path, refs), "refs[1]", f"field {field!r}", "field missing")
    assert error.record == "refs[1]" and error.field == field


@pytest.mark.parametrize("change, record, parts", [
    (lambda r: r[0]["sentences"][1].pop("sent"), "refs[0].sentences[1]", ["field 'sent'", "field missing"]),
    (lambda r: r[0]["sentences"][0].__setitem__("sent", b"bytes"), "refs[0].sentences[0]",
     ["field 'sent'", "expected str, got bytes"]),
    (lambda r: r[1].__setitem__("image_id", "581857"), "refs[1]", ["field 'image_id'", "expected int, got str"]),
    (lambda r: r[1].__setitem__("split", ""), "refs[1]", ["field 'split'", "empty split"]),
    (lambda r: r[1].__setitem__("ref_id", 0), "refs[1]", ["field 'ref_id'", "ref_id 0 also in refs[0]"]),
    (lambda r: r.__setitem__(1, "not a ref"), "refs[1]", ["expected an object, got str"]),
])
def test_broken_ref(refs_path: Path, change, record: str, parts: list) -> None:
    refs = _refs()
    change(refs)
    error = raw_error(read_refs, _write_pickle(refs_path, refs), *parts)
    assert error.record == record


def test_missing_refs_file_says_where_to_get_it(refs_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="lichengunc/refer") as info:
        read_refs(refs_path)
    assert str(refs_path) in str(info.value)


def test_file_names_and_split_by() -> None:
    assert DATASETS == ("refcoco", "refcoco+", "refcocog")
    assert SPLIT_BY == {"refcoco": ("unc", "google"), "refcoco+": ("unc",), "refcocog": ("umd", "google")}
    assert refs_file("refcoco+", "unc") == "refcoco/refcoco+/refs(unc).p"
    assert refs_file("refcocog", "umd") == "refcoco/refcocog/refs(umd).p"
    assert instances_file("refcocog") == "refcoco/refcocog/instances.json"
    with pytest.raises(ValueError, match="refcoco\\+ has no split_by 'google'"):
        refs_file("refcoco+", "google")
    with pytest.raises(ValueError, match="unknown RefCOCO dataset"):
        instances_file("refclef")


# --- instances.json -----------------------------------------------------------------------------------

def _instances() -> dict:
    return {
        "info": {}, "licenses": [],
        "images": [{"license": 1, "file_name": "COCO_train2014_000000581857.jpg", "coco_url": "", "height": 640,
                    "width": 427, "date_captured": "", "flickr_url": "", "id": 581857},
                   {"file_name": "COCO_train2014_000000000009.jpg", "height": 480, "width": 640, "id": 9}],
        "annotations": [{"segmentation": [[1.0, 2.0, 3.0, 4.0]], "area": 3330.5, "iscrowd": 0, "image_id": 581857,
                         "bbox": [103.93, 299.99, 238.15, 477.41], "category_id": 1, "id": 1719310},
                        {"segmentation": [[1.0, 2.0]], "area": 10, "iscrowd": 0, "image_id": 9,
                         "bbox": [0, 10, 20, 30], "category_id": 51, "id": 1038967}],
        "categories": [{"supercategory": "person", "id": 1, "name": "person"}],
    }


@pytest.fixture
def instances_path(tmp_path: Path) -> Path:
    return tmp_path / "refcoco" / "refcoco" / "instances.json"


def test_reads_instances_exactly(instances_path: Path) -> None:
    images, annotations = read_instances(write_json(instances_path, _instances()))
    assert tuple(images.columns) == IMAGE_COLUMNS and tuple(annotations.columns) == ANNOTATION_COLUMNS
    assert images.to_dict(orient="records") == [
        {"id": 581857, "file_name": "COCO_train2014_000000581857.jpg", "width": 427, "height": 640},
        {"id": 9, "file_name": "COCO_train2014_000000000009.jpg", "width": 640, "height": 480}]
    assert annotations.to_dict(orient="records") == [
        {"id": 1719310, "image_id": 581857, "category_id": 1, "bbox": [103.93, 299.99, 238.15, 477.41]},
        {"id": 1038967, "image_id": 9, "category_id": 51, "bbox": [0.0, 10.0, 20.0, 30.0]}]
    assert all(isinstance(v, float) for v in annotations["bbox"].tolist()[1])


def test_instances_malformed_json(instances_path: Path) -> None:
    text = write_json(instances_path, _instances()).read_text(encoding="utf-8")
    instances_path.write_text(text[:-30], encoding="utf-8")
    raw_error(read_instances, instances_path, "not valid JSON", "truncated")


@pytest.mark.parametrize("key, index, field", [("images", 1, "id"), ("images", 0, "file_name"),
                                               ("images", 1, "width"), ("annotations", 1, "bbox"),
                                               ("annotations", 0, "image_id"), ("annotations", 1, "category_id")])
def test_instances_missing_field(instances_path: Path, key: str, index: int, field: str) -> None:
    data = _instances()
    del data[key][index][field]
    error = raw_error(read_instances, write_json(instances_path, data), f"{key}[{index}]", f"field {field!r}",
                      "field missing")
    assert error.record == f"{key}[{index}]" and error.field == field


@pytest.mark.parametrize("key, index, field, value, problem", [
    ("annotations", 0, "bbox", [1, 2, 3], "expected [x, y, w, h] (4 numbers)"),
    ("annotations", 0, "bbox", [1, 2, True, 4], "expected [x, y, w, h] (4 numbers)"),
    ("annotations", 0, "bbox", [1, 2, "3", 4], "expected [x, y, w, h] (4 numbers)"),
    ("annotations", 1, "id", 1719310, "id 1719310 also in annotations[0]"),
    ("images", 1, "file_name", "../../etc/passwd", "unsafe image path"),
    ("images", 1, "file_name", "/abs/x.jpg", "unsafe image path"),
    ("images", 0, "height", 640.0, "expected int, got float"),
])
def test_instances_broken_value(instances_path: Path, key: str, index: int, field: str, value: object,
                                problem: str) -> None:
    data = _instances()
    data[key][index][field] = value
    raw_error(read_instances, write_json(instances_path, data), f"{key}[{index}]", f"field {field!r}", problem)


@pytest.mark.parametrize("index, field, value", [(0, "width", 0), (1, "height", 0), (1, "width", -640),
                                                 (0, "height", -1)])
def test_instances_image_sizes_of_zero_or_below_are_refused(instances_path: Path, index: int, field: str,
                                                            value: int) -> None:
    """Weak spot (issue 30): a width or height of 0 or below was read, then divided by (a division by
    zero) or made a nonsense box; now an error naming the file, the record and the field."""
    data = _instances()
    data["images"][index][field] = value
    error = raw_error(read_instances, write_json(instances_path, data), f"images[{index}]", f"field {field!r}",
                      f"must be a positive number of pixels, got {value}")
    assert (error.record, error.field) == (f"images[{index}]", field)


def test_instances_top_level(instances_path: Path) -> None:
    raw_error(read_instances, write_json(instances_path, [_instances()]), "expected a JSON object")
    data = _instances()
    del data["annotations"]
    raw_error(read_instances, write_json(instances_path, data), "top level", "field 'annotations'")
    data = _instances()
    data["images"] = []
    raw_error(read_instances, write_json(instances_path, data), "holds no images")


def test_instances_missing_file(instances_path: Path) -> None:
    with pytest.raises(RawFileMissing, match="refcoco"):
        read_instances(instances_path)


def test_same_input_same_output(refs_path: Path) -> None:
    _write_pickle(refs_path, _refs())
    assert read_refs(refs_path).equals(read_refs(refs_path))
