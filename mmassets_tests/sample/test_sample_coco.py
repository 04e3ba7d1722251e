"""Tests for the sample MSCOCO generator and ensure_sample_raw."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from PIL import Image

import pytest

from mmassets.sample import MARKER_NAME, SAMPLE_VERSION, SampleFolderRefused, ensure_sample_raw
from mmassets.sample.coco import CAPTIONS_PER_IMAGE, SPLIT_COUNTS, write_coco


def _load(raw: Path) -> dict:
    return json.loads((raw / "coco" / "dataset_coco.json").read_text(encoding="utf-8"))


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_schema_matches_karpathy_file(tmp_path: Path) -> None:
    write_coco(tmp_path, seed=0)
    data = _load(tmp_path)
    assert data["dataset"] == "coco"
    images = data["images"]
    assert Counter(img["split"] for img in images) == SPLIT_COUNTS
    sentids: list[int] = []
    cocoids = set()
    for imgid, img in enumerate(images):
        assert set(img) == {"filepath", "sentids", "filename", "imgid", "split", "sentences", "cocoid"}
        assert img["imgid"] == imgid
        assert img["filepath"] == ("train2014" if img["split"] == "train" else "val2014")
        assert img["filename"] == f"COCO_{img['filepath']}_{img['cocoid']:012d}.jpg"
        cocoids.add(img["cocoid"])
        assert len(img["sentences"]) == CAPTIONS_PER_IMAGE
        assert img["sentids"] == [s["sentid"] for s in img["sentences"]]
        for sent in img["sentences"]:
            assert set(sent) == {"tokens", "raw", "imgid", "sentid"}
            assert sent["imgid"] == imgid
            assert isinstance(sent["raw"], str) and sent["raw"].strip()
            assert sent["tokens"] == re.findall(r"[a-z0-9]+", sent["raw"].lower())
            assert 8 <= len(sent["tokens"]) <= 20
            sentids.append(sent["sentid"])
    assert len(cocoids) == len(images)
    assert len(sentids) == len(set(sentids)) == len(images) * CAPTIONS_PER_IMAGE


def test_captions_are_varied_and_quirky(tmp_path: Path) -> None:
    write_coco(tmp_path, seed=0)
    raws = [s["raw"] for img in _load(tmp_path)["images"] for s in img["sentences"]]
    assert len(raws) == 200
    assert len(set(raws)) >= 150
    assert any(r.endswith(" ") for r in raws)
    assert any(r[0].islower() for r in raws)
    assert any(not r.rstrip().endswith(".") for r in raws)


def test_every_image_is_a_jpeg_at_its_real_path(tmp_path: Path) -> None:
    write_coco(tmp_path, seed=0)
    for img in _load(tmp_path)["images"]:
        path = tmp_path / "coco" / img["filepath"] / img["filename"]
        assert path.is_file(), path
        with Image.open(path) as im:
            assert im.format == "JPEG"
            im.load()


def test_same_seed_is_byte_identical(tmp_path: Path) -> None:
    write_coco(tmp_path / "a", seed=0)
    write_coco(tmp_path / "b", seed=0)
    a, b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert len(a) == sum(SPLIT_COUNTS.values()) + 1
    assert a == b
    write_coco(tmp_path / "c", seed=1)
    assert _all_files(tmp_path / "c") != a


def test_ensure_sample_raw_is_idempotent_and_regenerates(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    assert ensure_sample_raw(raw) == raw
    marker = raw / MARKER_NAME
    assert json.loads(marker.read_text())["version"] == SAMPLE_VERSION
    mtime = marker.stat().st_mtime_ns
    first = _all_files(raw)

    assert ensure_sample_raw(raw) == raw
    assert marker.stat().st_mtime_ns == mtime

    marker.write_text(json.dumps({"generator": "mmassets.sample", "version": SAMPLE_VERSION - 1, "seed": 0}))
    (raw / "stray.txt").write_text("left over")
    ensure_sample_raw(raw)  # an older root of the generator's own is regenerated
    assert marker.is_file()
    assert not (raw / "stray.txt").exists()
    assert _all_files(raw) == first
    assert not list(tmp_path.glob(".tmp-sample-*"))

    ensure_sample_raw(raw, seed=3)
    assert json.loads(marker.read_text())["seed"] == 3


def _user_folder(root: Path) -> dict[str, bytes]:
    (root / "coco").mkdir(parents=True)
    (root / "coco" / "dataset_coco.json").write_text('{"images": []}')
    (root / "notes.txt").write_text("my own notes")
    return _all_files(root)


@pytest.mark.parametrize("marker", [None, "not json", '{"generator": "someone else", "version": 3, "seed": 0}'])
def test_a_folder_the_generator_did_not_make_is_refused_and_left_intact(tmp_path: Path, marker) -> None:
    raw = tmp_path / "mine"
    before = _user_folder(raw)
    if marker is not None:
        (raw / MARKER_NAME).write_text(marker)
        before = _all_files(raw)
    with pytest.raises(SampleFolderRefused, match=re.escape(str(raw)) + ".*is not empty.*--profile production"):
        ensure_sample_raw(raw)
    assert _all_files(raw) == before
    assert not list(tmp_path.glob(".tmp-sample-*"))


def test_a_file_or_link_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(SampleFolderRefused, match="is not a folder"):
        ensure_sample_raw(target)
    assert target.read_text() == "keep me"
    elsewhere = tmp_path / "elsewhere"
    _user_folder(elsewhere)
    link = tmp_path / "link"
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(SampleFolderRefused):
        ensure_sample_raw(link)
    assert link.is_symlink() and (elsewhere / "notes.txt").read_text() == "my own notes"


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    raw = tmp_path / "empty"
    raw.mkdir()
    ensure_sample_raw(raw)
    assert (raw / MARKER_NAME).is_file() and (raw / "coco" / "dataset_coco.json").is_file()
