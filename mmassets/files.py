"""File helpers shared by every layer: atomic writes and checksums."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
"""What a name that becomes part of a path (language code, partition key, benchmark or recipe
name) may be: letters, digits, ``_``, ``-`` and ``.``, not starting with a dot or dash."""


def safe_name(name: object, what: str) -> str:
    """``name`` if it is a plain name, safe as one path component; else a ValueError naming ``what``."""
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} {name!r} is not a plain name (letters, digits, '_', '-', '.'; "
                         "no '/', '..' or leading dot): it would become a path")
    return name


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, else delete it.

    Readers never see a half-written file: either the old file or the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def move_dir_into_place(staging: Path, target: Path, is_complete: Callable[[Path], bool]) -> None:
    """Atomically rename the finished folder ``staging`` to ``target``, coping with builders racing
    us: a ``target`` that ``is_complete`` (another builder finished first) is kept, anything else
    there is moved aside and deleted. The caller removes ``staging`` if it is still there."""
    for _ in range(5):
        try:
            os.rename(staging, target)
            return
        except OSError:
            if not target.exists():
                raise
        if is_complete(target):
            return
        discard(target)
    raise RuntimeError(f"could not move {staging} into {target}")


def discard(path: Path) -> None:
    """Move ``path`` out of the way (atomically) and delete it; a vanished path is fine."""
    trash = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    try:
        os.replace(path, trash / "old")
    except FileNotFoundError:
        pass
    finally:
        shutil.rmtree(trash, ignore_errors=True)
