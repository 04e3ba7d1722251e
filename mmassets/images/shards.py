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

Files are named by position (``{index:08d}.jpg``, ``pairs_000/00000001.jpg``), so a file on disk
says nothing of which URL it is the image of. Each shard therefore also records, beside the images
(``<image root>/.mmassets-downloads/<name>/shard-<key>.parquet``: path, url, sha256, bytes, width,
height), the files it downloaded; a file that no status row knows of is adopted only when that
record holds the URL now at its position and the file's sha256 (``adopt_existing``) — so a new data
folder over the same images fetches nothing again, while images of an earlier URL list (a replaced
pairs file, captions sampled with another seed) are fetched anew. A file with no record at all (your
own earlier download) is adopted only when asked (``adopt_unrecorded``), and counted so.

A download whose URLs all failed is not a success with an empty folder: ``nothing_downloaded``
says why in one line, with the failures counted by kind.

This is what img2dataset's incremental mode cannot do: it re-downloads whole shards, or nothing.

A download may be cut into slices (``slice_keys``): slice ``k`` of ``K`` owns the shards whose
number is ``k`` modulo ``K`` (``in_slice``), so that K workers share one download without
coordinating beyond the shard files each of them writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mmassets.files import atomic_path
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


RECORDS_FOLDER = ".mmassets-downloads"
"""The folder under an image root that records what mmassets downloaded into it:
``<image root>/.mmassets-downloads/<download name>/shard-<key>.parquet``, one row per file
(``RECORD_COLUMNS``), so that the record lives with the images (a new data folder finds it)."""
RECORD_COLUMNS = ("path", "url", "sha256", "bytes", "width", "height")


@dataclass(frozen=True)
class Record:
    """That the file at a path under the image root, with this sha256, is the download of ``url``."""

    url: str
    sha256: str
    bytes: int
    width: int | None
    height: int | None


class DownloadRecords:
    """The records of one download (``name``) under its image root ``root``, each shard's written
    atomically after the shard. Read lazily: a path is looked up in the record of the shard now
    being run (one file in memory at a time), and only when that has nothing of it in every record
    file (read once: the shard size changed since, or the file has no record at all)."""

    def __init__(self, root: Path, name: str):
        self.folder = Path(root) / RECORDS_FOLDER / name
        self._shard: tuple[str, dict[str, list[Record]]] | None = None
        self._all: dict[str, list[Record]] | None = None
        self.unreadable: list[str] = []
        """Record files that could not be read (their files are fetched again), each with why."""

    def of(self, path: str, shard: str | None = None) -> list[Record]:
        """What is recorded of the file at ``path`` (relative to the image root), first in the
        record of ``shard``."""
        if shard is not None:
            if self._shard is None or self._shard[0] != shard:
                self._shard = (shard, self._read([self.folder / f"shard-{shard}.parquet"], quiet=True))
            found = self._shard[1].get(path)
            if found:
                return found
        if self._all is None:
            self._all = self._read(sorted(self.folder.glob("shard-*.parquet")))
        return self._all.get(path, [])

    def _read(self, tables: list[Path], quiet: bool = False) -> dict[str, list[Record]]:
        by_path: dict[str, list[Record]] = {}
        for table in tables:
            if not table.is_file():
                continue
            try:
                frame = pd.read_parquet(table, columns=list(RECORD_COLUMNS))
            except Exception as exc:  # noqa: BLE001 (a damaged record only costs a refetch)
                if not quiet:
                    self.unreadable.append(f"{table}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            for path, url, sha256, size, width, height in zip(*(frame[c] for c in RECORD_COLUMNS)):
                if isinstance(path, str) and isinstance(url, str) and isinstance(sha256, str):
                    by_path.setdefault(path, []).append(Record(url, sha256, int(size), _int_or_none(width),
                                                               _int_or_none(height)))
        return by_path

    def write(self, shard: str, rows: pd.DataFrame) -> Path | None:
        """Replace the records of shard ``shard`` (atomically); nothing is created for a shard with
        no rows and no earlier record."""
        path = self.folder / f"shard-{shard}.parquet"
        if not len(rows) and not path.exists():
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            rows.to_parquet(tmp, index=False)
        return path


def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def shard_records(status: pd.DataFrame, names: Sequence[str], recorded: Collection[int]) -> pd.DataFrame:
    """The records a shard's status table gives (``RECORD_COLUMNS``, in index order): its successes
    that were downloaded (``attempts`` > 0) and those adopted this run on a record (``recorded``).
    Files adopted without a record (``adopt_unrecorded``) are not recorded: nothing says what URL they are."""
    if not len(status):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECORD_COLUMNS})
    keep = (status["status"] == OK) & ((status["attempts"] > 0) | status["index"].isin(list(recorded)))
    rows = status[keep & status["sha256"].notna()]
    frame = pd.DataFrame({"path": [names[int(i)] for i in rows["index"]], "url": rows["url"].tolist(),
                          "sha256": rows["sha256"].tolist(), "bytes": rows["bytes"].astype("int64").tolist(),
                          "width": rows["width"].tolist(), "height": rows["height"].tolist()})
    return frame.astype({"bytes": "int64", "width": "Int64", "height": "Int64"})


