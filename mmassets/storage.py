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


@contextlib.contextmanager
def publishing(path: Location) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content into; it is published when the block ends
    without an exception, and ``path`` is left as it was when the block raises."""
    if not is_remote(path):
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as out:
            yield out
        return
    temporary = path.parent / f".{path.name}.{owned_prefix('')}{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("wb") as out:
            yield out
        temporary.fs.copy(temporary.path, path.path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.fs.rm(temporary.path)


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


def read_parquet(path: Location):
    """The frame stored at ``path`` (from an object store in ranged reads, as Parquet's footer directs)."""
    import pandas as pd

    if not is_remote(path):
        return pd.read_parquet(path)
    with path.open("rb") as source:
        return pd.read_parquet(source)
