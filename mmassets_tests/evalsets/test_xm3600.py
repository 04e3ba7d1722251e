"""Tests for Crossmodal-3600: the captions.jsonl reader, the builder's exact output, the sample
generator and the references through pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
import unicodedata
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from mmassets.evalsets.coco_reference import reference_problems
from mmassets.evalsets.xflickrco import language_name
from mmassets.evalsets.xm3600 import BENCHMARK, build_xm3600
from mmassets.records import EVAL_FIELDS, schema_problems, write_json
from mmassets.sample.xm3600 import DECOMPOSED, SCENES, write_xm3600
from mmassets.sources.validation import RawFileMissing
from mmassets.sources.xm3600 import CAPTIONS_FILE, LANGUAGES, image_path, read_xm3600

from raw_files import raw_error, write_jsonl


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_xm3600(raw, seed=0)
    return raw


@pytest.fixture
def good(sample_raw: Path) -> list[dict]:
    return [json.loads(line) for line in (sample_raw / CAPTIONS_FILE).read_text(encoding="utf-8").splitlines()]


def _write(tmp_path: Path, records: list) -> Path:
    return write_jsonl(tmp_path / CAPTIONS_FILE, records)


def _quiet(fn, *args):  # pycocotools prints progress
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def test_languages() -> None:
    assert len(LANGUAGES) == len(set(LANGUAGES)) == 36
    assert "he" in LANGUAGES and "iw" not in LANGUAGES and "quz" in LANGUAGES and "fil" in LANGUAGES
    names = {code: language_name(code) for code in LANGUAGES}
    assert (names["he"], names["hr"], names["quz"], names["fil"], names["bn"]) == \
        ("Hebrew", "Croatian", "Quechua", "Filipino", "Bangla")
    assert BENCHMARK.name == "xm3600" and BENCHMARK.languages == LANGUAGES


# --- reader -------------------------------------------------------------------------------------------

def test_reads_the_sample(sample_raw: Path, good: list[dict]) -> None:
    frame = read_xm3600(sample_raw / CAPTIONS_FILE)
    assert list(frame.columns) == ["key", "locale", "image_id", *LANGUAGES]
    assert len(frame) == len(SCENES) == len(good)
    assert frame["key"].tolist() == [r["image/key"] for r in good]
    assert frame["locale"].tolist() == [r["image/locale"] for r in good]
    assert frame["image_id"].tolist() == [f"{r['image/key']}.jpg" for r in good]
    for language in LANGUAGES:
        assert frame[language].tolist() == [r[language]["caption"] for r in good]
    assert [len(c) for c in frame["en"]] == [2, 2, 2]


def test_reads_only_the_requested_languages(sample_raw: Path) -> None:
    frame = read_xm3600(sample_raw / CAPTIONS_FILE, ["th", "quz"])
    assert list(frame.columns) == ["key", "locale", "image_id", "th", "quz"]


def test_truncated_file(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / CAPTIONS_FILE).read_text(encoding="utf-8")
    path = tmp_path / "captions.jsonl"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(read_xm3600, path, "not valid JSON", "truncated", "line ")


@pytest.mark.parametrize("field", ["image/key", "image/locale", "de", "quz"])
def test_record_missing_a_field(tmp_path: Path, good: list[dict], field: str) -> None:
    del good[1][field]
    error = raw_error(read_xm3600, _write(tmp_path, good), "line 2", f"field {field!r}", "field missing")
    assert (error.record, error.field) == ("line 2", field)


def test_language_without_caption(tmp_path: Path, good: list[dict]) -> None:
    del good[2]["zh"]["caption"]
    error = raw_error(read_xm3600, _write(tmp_path, good), "line 3", "field 'zh.caption'", "field missing")
    assert error.field == "zh.caption"


def test_a_language_not_requested_may_be_absent(tmp_path: Path, good: list[dict]) -> None:
    del good[0]["quz"]
    assert len(read_xm3600(_write(tmp_path, good), ["en", "zh"])) == len(good)


@pytest.mark.parametrize("change, parts", [
    (lambda r: r.__setitem__("ja", ["犬"]), ["field 'ja'", "expected dict"]),
    (lambda r: r["ja"].__setitem__("caption", "犬"), ["field 'ja.caption'", "expected list"]),
    (lambda r: r["ja"]["caption"].append(3), ["field 'ja.caption[2]'", "expected str, got int"]),
    (lambda r: r.__setitem__("image/key", 42), ["field 'image/key'", "expected str"]),
    (lambda r: r.__setitem__("image/key", "../../etc/passwd"), ["field 'image/key'", "unsafe"]),
    (lambda r: r.__setitem__("image/key", "/abs"), ["field 'image/key'", "unsafe"]),
])
def test_bad_values(tmp_path: Path, good: list[dict], change, parts: list[str]) -> None:
    change(good[0])
    raw_error(read_xm3600, _write(tmp_path, good), "line 1", *parts)


def test_record_not_an_object(tmp_path: Path, good: list[dict]) -> None:
    good[1] = "f728b4fa42485e3a"
    raw_error(read_xm3600, _write(tmp_path, good), "line 2", "expected an object")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / CAPTIONS_FILE
    with pytest.raises(RawFileMissing) as info:
        read_xm3600(path)
    assert str(path) in str(info.value)
    assert "crossmodal-3600" in str(info.value)


# --- builder: exact output on hand-made input ---------------------------------------------------------------

def _entry(*captions: str) -> dict:
    return {"caption": list(captions), "caption/tokenized": list(captions),
            "caption/tokenized/lowercase": [c.lower() for c in captions]}


def test_builder_exact_output(tmp_path: Path) -> None:
    _write(tmp_path, [
        {"image/key": "aaaa000000000001", "image/locale": "th", "en": _entry("A dog on  the grass", "A brown dog "),
         "zh": _entry("一只狗在草地上奔跑"), "th": _entry("แมวกินปลา"), "quz": _entry("Huk allqu")},
        {"image/key": "aaaa000000000002", "image/locale": "quz", "en": _entry(" "), "zh": _entry(),
         "th": _entry("รถสีแดงจอดอยู่ริมถนน"), "quz": _entry("Huk puka karru")},
        {"image/key": "aaaa000000000001", "image/locale": "th", "en": _entry("A dog running"),
         "zh": _entry(), "th": _entry(), "quz": _entry()},
    ])
    parts = build_xm3600(tmp_path, ["en", "zh", "th", "quz"])
    assert list(parts) == ["en", "zh", "th", "quz"]

    def records(language: str, name: str, keys: list[int]) -> list[dict]:
        return [{"context": name, "label": "", "image_id": f"aaaa00000000000{k}.jpg", "text_label": language,
                 "split": "test"} for k in keys]

    def captions(language: str) -> list[tuple[str, str]]:
        return [(a["image_id"][-5:], a["caption"]) for a in parts[language].references["test"]["annotations"]]

    assert parts["en"].records.to_dict(orient="records") == records("en", "English", [1])
    assert captions("en") == [("1.jpg", "A dog on the grass"), ("1.jpg", "A brown dog"), ("1.jpg", "A dog running")]
    assert parts["en"].skipped == {"blank caption": 1, "image without captions": 1,
                                   "repeated image (captions merged)": 1}
    assert parts["zh"].records.to_dict(orient="records") == records("zh", "Chinese", [1])
    assert captions("zh") == [("1.jpg", "一只 狗 在 草地 上 奔跑")]
    assert parts["zh"].skipped == {"blank caption": 0, "image without captions": 1,
                                   "repeated image (captions merged)": 1}
    assert parts["th"].records.to_dict(orient="records") == records("th", "Thai", [1, 2])
    assert captions("th") == [("1.jpg", "แมว กิน ปลา"), ("2.jpg", "รถ สีแดง จอด อยู่ ริมถนน")]
    assert parts["quz"].records.to_dict(orient="records") == records("quz", "Quechua", [1, 2])
    assert captions("quz") == [("1.jpg", "Huk allqu"), ("2.jpg", "Huk puka karru")]
    assert list(parts["quz"].references) == ["test"]
    with pytest.raises(ValueError, match="'iw'"):
        build_xm3600(tmp_path, ["iw"])
    assert build_xm3600(tmp_path, []) == {}


# --- the sample, end to end -------------------------------------------------------------------------------

def test_sample_records_and_images(sample_raw: Path) -> None:
    parts = build_xm3600(sample_raw, LANGUAGES)
    assert list(parts) == list(LANGUAGES)
    frame = read_xm3600(sample_raw / CAPTIONS_FILE)
    for language, part in parts.items():
        assert part.records["image_id"].tolist() == frame["image_id"].tolist()
        assert schema_problems(part.records, EVAL_FIELDS, allow_empty=["label"]) == {}
        assert (part.records["context"] == language_name(language)).all()
        assert sum(part.skipped.values()) == 0
        for image_id in part.records["image_id"]:
            assert image_path(sample_raw, image_id).is_file()
            assert BENCHMARK.image_path(sample_raw, image_id) == sample_raw / "xm3600" / "images" / image_id


def test_sample_references_are_nfc(sample_raw: Path, good: list[dict]) -> None:
    language, index = DECOMPOSED
    raw = good[index][language]["caption"][0]
    assert not unicodedata.is_normalized("NFC", raw)  # the sample carries a decomposed caption ...
    reference = build_xm3600(sample_raw, [language])[language].references["test"]
    captions = [a["caption"] for a in reference["annotations"]]
    assert unicodedata.normalize("NFC", raw) in captions  # ... and the reference has it composed
    assert all(unicodedata.is_normalized("NFC", c) for c in captions)


@pytest.mark.parametrize("language", ["en", "zh", "ja", "th", "ar", "quz"])
def test_references_load_in_pycocotools(sample_raw: Path, tmp_path: Path, language: str) -> None:
    part = build_xm3600(sample_raw, [language])[language]
    reference = part.references["test"]
    path = write_json(tmp_path / f"xm3600_{language}_test.json", reference)
    coco = _quiet(COCO, str(path))
    image_ids = part.records["image_id"].tolist()
    assert sorted(coco.getImgIds()) == sorted(image_ids)
    result = _quiet(coco.loadRes, [{"image_id": i, "caption": "a prediction"} for i in image_ids])
    assert sorted(result.getImgIds()) == sorted(image_ids)
    assert reference_problems(reference) == []


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_is_deterministic(tmp_path: Path, sample_raw: Path) -> None:
    write_xm3600(tmp_path / "a", seed=0)
    write_xm3600(tmp_path / "b", seed=1)
    again = _files(tmp_path / "a")
    assert again == _files(sample_raw)
    assert again != _files(tmp_path / "b")
    assert sorted(again) == sorted([CAPTIONS_FILE] + [f"xm3600/images/{k}" for k in
                                                      read_xm3600(tmp_path / "a" / CAPTIONS_FILE)["image_id"]])