ADOPTED_RECORDED = "adopted: recorded download of the same URL"
ADOPTED_UNRECORDED = "adopted without a record (your own images)"
NOT_ADOPTED_OTHER_URL = "not adopted: recorded for another URL"
NOT_ADOPTED_UNRECORDED = "not adopted: no record of its download"
ADOPTION_KEYS = (ADOPTED_RECORDED, ADOPTED_UNRECORDED, NOT_ADOPTED_OTHER_URL, NOT_ADOPTED_UNRECORDED)
"""The counts of ``Adoption`` (metadata keys). "No record" includes a file changed since it was recorded."""


@dataclass
class Adoption:
    """What ``adopt_existing`` made of the files on disk of a shard."""

    outcomes: list[Outcome] = field(default_factory=list)
    """Successes (``attempts`` 0) for the files adopted."""
    recorded: set[int] = field(default_factory=set)
    """Indices adopted on a record (recorded again with the shard)."""
    forget: set[int] = field(default_factory=set)
    """Indices whose earlier row (a success taken from disk) is no longer trusted: fetched again."""
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ADOPTION_KEYS, 0))

    def apply(self, previous: pd.DataFrame | None, indices: Sequence[int]) -> pd.DataFrame | None:
        """``previous`` without the forgotten rows, with the adopted ones over it."""
        if self.forget and previous is not None and len(previous):
            previous = previous[~previous["index"].astype("int64").isin(list(self.forget))]
        return merge_status(previous, self.outcomes, indices) if self.outcomes or self.forget else previous


def adopt_existing(urls: Sequence[str], indices: Sequence[int], path_of: Callable[[int], Path],
                   previous: pd.DataFrame | None, records: Callable[[int], Sequence[Record]] | None = None, *,
                   adopt_unrecorded: bool = False) -> Adoption:
    """Which images already on disk are taken as the download of the URL now at their position,
    without fetching: those of positions with no status row, a row for another URL, or a row that
    was itself taken from disk (``attempts`` 0). A file is adopted when ``records(index)`` (what the
    image root records of its path) holds its URL with the file's sha256; a file with no record at
    all only when ``adopt_unrecorded`` (your own images, counted so) and it opens as an image. The
    rest — a file recorded for another URL (the URL list changed), changed since its record, or
    unrecorded — is fetched again (and overwritten), each counted."""
    from mmassets.images.opener import UnsafeImageFile, image_size, read_image_bytes

    rows: dict[int, tuple[str, str, int]] = {}
    if previous is not None and len(previous):
        rows = {int(i): (u, s, int(a)) for i, u, s, a in zip(previous["index"], previous["url"], previous["status"],
                                                              previous["attempts"])}
    adoption = Adoption()
    for index, url in zip(indices, urls):
        index = int(index)
        row = rows.get(index)
        taken_from_disk = row is not None and row[0] == url and row[1] == OK and row[2] == 0
        if row is not None and row[0] == url and not taken_from_disk:
            continue  # downloaded, or failed, for this very URL: jobs_to_run decides
        path = path_of(index)
        if not path.is_file():
            if taken_from_disk:
                adoption.forget.add(index)
            continue
        try:
            data = read_image_bytes(path)
        except UnsafeImageFile:  # not a regular file (swapped since): fetched again
            continue
        sha256 = hashlib.sha256(data).hexdigest()
        recorded = list(records(index)) if records is not None else []
        match = next((r for r in recorded if r.url == url and r.sha256 == sha256), None)
        if match is not None:
            adoption.outcomes.append(Outcome(index, url, OK, None, None, match.bytes, sha256, match.width,
                                             match.height, 0))
            adoption.recorded.add(index)
            adoption.counts[ADOPTED_RECORDED] += 1
            continue
        if not recorded and adopt_unrecorded:
            try:
                width, height = image_size(path)
            except UnsafeImageFile:
                width = None  # not an image: fetched again
            if width is not None:
                adoption.outcomes.append(Outcome(index, url, OK, None, None, len(data), sha256, width, height, 0))
                adoption.counts[ADOPTED_UNRECORDED] += 1
                continue
        other = any(r.url != url and r.sha256 == sha256 for r in recorded)
        adoption.counts[NOT_ADOPTED_OTHER_URL if other else NOT_ADOPTED_UNRECORDED] += 1
        if taken_from_disk:
            adoption.forget.add(index)
    return adoption


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
                verify: bool = True, checked: Collection[int] = ()) -> list[Job]:
    """The jobs a (re)run of a shard must do, given the shard's previous status table.
    ``allow_private``: whether the downloader now fetches loopback/private addresses (then the URLs
    refused for that are fetched). ``checked``: indices whose file was just hashed (adopted), not
    read again."""
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
        if status == OK and (not verify or int(index) in checked or _file_intact(path, sha256)):
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
