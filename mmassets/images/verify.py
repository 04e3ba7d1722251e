"""Checking that the images a dataset's records name are there and are what they say, and repairing
the ones whose content is not what their extension says (OCR-VQA's GIFs saved as ``.jpg``).

``check_images`` looks up every file and gives each a status:

- ``ok``; ``missing`` (no such file); ``unreadable`` (empty, not an image Pillow knows, over the
  decompression-bomb limit, or corrupt); ``truncated`` (the data ends before the image does);
- ``mismatch``: a real image whose format is not its extension's (a GIF, PNG or WebP named
  ``.jpg``): kept as it is, reported;
- ``repaired``: the same, converted (transparency on white) to a real JPEG under the ``repaired``
  root at the image's path (its extension made ``.jpg``), when ``repair`` is on;
- ``unsafe``: a path with a NUL byte, or (given the trusted roots) a file that is a symlink to
  somewhere outside all of them (``/etc/passwd``): never opened. A FIFO, a device or a folder under
  an image's name is ``unreadable`` ("a FIFO (named pipe), not a regular file"), never opened either
  (``mmassets.images.opener``, the one opener every image reader uses).

Levels: ``exists`` only looks the file up (``os.stat``); ``format`` also reads the header (format and
size); ``decode`` (the default) also decodes the image, which is what finds truncated files (JPEGs
are decoded at reduced scale, ``Image.draft``, which still reads every byte of the data).

The work is done in chunks by a process pool, and is resumable: each finished chunk's results are
kept in the cache folder with the file's size and mtime, so a rerun (or a run after an interrupted
one) opens only files that are new or changed since. Nothing here imports Dagster.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image, UnidentifiedImageError

from mmassets.files import atomic_path
from mmassets.images.opener import UnsafeImageFile, refusal, safe_file
from mmassets.images.resize import flatten
from mmassets.iterables import batches
from mmassets.progress import Progress

LEVELS = ("exists", "format", "decode")
STATUSES = ("ok", "missing", "unreadable", "truncated", "mismatch", "repaired", "unsafe")
USABLE = ("ok", "mismatch", "repaired")
"""Statuses whose image a trainer can open (a mismatched file still decodes: Pillow reads the content)."""
REPAIR_QUALITY = 95
EXTENSION_FORMATS = {".jpg": {"JPEG", "MPO"}, ".jpeg": {"JPEG", "MPO"}, ".png": {"PNG"}, ".gif": {"GIF"},
                     ".webp": {"WEBP"}, ".bmp": {"BMP"}, ".tif": {"TIFF"}, ".tiff": {"TIFF"}}
"""What Pillow calls the content an extension promises (an MPO is a JPEG with extra frames)."""
RESULT_COLUMNS = ("file", "size", "mtime_ns", "status", "format", "detail")
CACHE_VERSION = 1


@dataclass(frozen=True)
class Wanted:
    """One file to check: where it is, and where its repaired JPEG goes (None: never repaired)."""

    file: str
    repair_to: str | None = None


def repaired_name(path: str) -> str:
    """A repaired image's path: the same, with a JPEG extension."""
    stem, ext = os.path.splitext(path)
    return path if ext.lower() in (".jpg", ".jpeg") else f"{stem}.jpg"


def _decode(image: Image.Image) -> None:
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


def check_file(file: str, level: str, repair_to: str | None = None,
               within: Sequence[str] | None = None) -> tuple[str, str, str]:
    """(status, format, detail) of one file (module docstring); with ``repair_to`` a mismatched
    image is written there as a real JPEG (atomically) and reported ``repaired``; with ``within``
    (real paths of the trusted roots) a file whose real path is outside them all is ``unsafe``.
    The file is opened by ``opener.safe_file``: a FIFO, a device or a folder is never opened."""
    problem = refusal(file, within)
    if problem is not None:
        if problem.kind == "missing":
            return "missing", "", ""
        if problem.kind == "unsafe":
            return "unsafe", "", problem.reason.removesuffix("; refused unopened")
        return "unreadable", "", problem.reason
    try:
        if os.stat(file).st_size == 0:
            return "unreadable", "", "empty file"
    except FileNotFoundError:
        return "missing", "", ""
    except OSError as exc:
        return "unreadable", "", f"cannot stat ({exc.strerror})"
    if level == "exists":
        return "ok", "", ""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with safe_file(file) as handle, Image.open(handle) as image:  # refusal() above: within
                kind = image.format or ""
                expected = EXTENSION_FORMATS.get(os.path.splitext(file)[1].lower())
                mismatch = expected is not None and kind not in expected
                if level == "decode" or (mismatch and repair_to):
                    _decode(image)
                if mismatch and repair_to:
                    with atomic_path(repair_to) as tmp:
                        flatten(image).convert("RGB").save(tmp, "JPEG", quality=REPAIR_QUALITY)
                    return "repaired", kind, f"{kind} named {os.path.splitext(file)[1]}; converted to JPEG"
                if mismatch:
                    return "mismatch", kind, f"{kind} named {os.path.splitext(file)[1]}"
                return "ok", kind, ""
        except UnsafeImageFile as exc:
            return ("unsafe" if exc.kind == "unsafe" else "unreadable"), "", exc.reason
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return "unreadable", "", f"decompression-bomb limit ({exc})"
        except UnidentifiedImageError:
            return "unreadable", "", "not an image Pillow can identify"
        except OSError as exc:
            if "truncated" in str(exc).lower() or "broken data stream" in str(exc):
                return "truncated", "", str(exc)
            return "unreadable", "", f"{type(exc).__name__}: {exc}"
        except (ValueError, SyntaxError, EOFError) as exc:
            return "unreadable", "", f"{type(exc).__name__}: {exc}"


