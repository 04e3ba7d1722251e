"""The one image opener (issue 30): a FIFO, a device or a folder named like an image is refused without
being opened for reading, a symlink out of the trusted roots is refused, a decompression bomb is
refused from its header, and every refusal names the file."""

from __future__ import annotations

import io
import os
import struct
import threading
import zlib
from pathlib import Path

import pytest
from PIL import Image

from mmassets.images.opener import UnsafeImageFile, image_size, open_image, read_image_bytes
from mmassets.images.verify import check_file

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")


def _bounded(call, timeout: float = 10.0, fifo: Path | None = None):
    """``call()``'s result or exception within ``timeout`` seconds; a call still blocked on ``fifo``
    is released by opening its write end, and the test fails saying it hung."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if fifo is not None:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # a reader is waiting, so this opens
            os.close(fd)
            thread.join(timeout)
        pytest.fail(f"hung for over {timeout} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb() -> bytes:
    """A PNG header of 30000x30000 pixels in a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "ok.png").write_bytes(_png())
    return folder


def test_a_regular_image_opens(root: Path) -> None:
    within = [os.path.realpath(root)]
    assert image_size(root / "ok.png", within=within) == (40, 30)
    assert read_image_bytes(root / "ok.png", within=within) == _png()
    with open_image(root / "ok.png") as image:
        image.load()
        assert image.getpixel((1, 1)) == (10, 20, 30)


@pytest.mark.parametrize("call", [image_size, read_image_bytes, lambda f: _enter(open_image(f))])
def test_a_fifo_named_like_an_image_is_refused_unopened(root: Path, call) -> None:
    fifo = root / "x.jpg"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeImageFile) as info:
        _bounded(lambda: call(fifo), fifo=fifo)
    assert str(info.value).startswith(f"{fifo}: a FIFO (named pipe), not a regular file")
    assert info.value.kind == "special" and info.value.file == str(fifo)


def _enter(manager):
    with manager as image:
        return image.size


def test_a_folder_and_a_device_are_refused(root: Path) -> None:
    (root / "dir.jpg").mkdir()
    with pytest.raises(UnsafeImageFile, match=r"dir\.jpg: a directory, not a regular file"):
        image_size(root / "dir.jpg")
    with pytest.raises(UnsafeImageFile, match=r"/dev/zero: a character device, not a regular file"):
        _bounded(lambda: read_image_bytes("/dev/zero"))
    link = root / "zero.jpg"
    link.symlink_to("/dev/zero")  # a link to a device, inside no trusted root check: still refused
    with pytest.raises(UnsafeImageFile, match="a character device"):
        _bounded(lambda: image_size(link))


def test_a_symlink_out_of_the_roots_is_refused_and_one_inside_is_followed(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(_png((7, 5)))
    (root / "out.png").symlink_to(outside)
    (root / "in.png").symlink_to(root / "ok.png")
    within = [os.path.realpath(root)]
    with pytest.raises(UnsafeImageFile, match=f"out.png: a symlink to {outside}, outside the image roots") as info:
        image_size(root / "out.png", within=within)
    assert info.value.kind == "unsafe"
    with pytest.raises(UnsafeImageFile, match="outside the image roots"):
        read_image_bytes(root / "out.png", within=within)
    assert image_size(root / "in.png", within=within) == (40, 30)
    assert image_size(root / "out.png") == (7, 5)  # no roots given: the caller trusts every path


def test_a_decompression_bomb_is_refused_from_its_header(root: Path) -> None:
    (root / "bomb.png").write_bytes(_bomb())
    with pytest.raises(UnsafeImageFile, match=r"bomb\.png: over the decompression-bomb limit") as info:
        image_size(root / "bomb.png")
    assert info.value.kind == "bomb"
    with pytest.raises(UnsafeImageFile, match=r"ok\.png: 40x30 is over the 1,000-pixel limit"):
        image_size(root / "ok.png", max_pixels=1_000)


def test_missing_empty_and_not_an_image_name_the_file(root: Path) -> None:
    (root / "empty.jpg").write_bytes(b"")
    (root / "page.jpg").write_bytes(b"<html>not found</html>")
    for name, words in (("gone.jpg", "no such file"), ("empty.jpg", "empty file"),
                        ("page.jpg", "not an image Pillow can identify")):
        with pytest.raises(UnsafeImageFile, match=f"{name}: {words}"):
            image_size(root / name)
    with pytest.raises(UnsafeImageFile, match="NUL byte in the path"):
        image_size(str(root / "a\0.jpg"))


def test_the_image_check_says_what_a_fifo_is_and_never_opens_it(root: Path) -> None:
    """The check of every family (``checks.images``, ConvLLaVA's ``images/<dataset>``) goes through
    the same opener: a FIFO is unreadable, said to be a FIFO, at every level."""
    fifo = root / "x.jpg"
    os.mkfifo(fifo)
    for level in ("exists", "format", "decode"):
        status, _, detail = _bounded(lambda: check_file(str(fifo), level), fifo=fifo)
        assert status == "unreadable" and "a FIFO (named pipe), not a regular file" in detail, (level, detail)
