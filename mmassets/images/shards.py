"""Sharded, resumable downloading: the status table of a shard and what a rerun fetches.

A shard is a run of consecutive sample positions (``shard_size`` URLs, default 10,000). Its status
table has one row per URL — ``index, url, status, http_status, error, bytes, sha256, width, height,
attempts`` — and is the shard's record of what happened. A rerun fetches exactly:

- URLs never tried, and URLs that failed transiently (timeouts, connection errors, 429, 5xx);
- URLs that succeeded but whose file is gone or no longer matches its sha256 (checked cheaply by
  size first);
- URLs refused by a setting (``refused``: a loopback/private address while ``allow_private`` is off)
  once the setting allows them — also the rows of tables written before ``refused`` was a status
  of its own, which recorded these refusals as ``permanent`` (``refused_by_setting``);
- URLs that failed permanently (404, not an image, not http) only when asked (``retry_permanent``).

A download whose URLs all failed is not a success with an empty folder: ``nothing_downloaded``
says why in one line, with the failures counted by kind.

This is what img2dataset's incremental mode cannot do: it re-downloads whole shards, or nothing.

A download may be cut into slices (``slice_keys``): slice ``k`` of ``K`` owns the shards whose
number is ``k`` modulo ``K`` (``in_slice``), so that K workers share one download without
coordinating beyond the shard files each of them writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from mmassets.images.download import (ALLOW_PRIVATE_SETTING, OK, PERMANENT, PRIVATE_ADDRESS, REFUSED, TRANSIENT, Job,
                                      Outcome)

STATUS_COLUMNS = ("index", "url", "status", "http_status", "error", "bytes", "sha256", "width", "height", "attempts")
DEFAULT_SHARD_SIZE = 10_000


def shard_ranges(n: int, shard_size: int = DEFAULT_SHARD_SIZE) -> list[tuple[str, int, int]]:
    """``(shard key, start, stop)`` for ``n`` URLs; keys are zero-padded so they sort."""
    if shard_size < 1:
        raise ValueError("shard_size must be >= 1")
    return [(f"{start // shard_size:05d}", start, min(start + shard_size, n)) for start in range(0, n, shard_size)]


def slice_keys(count: int) -> list[str]:
    """The keys of ``count`` slices, ``0-of-4`` … ``3-of-4`` (zero-padded so that they sort)."""
    if count < 1:
        raise ValueError("a download has at least one slice")
    width = len(str(count - 1))
    return [f"{k:0{width}d}-of-{count}" for k in range(count)]


def in_slice(shard_key: str, slice_key: str | None) -> bool:
    """Whether the shard ``shard_key`` belongs to the slice ``slice_key`` (None: the whole download)."""
    if slice_key is None:
        return True
    k, _, count = slice_key.partition("-of-")
    return int(shard_key) % int(count) == int(k)


def empty_status() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in STATUS_COLUMNS})


def _file_intact(path: Path, sha256: str | None) -> bool:
    if not path.is_file():
        return False
    if not sha256:
        return True
    return hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def adopt_existing(urls: Sequence[str], indices: Sequence[int], path_of: Callable[[int], Path],
                   previous: pd.DataFrame | None) -> list[Outcome]:
    """Outcomes for the images already on disk that no status row knows of — a download killed
    before its shard's table was written, or images the user fetched before (mBLIP's released
    names): each becomes a success (``attempts`` 0, sha256 and size from the file), not a refetch."""
    from PIL import Image

    known = set() if previous is None or not len(previous) else {int(i) for i in previous["index"]}
    adopted = []
    for index, url in zip(indices, urls):
        path = path_of(index)
        if int(index) in known or not path.is_file():
            continue
        data = path.read_bytes()
        try:
            with Image.open(path) as image:
                width, height = image.size
        except (OSError, Image.DecompressionBombError):
            continue  # not an image: fetched again
        adopted.append(Outcome(int(index), url, OK, None, None, len(data), hashlib.sha256(data).hexdigest(),
                               width, height, 0))
    return adopted


def refused_by_setting(status: str | None, error: str | None) -> bool:
    """Whether a status row is a refusal that ``allow_private`` lifts: status ``refused``, or — in a
    table written before that status existed — ``permanent`` with the private-address refusal's words."""
    if status == REFUSED:
        return True
    return status == PERMANENT and isinstance(error, str) and error.startswith("refused: ") and PRIVATE_ADDRESS in error


def upgrade(status: pd.DataFrame | None) -> pd.DataFrame | None:
    """A status table as this version writes it: the private-address refusals of an older table
    (``permanent`` then) become ``refused``."""
    if status is None or not len(status):
        return status
    old = [refused_by_setting(s, e) and s != REFUSED for s, e in zip(status["status"], status["error"])]
    if not any(old):
        return status
    status = status.copy()
    status.loc[old, "status"] = REFUSED
    return status