def _check_chunk(args: tuple[list[Wanted], list[tuple[int, int]], str, Sequence[str] | None]) -> list[tuple]:
    wanted, stats, level, within = args
    return [(w.file, size, mtime, *check_file(w.file, level, w.repair_to, within))
            for w, (size, mtime) in zip(wanted, stats)]


class CheckCache:
    """Results of earlier checks in ``folder``: one Parquet file per finished chunk
    (``part-*.parquet``), compacted into ``checked.parquet`` at the end of a run."""

    def __init__(self, folder: Path, level: str, repair: bool):
        self.folder = Path(folder) / f"v{CACHE_VERSION}-{level}{'-repair' if repair else ''}"
        self.parts = 0

    def load(self) -> pd.DataFrame:
        files = sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []
        main = self.folder / "checked.parquet"
        frames = [pd.read_parquet(path) for path in ([main] if main.is_file() else []) + files]
        self.parts = len(files)
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})
        return pd.concat(frames, ignore_index=True).drop_duplicates("file", keep="last")

    def add(self, rows: list[tuple]) -> None:
        self.parts += 1
        with atomic_path(self.folder / f"part-{self.parts:06d}.parquet") as tmp:
            pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).to_parquet(tmp, index=False)

    def compact(self, results: pd.DataFrame) -> None:
        with atomic_path(self.folder / "checked.parquet") as tmp:
            results[list(RESULT_COLUMNS)].to_parquet(tmp, index=False)
        for path in self.folder.glob("part-*.parquet"):
            path.unlink(missing_ok=True)


def _stat(file: str) -> tuple[int, int] | None:
    try:
        st = os.stat(file)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    return st.st_size, st.st_mtime_ns


def check_images(wanted: Sequence[Wanted], *, level: str = "decode", cache_dir: Path, repair: bool = False,
                 workers: int = 1, chunk: int = 2_000, log: Callable[[str], None] = lambda _: None,
                 label: str = "images", within: Sequence[str] | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Check every ``wanted`` file (module docstring), refusing symlinks out of ``within`` (the
    trusted roots' real paths) when given; return one row per file in ``wanted`` order
    (``RESULT_COLUMNS``) and counts: ``checked`` (opened now), ``from cache`` (unchanged since an
    earlier check) and ``missing``."""
    if level not in LEVELS:
        raise ValueError(f"unknown image check level {level!r}; expected one of {', '.join(LEVELS)}")
    cache = CheckCache(cache_dir, level, repair)
    earlier = cache.load()
    known = {row[0]: row[1:] for row in earlier[list(RESULT_COLUMNS)].itertuples(index=False)}
    stats = [_stat(w.file) for w in wanted]
    done: dict[str, tuple] = {}
    todo: list[tuple[Wanted, tuple[int, int]]] = []
    for w, st in zip(wanted, stats):
        if "\0" in w.file:
            done[w.file] = (w.file, 0, 0, *check_file(w.file, level))
        elif st is None:
            done[w.file] = (w.file, 0, 0, "missing", "", "")
        elif _still_valid(known.get(w.file), st, w):
            done[w.file] = (w.file, *known[w.file])
        else:
            todo.append((w, st))
    cached = len(wanted) - len(todo) - sum(1 for w, st in zip(wanted, stats) if st is None or "\0" in w.file)
    progress = Progress(len(todo), log, f"{label}: checking", unit="images")
    jobs = [([w if repair else Wanted(w.file) for w, _ in part], [st for _, st in part], level, within)
            for part in batches(todo, chunk)]
    finished = 0
    if workers > 1 and len(jobs) > 1 and level != "exists":
        with ProcessPoolExecutor(workers) as pool:
            for rows in pool.map(_check_chunk, jobs):
                finished = _record(rows, done, cache, progress, finished)
    else:
        for job in jobs:
            finished = _record(_check_chunk(job), done, cache, progress, finished)
    results = pd.DataFrame([done[w.file] for w in wanted], columns=list(RESULT_COLUMNS))
    if todo or cache.parts:
        cache.compact(results[results["status"] != "missing"].drop_duplicates("file"))
    return results, {"checked": len(todo), "from cache": cached, "missing": int((results["status"] == "missing").sum())}


def _still_valid(earlier: tuple | None, st: tuple[int, int], wanted: Wanted) -> bool:
    """An earlier result stands if the file's size and mtime are unchanged (and a repaired copy is
    still there)."""
    if earlier is None or (int(earlier[0]), int(earlier[1])) != st:
        return False
    return earlier[2] != "repaired" or bool(wanted.repair_to and os.path.isfile(wanted.repair_to))


def _record(rows: list[tuple], done: dict, cache: CheckCache, progress: Progress, finished: int) -> int:
    for row in rows:
        done[row[0]] = row
    cache.add(rows)
    finished += len(rows)
    progress.update(finished)
    return finished
