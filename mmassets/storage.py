"""Where published files live: a local folder or an object store (``s3://bucket/prefix``, ``gs://…``),
through one code path (universal-pathlib over fsspec), and how a file is published there so that no
reader ever sees part of it.

- A local file is written under a temporary name beside it and renamed into place
  (``files.atomic_path``).
- An object is written whole under a temporary key beside it (``.<name>.<pid>@<machine>.<random>.tmp``,
  the names ``files.OWNED_TEMP`` knows), then copied to its key by the store (a copy appears whole or
  not at all) and the temporary key deleted. An upload that fails leaves the key as it was.

Credentials and endpoints are the store's own settings: for S3, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` (an S3-compatible server); for GCS, gcsfs's. Nothing
here imports dagster.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Union

from mmassets.files import atomic_path, owned_prefix

if TYPE_CHECKING:
    from upath import UPath

Location = Union[Path, "UPath"]
"""A local path or an object store's UPath (universal-pathlib is imported only for a URL)."""
REMOTE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "memory")


def is_url(value: str | Path) -> bool:
    """Whether ``value`` names an object store (``s3://…``) rather than a local path."""
    scheme, sep, _ = str(value).partition("://")
    return bool(sep) and scheme.lower() in REMOTE_SCHEMES


def location(value: str | Path) -> Location:
    """A local path (made absolute) or, for an object store URL, its ``UPath``. A URL of a scheme
    that is not an object store is a ValueError naming it."""
    text = str(value)
    if "://" not in text:
        return Path(text).absolute()
    if not is_url(text):
        raise ValueError(f"{text!r}: not a folder or an object store URL (expected a path, or one of "
                         f"{', '.join(s + '://' for s in REMOTE_SCHEMES if s != 'memory')})")
    from upath import UPath

    return UPath(text)


def is_remote(path: Location) -> bool:
    return not isinstance(path, Path)  # a UPath of an object store is not a pathlib.Path


def at(path: str | Location) -> Location:
    """A path given to a writer or reader: a string names a local path; a Path or an object store's
    UPath is taken as it is (unlike ``location``, nothing is resolved)."""
    return Path(path) if isinstance(path, str) else path


@contextlib.contextmanager
def publishing(path: Location) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content into; it is published when the block ends
    without an exception, and ``path`` is left as it was when the block raises."""
    if not is_remote(path):
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as out:
            yield out
        return
    _clean_once(path.parent)
    temporary = path.parent / f".{path.name}.{owned_prefix('')}{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("wb") as out:
            yield out
        temporary.fs.copy(temporary.path, path.path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.fs.rm(temporary.path)


LEFTOVER_AGE_S = 24 * 3600
"""A temporary key of another machine older than this is a leftover (no upload takes a day)."""
_CLEANED: set[str] = set()


def remove_leftovers(folder: Location, now: float | None = None) -> list[str]:
    """Delete the temporary keys under ``folder`` (an object store's UPath) that uploads of dead
    processes left (a publisher killed mid-upload); return them. As on disk (``files.remove_leftovers``)
    a key names the process and machine that made it: one of this machine whose process is gone is a
    leftover; one of another machine is, once it is older than ``LEFTOVER_AGE_S``."""
    import time

    from mmassets.files import MACHINE, OWNED_TEMP, _running

    now = time.time() if now is None else now
    removed = []
    try:
        entries = folder.fs.ls(folder.path, detail=True, refresh=True)
    except FileNotFoundError:
        return removed
    for entry in entries:
        match = OWNED_TEMP.fullmatch(entry["name"].rsplit("/", 1)[-1])
        if match is None or entry.get("type") == "directory":
            continue
        if match["machine"] == MACHINE:
            stale = not _running(int(match["pid"]))
        else:
            modified = entry.get("LastModified") or entry.get("mtime") or entry.get("updated")
            stale = modified is not None and now - _timestamp(modified) > LEFTOVER_AGE_S
        if stale:
            with contextlib.suppress(FileNotFoundError):
                folder.fs.rm(entry["name"])
            removed.append(entry["name"])
    return removed


def _timestamp(value) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _clean_once(folder: Location) -> None:
    """``remove_leftovers`` under ``folder`` the first time this process publishes there."""
    key = str(folder)
    if key not in _CLEANED:
        _CLEANED.add(key)
        remove_leftovers(folder)


def publish_bytes(path: Location, data: bytes) -> None:
    with publishing(path) as out:
        out.write(data)


def read_bytes(path: Location) -> bytes:
    with path.open("rb") as source:
        return source.read()


def write_parquet(frame, path: Location) -> None:
    """``frame`` as Parquet at ``path``, published whole (the same bytes locally and remotely)."""
    with publishing(path) as out:
        frame.to_parquet(out, index=False)


def read_parquet(path: Location, columns: list[str] | None = None):
    """The frame stored at ``path`` (from an object store in ranged reads, as Parquet's footer directs)."""
    import pandas as pd

    if not is_remote(path):
        return pd.read_parquet(path, columns=columns)
    with path.open("rb") as source:
        return pd.read_parquet(source, columns=columns)


def staging_dir(target: Location) -> Path:
    """A new local folder to build ``target``'s content in: beside it on disk (so that it can be
    renamed into place), in the system's temporary folder for an object store."""
    import tempfile

    from mmassets.files import temp_dir

    if is_remote(target):  # named as its maker's: a killed builder's is removed by the next one
        return temp_dir(tempfile.gettempdir(), target.name)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return temp_dir(target.parent, target.name)  # a dead builder's is removed by the next one


def publish_folder(staging: Path, target: Location) -> None:
    """The finished local folder ``staging`` as ``target``: renamed into place on disk (at once), or on
    an object store each file published whole (``publishing``) and then the keys under ``target`` that
    the new content lacks deleted. An object store has no folders: while this runs, a reader of
    ``target`` sees whole files, old and new. The caller removes ``staging`` afterwards."""
    from mmassets.files import move_dir_into_place

    if not is_remote(target):
        move_dir_into_place(staging, Path(target), lambda _: False)
        return
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    names = {p.relative_to(staging).as_posix() for p in files}
    for path in files:
        publish_bytes(target.joinpath(*path.relative_to(staging).parts), path.read_bytes())
    if target.exists():
        for key in target.fs.find(target.path):
            if key[len(target.path):].lstrip("/") not in names:
                target.fs.rm(key)
