"""One safe way to open an image file that a raw root or an image root holds: the files are the
user's or a publisher's, so a name like ``x.jpg`` may be a FIFO (whose ``open`` blocks for ever), a
device (``/dev/zero``: endless bytes), a folder, a symlink to ``/etc/passwd``, or a decompression
bomb (a few kB of PNG that decode to gigabytes).

``safe_file`` refuses, before anything is opened for reading: a NUL byte in the path, a file whose
real path (symlinks followed) is outside the trusted roots (when the caller gives them), and anything
that is not a regular file (``os.stat``); the file is then opened with ``O_NONBLOCK`` (a FIFO put in
its place in between cannot block) and checked again on the open descriptor. ``open_image`` adds
Pillow on top, with a bound on pixels (Pillow's decompression-bomb limit, or a smaller
``max_pixels``), checked from the header before any pixel is decoded; ``image_size`` reads just the
header; ``read_image_bytes`` reads the bytes. Every refusal is an ``UnsafeImageFile`` (a
``ValueError``) whose message starts with the file's path and says why. ``within`` is a list of
real paths (``DataFolders.trusted_roots()``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import warnings
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError


class UnsafeImageFile(ValueError):
    """An image file that was refused or could not be read; the message names the file."""

    def __init__(self, file: str | os.PathLike, reason: str, kind: str = "unreadable"):
        super().__init__(f"{os.fspath(file)}: {reason}")
        self.file = os.fspath(file)
        self.reason = reason
        self.kind = kind
        """``unsafe`` (refused unopened: a NUL byte, a symlink out of the roots), ``special`` (refused
        unopened: a FIFO, a device, a folder), ``missing``, ``empty``, ``bomb`` (over the pixel limit)
        or ``unreadable``."""


def describe_mode(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def escapes(file: str | os.PathLike, roots: Sequence[str]) -> bool:
    """Whether ``file``, its symlinks followed, lies outside every one of ``roots`` (real paths, as
    ``DataFolders.trusted_roots`` gives them)."""
    real = os.path.realpath(file)
    return not any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in map(os.fspath, roots))


def refusal(file: str | os.PathLike, within: Sequence[str] | None = None) -> UnsafeImageFile | None:
    """Why ``file`` must not be opened (without opening it), or None: a NUL byte, a real path out of
    ``within`` (when given), no such file, or not a regular file."""
    path = os.fspath(file)
    if "\0" in path:
        return UnsafeImageFile(path.replace("\0", "\\0"), "NUL byte in the path", "unsafe")
    if within is not None and escapes(path, within):
        return UnsafeImageFile(path, f"a symlink to {os.path.realpath(path)}, outside the image roots; refused "
                                     "unopened", "unsafe")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return UnsafeImageFile(path, "no such file", "missing")
    except OSError as exc:
        return UnsafeImageFile(path, f"cannot stat ({exc.strerror})")
    if not stat.S_ISREG(mode):
        return UnsafeImageFile(path, f"{describe_mode(mode)}, not a regular file; refused unopened", "special")
    return None


@contextlib.contextmanager
def safe_file(file: str | os.PathLike, within: Sequence[str] | None = None) -> Iterator[BinaryIO]:
    """``file`` open for reading in binary, once ``refusal`` finds nothing against it (else its
    ``UnsafeImageFile`` is raised); opened with ``O_NONBLOCK`` and checked again on the descriptor."""
    problem = refusal(file, within)
    if problem is not None:
        raise problem
    path = os.fspath(file)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnsafeImageFile(path, f"cannot open ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # replaced between the stat and the open
            raise UnsafeImageFile(path, f"{describe_mode(mode)}, not a regular file", "special")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


@contextlib.contextmanager
def open_image(file: str | os.PathLike, within: Sequence[str] | None = None,
               max_pixels: int | None = None) -> Iterator[Image.Image]:
    """The image in ``file`` (header read, pixels not yet decoded), opened by ``safe_file``; more
    pixels than ``max_pixels`` (default: Pillow's decompression-bomb limit) are refused from the header.
    Pillow's errors opening it become ``UnsafeImageFile`` naming the file; errors while the caller
    decodes (``load``) are the caller's to catch."""
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
    path = os.fspath(file)
    with safe_file(path, within) as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise UnsafeImageFile(path, "empty file", "empty")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                image = Image.open(handle)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise UnsafeImageFile(path, f"over the decompression-bomb limit ({exc})", "bomb") from None
            except UnidentifiedImageError:
                raise UnsafeImageFile(path, "not an image Pillow can identify") from None
            except (OSError, ValueError, SyntaxError, EOFError) as exc:
                raise UnsafeImageFile(path, f"{type(exc).__name__}: {exc}") from None
        with image:
            width, height = image.size
            if limit is not None and width * height > limit:
                raise UnsafeImageFile(path, f"{width}x{height} is over the {limit:,}-pixel limit "
                                            "(a decompression bomb?)", "bomb")
            yield image


def image_size(file: str | os.PathLike, within: Sequence[str] | None = None,
               max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) of the image in ``file`` from its header (``open_image``)."""
    with open_image(file, within, max_pixels) as image:
        return image.size


def read_image_bytes(file: str | os.PathLike, within: Sequence[str] | None = None) -> bytes:
    """The bytes of ``file``, opened by ``safe_file`` (a FIFO or a device is refused, never read)."""
    try:
        with safe_file(file, within) as handle:
            return handle.read()
    except UnsafeImageFile:
        raise
    except OSError as exc:
        raise UnsafeImageFile(file, f"cannot read ({exc.strerror or exc})") from None