def jobs_to_run(urls: Sequence[str], indices: Sequence[int], path_of: Callable[[int], Path],
                previous: pd.DataFrame | None, *, retry_permanent: bool = False, allow_private: bool = False,
                verify: bool = True) -> list[Job]:
    """The jobs a (re)run of a shard must do, given the shard's previous status table.
    ``allow_private``: whether the downloader now fetches loopback/private addresses (then the URLs
    refused for that are fetched)."""
    done: dict[int, tuple[str, str | None, str]] = {}
    previous = upgrade(previous)
    if previous is not None and len(previous):
        done = {int(i): (s, h, u) for i, s, h, u in zip(previous["index"], previous["status"], previous["sha256"],
                                                        previous["url"])}
    jobs = []
    for index, url in zip(indices, urls):
        path = path_of(index)
        status, sha256, old_url = done.get(int(index), (None, None, None))
        if old_url is not None and old_url != url:
            status = None  # the sample changed under this position: fetch the new URL
        if status == OK and (not verify or _file_intact(path, sha256)):
            continue
        if status == PERMANENT and not retry_permanent:
            continue
        if status == REFUSED and not (allow_private or retry_permanent):
            continue
        jobs.append(Job(int(index), url, path))
    return jobs


def merge_status(previous: pd.DataFrame | None, outcomes: Sequence[Outcome], indices: Sequence[int]) -> pd.DataFrame:
    """The shard's new status table: this run's outcomes over the previous rows, one row per index
    of ``indices`` that has ever been tried, in index order."""
    rows: dict[int, dict] = {}
    previous = upgrade(previous)
    if previous is not None:
        rows.update({int(r["index"]): r for r in previous.to_dict(orient="records")})
    rows.update({o.index: o.as_row() for o in outcomes})
    wanted = [int(i) for i in indices if int(i) in rows]
    if not wanted:
        return empty_status()
    frame = pd.DataFrame([rows[i] for i in wanted], columns=list(STATUS_COLUMNS))
    return frame.astype({"index": "int64", "bytes": "int64", "attempts": "int64", "http_status": "Int64", "width": "Int64",
                         "height": "Int64"})


def summary(status: pd.DataFrame) -> dict:
    """Counts for metadata: URLs, successes, success rate, failures by status and by kind, bytes."""
    total = len(status)
    status = upgrade(status)
    ok = int((status["status"] == OK).sum()) if total else 0
    errors = status.loc[status["status"] != OK, "error"].fillna("").map(_error_kind).value_counts()
    return {"urls": total, "ok": ok, "success rate": round(ok / total, 4) if total else 0.0,
            "failed transiently": int((status["status"] == TRANSIENT).sum()) if total else 0,
            "failed permanently": int((status["status"] == PERMANENT).sum()) if total else 0,
            "refused": int((status["status"] == REFUSED).sum()) if total else 0,
            "errors by kind": {str(k): int(v) for k, v in errors.items()},
            "bytes": int(status["bytes"].sum()) if total else 0}


NETWORK_KINDS = frozenset({"connection error", "timeout", "cannot resolve host"})
"""Error kinds that say the hosts could not be reached (no network, or the hosts are down)."""


class NothingDownloaded(RuntimeError):
    """A download with URLs that fetched none of them: nothing is to be built from its empty folder."""


def nothing_downloaded(status: pd.DataFrame, tables: str) -> str | None:
    """One line saying why no URL of a non-empty download succeeded — the failures counted by kind,
    what to do about each kind, where the status tables (``tables``) are — or None when some did
    (or there were no URLs)."""
    counts = summary(status)
    if not counts["urls"] or counts["ok"]:
        return None
    kinds = sorted(counts["errors by kind"].items(), key=lambda item: (-item[1], item[0]))
    hints = []
    if NETWORK_KINDS & set(counts["errors by kind"]) or counts["failed transiently"]:
        hints.append("is this machine offline, or are the image hosts down? A rerun retries the transient failures")
    if counts["refused"]:
        hints.append(f"set {ALLOW_PRIVATE_SETTING}=1 to fetch from loopback/private addresses (a rerun then fetches "
                     "the URLs refused)")
    if counts["failed permanently"]:
        hints.append("URLs that failed permanently (HTTP 4xx, not an image) are fetched again only with "
                     "`retry_permanent: true` in the asset's config")
    return (f"0 of {counts['urls']:,} URLs downloaded ({', '.join(f'{kind}: {n:,}' for kind, n in kinds)}): "
            f"{'; '.join(hints)}; each URL's error is in the status tables under {tables}")


def _error_kind(error: str) -> str:
    """``HTTP 404``, ``timeout``, ``not an image``, ``private address``, ``refused``, ... — the first
    words of an error."""
    if error.startswith("refused: ") and PRIVATE_ADDRESS in error:
        return "private address"
    if error.startswith("cannot resolve "):
        return "cannot resolve host"
    for prefix in ("HTTP ", "timeout", "connection error", "not an image", "refused", "more than", "response"):
        if error.startswith(prefix):
            return error.split(" (")[0] if prefix == "HTTP " else prefix
    return error.split(":")[0][:40] or "unknown"
