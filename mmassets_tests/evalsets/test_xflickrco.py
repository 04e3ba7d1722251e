"""Tests for xFlickrCO and Flickr30k (IGLUE): the JSON-lines reader, the builders' exact output, the
sample generator and the references through pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from mmassets.evalsets.coco_reference import reference_problems
from mmassets.evalsets.xflickrco import (
    BENCHMARK,
    FLICKR30K,
    build_flickr30k,
    build_xflickrco,
    flickr30k_train_records,
    language_name,
)
from mmassets.records import EVAL_FIELDS, schema_problems, write_json
from mmassets.sample.xflickrco import (
    CAPTIONS_PER_FLICKR30K_IMAGE,
    FLICKR30K_COUNTS,
    XFLICKRCO_COCO_IMAGES,
    XFLICKRCO_FLICKR_IMAGES,
    write_xflickrco,
)
from mmassets.sources.flickr import (
    COLUMNS,
    FLICKR30K_FILES,
    XFLICKRCO_LANGUAGES,
    read_flickr30k,
    read_xflickrco,
    xflickrco_file,
)
from mmassets.sources.validation import RawFileMissing
from mmassets.tasks.captions import CAPTION_INSTRUCTIONS
from mmassets.tasks.instructions import choose

from raw_files import raw_error, write_jsonl

XFLICKRCO_IMAGES = XFLICKRCO_FLICKR_IMAGES + XFLICKRCO_COCO_IMAGES


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_xflickrco(raw, seed=0)
    return raw


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _quiet(fn, *args):  # pycocotools prints progress
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


# --- reader -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", XFLICKRCO_LANGUAGES)
def test_reads_the_xflickrco_sample(sample_raw: Path, language: str) -> None:
    path = sample_raw / xflickrco_file(language)
    frame = read_xflickrco(path)
    raw = _lines(path)
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == XFLICKRCO_IMAGES
    assert frame["img_path"].tolist() == [r["img_path"] for r in raw]
    assert frame["captions"].tolist() == [r["sentences"] for r in raw]
    assert sum(p.startswith("COCO_val2014_") for p in frame["img_path"]) == XFLICKRCO_COCO_IMAGES
    # every language file lists the same images in the same order, as the real ones do
    assert frame["img_path"].tolist() == read_xflickrco(sample_raw / xflickrco_file("en"))["img_path"].tolist()


@pytest.mark.parametrize("split", list(FLICKR30K_FILES))
def test_reads_the_flickr30k_sample(sample_raw: Path, split: str) -> None:
    frame = read_flickr30k(sample_raw / FLICKR30K_FILES[split])
    assert len(frame) == FLICKR30K_COUNTS[split]
    assert all(len(c) == CAPTIONS_PER_FLICKR30K_IMAGE for c in frame["captions"])
    assert all(p.endswith(".jpg") for p in frame["img_path"])


def test_truncated_file(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / xflickrco_file("zh")).read_text(encoding="utf-8")
    path = tmp_path / "test.jsonl"
    path.write_text(text[: len(text) - 20], encoding="utf-8")
    raw_error(read_xflickrco, path, "not valid JSON", "truncated", f"line {XFLICKRCO_IMAGES}")


@pytest.mark.parametrize("field", ["img_path", "sentences"])
def test_record_missing_a_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    records = _lines(sample_raw / FLICKR30K_FILES["train"])
    del records[2][field]
    path = write_jsonl(tmp_path / "train_ann.jsonl", records)
    error = raw_error(read_flickr30k, path, "line 3", f"field {field!r}", "field missing")
    assert (error.record, error.field) == ("line 3", field)


def test_line_number_counts_blank_lines(sample_raw: Path, tmp_path: Path) -> None:
    records = _lines(sample_raw / xflickrco_file("de"))
    del records[1]["sentences"]
    path = tmp_path / "test.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text(lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")
    raw_error(read_xflickrco, path, "line 3", "field 'sentences'")


@pytest.mark.parametrize("change, parts", [
    (lambda r: r.__setitem__("sentences", "Ein Hund."), ["field 'sentences'", "expected list"]),
    (lambda r: r["sentences"].append(None), ["field 'sentences[1]'", "expected str, got NoneType"]),
    (lambda r: r.__setitem__("img_path", 1007129816), ["field 'img_path'", "expected str"]),
    (lambda r: r.__setitem__("img_path", "/etc/passwd"), ["field 'img_path'", "unsafe"]),
    (lambda r: r.__setitem__("img_path", "../../secret.jpg"), ["field 'img_path'", "unsafe"]),
])
def test_bad_values(sample_raw: Path, tmp_path: Path, change, parts: list[str]) -> None:
    records = _lines(sample_raw / xflickrco_file("de"))
    change(records[0])
    raw_error(read_xflickrco, write_jsonl(tmp_path / "test.jsonl", records), "line 1", *parts)


def test_record_not_an_object(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "test.jsonl", [{"sentences": ["x"], "img_path": "1.jpg"}, ["1.jpg"]])
    raw_error(read_xflickrco, path, "line 2", "expected an object")


def test_missing_files_say_where_to_get_them(tmp_path: Path) -> None:
    for read, path in [(read_xflickrco, tmp_path / xflickrco_file("ja")),
                       (read_flickr30k, tmp_path / FLICKR30K_FILES["val"])]:
        with pytest.raises(RawFileMissing) as info:
            read(path)
        assert str(path) in str(info.value)
        assert "github.com/e-bug/iglue" in str(info.value)


def test_a_language_without_its_file_fails_alone(tmp_path: Path) -> None:
    failed = build_xflickrco(tmp_path, ["tr"])["tr"]
    assert isinstance(failed, RawFileMissing) and xflickrco_file("tr") in str(failed)


# --- builders: exact output on hand-made input ------------------------------------------------------------

@pytest.fixture
def hand_made(tmp_path: Path) -> Path:
    write_jsonl(tmp_path / xflickrco_file("de"), [
        {"sentences": ["Ein Hund  rennt.\n"], "id": "101", "img_path": "101.jpg"},
        {"sentences": ["  "], "id": "102", "img_path": "102.jpg"},
        {"sentences": ["Zwei Kinder spielen."], "id": 42, "img_path": "COCO_val2014_000000000042.jpg"},
        {"sentences": ["Ein Hund spielt."], "id": "101", "img_path": "101.jpg"},
    ])
    write_jsonl(tmp_path / xflickrco_file("zh"), [
        {"sentences": ["一只狗在草地上奔跑"], "id": "101", "img_path": "101.jpg"},
    ])
    return tmp_path


def test_xflickrco_exact_output(hand_made: Path) -> None:
    parts = build_xflickrco(hand_made, ["de", "zh"])
    assert list(parts) == ["de", "zh"]
    de = parts["de"]
    assert de.records.to_dict(orient="records") == [
        {"context": "German", "label": "", "image_id": "101.jpg", "text_label": "de", "split": "test"},
        {"context": "German", "label": "", "image_id": "COCO_val2014_000000000042.jpg", "text_label": "de",
         "split": "test"},
    ]
    reference = de.references["test"]
    assert list(de.references) == ["test"]
    assert reference["images"] == [{"id": "101.jpg", "file_name": "101.jpg"},
                                   {"id": "COCO_val2014_000000000042.jpg",
                                    "file_name": "COCO_val2014_000000000042.jpg"}]
    assert reference["annotations"] == [
        {"id": 1, "image_id": "101.jpg", "caption": "Ein Hund rennt."},
        {"id": 2, "image_id": "101.jpg", "caption": "Ein Hund spielt."},
        {"id": 3, "image_id": "COCO_val2014_000000000042.jpg", "caption": "Zwei Kinder spielen."},
    ]
    assert de.skipped == {"blank caption": 1, "image without captions": 1, "repeated image (captions merged)": 1}
    zh = parts["zh"]
    assert zh.records.to_dict(orient="records") == [
        {"context": "Chinese", "label": "", "image_id": "101.jpg", "text_label": "zh", "split": "test"}]
    assert zh.references["test"]["annotations"] == [{"id": 1, "image_id": "101.jpg", "caption": "一只 狗 在 草地 上 奔跑"}]
    assert zh.skipped == {"blank caption": 0, "image without captions": 0, "repeated image (captions merged)": 0}


def test_only_requested_languages_are_read(hand_made: Path) -> None:
    assert list(build_xflickrco(hand_made, ["zh"])) == ["zh"]  # no other file is needed
    assert build_xflickrco(hand_made, []) == {}
    with pytest.raises(ValueError, match="'fr'"):
        build_xflickrco(hand_made, ["fr"])


def test_flickr30k_val_exact_output(tmp_path: Path) -> None:
    write_jsonl(tmp_path / FLICKR30K_FILES["val"], [
        {"sentences": ["Two dogs play.", "Dogs  in grass ", ""], "id": "11", "img_path": "11.jpg"},
        {"sentences": ["A man sleeps."], "id": "12", "img_path": "12.jpg"},
    ])
    part = build_flickr30k(tmp_path, ["en"])["en"]
    assert part.records.to_dict(orient="records") == [
        {"context": "English", "label": "", "image_id": "11.jpg", "text_label": "en", "split": "val"},
        {"context": "English", "label": "", "image_id": "12.jpg", "text_label": "en", "split": "val"},
    ]
    assert [(a["image_id"], a["caption"]) for a in part.references["val"]["annotations"]] == [
        ("11.jpg", "Two dogs play."), ("11.jpg", "Dogs in grass"), ("12.jpg", "A man sleeps.")]
    assert part.skipped["blank caption"] == 1
    with pytest.raises(ValueError):
        build_flickr30k(tmp_path, ["de"])


def test_flickr30k_train_records_exact_output(tmp_path: Path) -> None:
    write_jsonl(tmp_path / FLICKR30K_FILES["train"], [
        {"sentences": ["Two dogs play. ", "  "], "id": "11", "img_path": "11.jpg"},
        {"sentences": ["A man\nsleeps."], "id": "12", "img_path": "12.jpg"},
    ])
    result = flickr30k_train_records(tmp_path, seed=7)
    contexts = choose(CAPTION_INSTRUCTIONS, 2, 7)
    assert result.frame.to_dict(orient="records") == [
        {"context": contexts[0], "label": "Two dogs play.", "image_id": "11.jpg"},
        {"context": contexts[1], "label": "A man sleeps.", "image_id": "12.jpg"},
    ]
    assert result.skipped == {"blank caption": 1}


def test_flickr30k_train_records_on_the_sample(sample_raw: Path) -> None:
    result = flickr30k_train_records(sample_raw, seed=0)
    assert len(result.frame) == FLICKR30K_COUNTS["train"] * CAPTIONS_PER_FLICKR30K_IMAGE
    assert set(result.frame["context"]) <= set(CAPTION_INSTRUCTIONS)
    assert all(FLICKR30K.image_path(sample_raw, i).is_file() for i in result.frame["image_id"])
    assert flickr30k_train_records(sample_raw, seed=0).frame.equals(result.frame)


# --- the sample, end to end -------------------------------------------------------------------------------

def test_benchmarks_declared() -> None:
    assert (BENCHMARK.name, BENCHMARK.languages) == ("xflickrco", ("de", "en", "es", "id", "ja", "ru", "tr", "zh"))
    assert (FLICKR30K.name, FLICKR30K.languages) == ("flickr30k", ("en",))
    assert BENCHMARK.image_path(Path("/raw"), "COCO_val2014_000000000042.jpg") == \
        Path("/raw/iglue/xFlickrCO/images/COCO_val2014_000000000042.jpg")
    assert FLICKR30K.image_path(Path("/raw"), "11.jpg") == Path("/raw/iglue/flickr30k/images/11.jpg")
    assert [language_name(c) for c in XFLICKRCO_LANGUAGES] == [
        "German", "English", "Spanish", "Indonesian", "Japanese", "Russian", "Turkish", "Chinese"]


@pytest.mark.parametrize("benchmark", [BENCHMARK, FLICKR30K], ids=lambda b: b.name)
def test_sample_records_and_images(sample_raw: Path, benchmark) -> None:
    parts = benchmark.build(sample_raw, benchmark.languages)
    assert list(parts) == list(benchmark.languages)
    for language, part in parts.items():
        assert list(part.records.columns) == [*EVAL_FIELDS, "split"]
        assert schema_problems(part.records, EVAL_FIELDS, allow_empty=["label"]) == {}
        assert (part.records["text_label"] == language).all()
        assert sum(part.skipped.values()) == 0
        for image_id in part.records["image_id"]:
            assert benchmark.image_path(sample_raw, image_id).is_file()


@pytest.mark.parametrize("benchmark, language", [(BENCHMARK, "ja"), (BENCHMARK, "en"), (FLICKR30K, "en")])
def test_references_load_in_pycocotools(sample_raw: Path, tmp_path: Path, benchmark, language: str) -> None:
    part = benchmark.build(sample_raw, [language])[language]
    (split, reference), = part.references.items()
    path = write_json(tmp_path / f"{benchmark.name}_{language}_{split}.json", reference)
    coco = _quiet(COCO, str(path))
    image_ids = part.records["image_id"].tolist()
    assert sorted(coco.getImgIds()) == sorted(image_ids)
    predictions = [{"image_id": i, "caption": "a dog runs"} for i in image_ids]
    result = _quiet(coco.loadRes, predictions)
    assert sorted(result.getImgIds()) == sorted(image_ids)
    assert reference_problems(reference) == []
    if language == "ja":  # Japanese references are words separated by spaces
        assert all(" " in a["caption"] for a in reference["annotations"])


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_is_deterministic(tmp_path: Path, sample_raw: Path) -> None:
    write_xflickrco(tmp_path / "a", seed=0)
    write_xflickrco(tmp_path / "b", seed=1)
    again = _files(tmp_path / "a")
    assert again == _files(sample_raw)
    assert again != _files(tmp_path / "b")
    jpegs = [name for name in again if name.endswith(".jpg")]
    assert len(jpegs) == sum(FLICKR30K_COUNTS.values()) + XFLICKRCO_IMAGES
    assert all(again[name][:3] == b"\xff\xd8\xff" for name in jpegs)

