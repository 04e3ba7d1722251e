"""MaRVL: the reader, the benchmark builder, and the NFKD image paths (NFC annotations, NFKD folders)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from mmassets.evalsets import marvl
from mmassets.sample.iglue import write_iglue
from mmassets.sources import iglue
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_jsonl


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_iglue(raw, seed=0)
    return raw


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- reader -----------------------------------------------------------------------------------

@pytest.mark.parametrize("language", iglue.MARVL_LANGUAGES)
def test_reads_the_sample(sample_raw: Path, language: str) -> None:
    path = sample_raw / iglue.marvl_file(language)
    raw = _lines(path)
    frame = iglue.read_marvl(path)
    assert tuple(frame.columns) == iglue.MARVL_COLUMNS
    for column in iglue.MARVL_COLUMNS:
        assert frame[column].tolist() == [r[column] for r in raw]
    assert all(isinstance(r["label"], bool) for r in raw)
    assert set(frame["language"]) == {language}


def test_label_may_be_a_string(sample_raw: Path, tmp_path: Path) -> None:
    records = _lines(sample_raw / iglue.marvl_file("id"))
    records[0]["label"], records[1]["label"] = "True", "false"
    frame = iglue.read_marvl(write_jsonl(tmp_path / "marvl-id.jsonl", records))
    assert frame["label"].tolist()[:2] == [True, False]


def test_truncated_line(sample_raw: Path, tmp_path: Path) -> None:
    lines = (sample_raw / iglue.marvl_file("sw")).read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "marvl-sw.jsonl"
    path.write_text(lines[0] + lines[1][:40], encoding="utf-8")
    raw_error(iglue.read_marvl, path, "line 2", "not valid JSON", "truncated")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / iglue.marvl_file("ta")
    with pytest.raises(RawFileMissing) as info:
        iglue.read_marvl(path)
    assert str(path) in str(info.value)
    assert "github.com/e-bug/iglue" in str(info.value) and "marvl/images" in str(info.value)


@pytest.mark.parametrize("field", ["concept", "language", "caption", "left_img", "right_img", "label"])
def test_record_missing_a_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    records = _lines(sample_raw / iglue.marvl_file("tr"))
    del records[3][field]
    error = raw_error(iglue.read_marvl, write_jsonl(tmp_path / "marvl-tr.jsonl", records), "record 3",
                      f"field {field!r}", "field missing")
    assert (error.record, error.field) == ("record 3", field)


@pytest.mark.parametrize("change, parts", [
    (lambda r: r.__setitem__("label", "yes"), ["field 'label'", "expected true or false"]),
    (lambda r: r.__setitem__("label", 1), ["field 'label'", "expected bool/str"]),
    (lambda r: r.__setitem__("left_img", "../../secret.jpg"), ["field 'left_img'", "unsafe"]),
    (lambda r: r.__setitem__("right_img", "/tmp/x.jpg"), ["field 'right_img'", "unsafe"]),
    (lambda r: r.__setitem__("concept", ".."), ["field 'concept'", "unsafe"]),
    (lambda r: r.__setitem__("concept", "2-Güvercin/x"), ["field 'concept'", "single folder name"]),
    (lambda r: r.__setitem__("language", "../tr"), ["field 'language'", "unsafe"]),
    (lambda r: r.__setitem__("caption", None), ["field 'caption'", "expected str"]),
])
def test_broken_record(sample_raw: Path, tmp_path: Path, change, parts: list) -> None:
    records = _lines(sample_raw / iglue.marvl_file("tr"))
    change(records[1])
    raw_error(iglue.read_marvl, write_jsonl(tmp_path / "marvl-tr.jsonl", records), "record 1", *parts)


# --- builder ----------------------------------------------------------------------------------

def _record(concept: str, caption: str, left: str, right: str, label: bool, language: str = "tr") -> dict:
    return {"concept": concept, "language": language, "caption": caption, "left_img": left, "right_img": right,
            "annotator_info": {"annotator_id": f"{language}_03"}, "chapter": "Food and Beverages",
            "id": f"{language}-0", "label": label}


def test_build_exact_output(tmp_path: Path) -> None:
    cay = unicodedata.normalize("NFC", "53-Çay")
    write_jsonl(tmp_path / iglue.marvl_file("tr"), [
        _record(cay, "Her iki resimde de çay var.", "53-3.jpg", "53-9.jpg", True),
        _record("42-Keman", "Soldaki resimde bir erkek keman çalıyor.", "42-9.jpg", "42-5.jpg", False),
    ])
    write_jsonl(tmp_path / iglue.marvl_file("zh"), [
        _record("82-铅笔", "左图有好几支铅笔。", "82-6.jpg", "82-1.jpg", False, "zh"),
    ])
    parts = marvl.build(tmp_path, ["zh", "tr"])
    assert list(parts) == ["zh", "tr"]
    cay_nfkd = "53-C\u0327ay"
    pd.testing.assert_frame_equal(parts["tr"].records, pd.DataFrame([
        ("Her iki resimde de çay var.", "", f"tr/images/{cay_nfkd}/53-3.jpg", "True", "test",
         f"tr/images/{cay_nfkd}/53-3.jpg", f"tr/images/{cay_nfkd}/53-9.jpg", cay, "tr"),
        ("Soldaki resimde bir erkek keman çalıyor.", "", "tr/images/42-Keman/42-9.jpg", "False", "test",
         "tr/images/42-Keman/42-9.jpg", "tr/images/42-Keman/42-5.jpg", "42-Keman", "tr"),
    ], columns=list(marvl.COLUMNS), dtype=object))
    pd.testing.assert_frame_equal(parts["zh"].records, pd.DataFrame([
        ("左图有好几支铅笔。", "", "zh/images/82-铅笔/82-6.jpg", "False", "test",
         "zh/images/82-铅笔/82-6.jpg", "zh/images/82-铅笔/82-1.jpg", "82-铅笔", "zh"),
    ], columns=list(marvl.COLUMNS), dtype=object))
    assert parts["tr"].skipped == {} and parts["zh"].skipped == {}
    # the images resolve in the NFKD folder the archive unpacks to
    folder = tmp_path / iglue.MARVL_IMAGE_DIR / "tr" / "images" / cay_nfkd
    folder.mkdir(parents=True)
    (folder / "53-3.jpg").write_bytes(b"jpeg")
    assert marvl.BENCHMARK.image_path(tmp_path, parts["tr"].records["left_image"][0]).is_file()
    # an NFC id (e.g. typed by hand) resolves to the same file
    assert marvl.BENCHMARK.image_path(tmp_path, f"tr/images/{cay}/53-3.jpg").is_file()
    with pytest.raises(ValueError, match="'en'"):
        marvl.build(tmp_path, ["en"])


def test_benchmark_declaration() -> None:
    benchmark = marvl.BENCHMARK
    assert benchmark.name == "marvl"
    assert benchmark.languages == ("id", "sw", "ta", "tr", "zh")
    assert benchmark.image_columns == ("left_image", "right_image")
    assert benchmark.extra_fields == ("left_image", "right_image", "concept", "language")


def test_sample_has_nfc_annotations_and_nfkd_folders(sample_raw: Path) -> None:
    changed = []
    for language in iglue.MARVL_LANGUAGES:
        for record in _lines(sample_raw / iglue.marvl_file(language)):
            concept = record["concept"]
            assert unicodedata.is_normalized("NFC", concept)
            nfkd = unicodedata.normalize("NFKD", concept)
            assert (sample_raw / iglue.MARVL_IMAGE_DIR / language / "images" / nfkd).is_dir()
            if nfkd != concept:
                changed.append(concept)
                on_disk = {p.name for p in (sample_raw / iglue.MARVL_IMAGE_DIR / language / "images").iterdir()}
                assert concept not in on_disk
    assert "53-Çay" in changed and "2-Güvercin" in changed


def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    parts = marvl.BENCHMARK.build(sample_raw, marvl.BENCHMARK.languages)
    assert list(parts) == list(marvl.BENCHMARK.languages)
    for language, part in parts.items():
        records = part.records
        assert len(records) == 4 and set(records["split"]) == {"test"} and set(records["language"]) == {language}
        assert (records["image_id"] == records["left_image"]).all()
        assert set(records["text_label"]) <= {"True", "False"} and (records["label"] == "").all()
        for column in marvl.BENCHMARK.image_columns:
            for image_id in records[column]:
                assert unicodedata.is_normalized("NFKD", image_id)
                assert marvl.BENCHMARK.image_path(sample_raw, image_id).is_file(), image_id
