"""Image checks on real files: each status (ok, missing, mismatch, repaired, truncated, unreadable)
with Pillow's decompression-bomb limit on, repairs that are real JPEGs, and resumable work in
chunks and processes (a rerun opens only new or changed files)."""

import os

import pytest
from PIL import Image

from mmassets.images.verify import Wanted, check_file, check_images, repaired_name


def _noise_jpeg(path, size=(120, 90)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.effect_noise(size, 60).convert("RGB").save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "images"
    _noise_jpeg(folder / "ok.jpg")
    Image.new("P", (20, 10), 3).save(folder / "gif.jpg", "GIF")
    Image.new("RGBA", (20, 10), (255, 0, 0, 0)).save(folder / "png.jpg", "PNG")
    Image.new("RGB", (20, 10), (0, 0, 255)).save(folder / "webp.jpg", "WEBP")
    body = _noise_jpeg(folder / "whole.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(body[: len(body) // 2])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_bytes(b"<html>not found</html>")
    Image.new("RGB", (30, 20)).save(folder / "real.png", "PNG")
    return folder


@pytest.mark.parametrize("name, level, status, kind", [
    ("ok.jpg", "decode", "ok", "JPEG"),
    ("real.png", "decode", "ok", "PNG"),
    ("gif.jpg", "decode", "mismatch", "GIF"),
    ("png.jpg", "format", "mismatch", "PNG"),
    ("webp.jpg", "decode", "mismatch", "WEBP"),
    ("truncated.jpg", "decode", "truncated", ""),
    ("truncated.jpg", "format", "ok", "JPEG"),  # only decoding finds a truncated file
    ("empty.jpg", "exists", "unreadable", ""),
    ("text.jpg", "format", "unreadable", ""),
    ("absent.jpg", "decode", "missing", ""),
    ("text.jpg", "exists", "ok", ""),  # existence only: the file is not opened
])
def test_each_status(files, name, level, status, kind):
    got_status, got_kind, detail = check_file(str(files / name), level)
    assert (got_status, got_kind) == (status, kind), detail


def test_a_mismatched_image_is_repaired_into_a_real_jpeg(files, tmp_path):
    target = tmp_path / "repaired" / "png.jpg"
    status, kind, detail = check_file(str(files / "png.jpg"), "format", str(target))
    assert (status, kind) == ("repaired", "PNG") and "converted to JPEG" in detail
    with Image.open(target) as image:
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (20, 10)
        assert image.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=2)  # transparency on white
    assert repaired_name("ocr_vqa/images/x.png") == "ocr_vqa/images/x.jpg"
    assert repaired_name("ocr_vqa/images/x.JPG") == "ocr_vqa/images/x.JPG"


def test_the_decompression_bomb_limit_stays_on(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    Image.new("L", (3000, 3000)).save(path, "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    status, _, detail = check_file(str(path), "format")
    assert status == "unreadable" and "decompression-bomb" in detail


def _wanted(files, tmp_path):
    names = sorted(p.name for p in files.iterdir()) + ["absent.jpg"]
    return [Wanted(str(files / n), str(tmp_path / "repaired" / n)) for n in names]


@pytest.mark.parametrize("workers", [1, 2])
def test_check_images_in_chunks_then_a_rerun_opens_only_what_changed(files, tmp_path, workers):
    wanted = _wanted(files, tmp_path)
    cache, lines = tmp_path / "cache", []
    first, counts = check_images(wanted, cache_dir=cache, repair=True, workers=workers, chunk=3, log=lines.append)
    assert first["file"].tolist() == [w.file for w in wanted]
    assert first["status"].value_counts().to_dict() == {"ok": 3, "repaired": 3, "unreadable": 2, "truncated": 1,
                                                        "missing": 1}
    assert counts == {"checked": 9, "from cache": 0, "missing": 1}
    again, counts = check_images(wanted, cache_dir=cache, repair=True, workers=workers, chunk=3)
    assert counts == {"checked": 0, "from cache": 9, "missing": 1}
    assert again.equals(first)
    # a file replaced (new size and mtime) and a repaired copy deleted: only those two are opened again
    _noise_jpeg(files / "truncated.jpg")
    os.utime(files / "truncated.jpg", ns=(1, 1))
    (tmp_path / "repaired" / "gif.jpg").unlink()
    third, counts = check_images(wanted, cache_dir=cache, repair=True, workers=workers, chunk=3)
    assert counts == {"checked": 2, "from cache": 7, "missing": 1}
    assert third.set_index("file").at[str(files / "truncated.jpg"), "status"] == "ok"
    assert (tmp_path / "repaired" / "gif.jpg").is_file()


def test_an_interrupted_check_resumes_from_its_finished_chunks(files, tmp_path, monkeypatch):
    from mmassets.images import verify

    wanted, cache = _wanted(files, tmp_path), tmp_path / "cache"
    calls = []
    real = verify._check_chunk

    def dies_on_the_third(job):
        calls.append(len(job[0]))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(verify, "_check_chunk", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        check_images(wanted, cache_dir=cache, chunk=2)
    monkeypatch.setattr(verify, "_check_chunk", real)
    _, counts = check_images(wanted, cache_dir=cache, chunk=2)
    assert counts == {"checked": 5, "from cache": 4, "missing": 1}  # two chunks of two were kept


def test_an_unknown_level_is_refused(tmp_path):
    with pytest.raises(ValueError, match="exists, format, decode"):
        check_images([], level="deep", cache_dir=tmp_path)
