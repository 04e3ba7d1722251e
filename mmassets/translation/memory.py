"""A persistent translation memory: every translation ever made, keyed by what determines it.

One SQLite file (WAL mode) shared by every process and partition of a machine, or one PostgreSQL
database shared by every machine (``postgres_memory``; :func:`open_memory` picks by location). The key is (model identity,
source language, target language, generation settings, source text); the value is the final
translation and the gate's verdict on it. A batch is committed as soon as it is translated, so a
crash loses at most the batch in flight, and a re-run or refresh only translates what is new.

The first answer stored for a key is the answer: a later ``put_many`` of the same key keeps it and
hands it back (two builds, or two histories of one folder, that translated a string apart use one
translation of it). A SQLite file that cannot be used fails at once with
:class:`MemoryUnavailable`, naming the file; a read-only one is used read-only (every lookup works;
translating a string it lacks is refused, naming the file).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from urllib.parse import quote
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    model TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    settings TEXT NOT NULL,
    source TEXT NOT NULL,
    translation TEXT NOT NULL,
    flag TEXT,
    PRIMARY KEY (model, src, tgt, settings, source)
) WITHOUT ROWID
"""
LENGTHS_SCHEMA = """
CREATE TABLE IF NOT EXISTS lengths (
    model TEXT NOT NULL,
    src TEXT NOT NULL,
    tgt TEXT NOT NULL,
    settings TEXT NOT NULL,
    source_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (model, src, tgt, settings)
) WITHOUT ROWID
"""
LOOKUP_CHUNK = 500  # below SQLite's bound-parameter limit


@dataclass(frozen=True)
class MemoryKey:
    """Everything but the text that decides a translation."""

    model: str
    src: str
    tgt: str
    settings: str


@dataclass(frozen=True)
class Entry:
    translation: str
    flag: str | None  # the gate's reason when the translation failed it


class MemoryUnavailable(OSError):
    """A translation memory that cannot be used as asked — not a SQLite database, unreadable, a
    folder, read-only where strings must be added: one line naming the file. ``transient`` is true
    only where waiting may help (the database stayed locked past the timeout)."""

    def __init__(self, path: str | Path, why: str, *, transient: bool = False) -> None:
        super().__init__(f"translation memory {path}: {why}")
        self.location, self.why, self.transient = str(path), why, transient

    def __reduce__(self):
        return _unavailable, (self.location, self.why, self.transient)


def _unavailable(location: str, why: str, transient: bool) -> MemoryUnavailable:
    return MemoryUnavailable(location, why, transient=transient)


def _why(exc: sqlite3.Error) -> tuple[str, bool]:
    """What a SQLite error says about the file, and whether it may pass."""
    text = str(exc).strip()
    lower = text.lower()
    if "not a database" in lower or "malformed" in lower:
        return f"{text}: the file is not a usable SQLite database (corrupt, or another kind of file); "\
               "move it away to start an empty memory", False
    if "locked" in lower or "busy" in lower:
        return f"{text} (another process held it past the timeout)", True
    if "readonly" in lower or "read-only" in lower:
        return f"{text}: the file or its folder is read-only", False
    return text, False


def read_only_refusal(path: str | Path, missing: int) -> MemoryUnavailable:
    """The error for a read-only memory that lacks ``missing`` strings the model would translate."""
    return MemoryUnavailable(path, f"read-only (the file or its folder cannot be written), and it lacks the "
                                   f"translations of {missing} string(s) this step needs: make it writable, or "
                                   "point MMASSETS_TRANSLATION_MEMORY at a writable copy")


class TranslationMemory:
    """Thread-safe within a process (one connection, a lock), safe across processes (SQLite).

    A file that exists but cannot be written (nor the files SQLite keeps beside it, in its folder) is
    opened read-only: ``read_only`` is true, lookups work, and storing raises
    :class:`MemoryUnavailable` (the engine asks before it translates anything)."""

    def __init__(self, path: str | Path, timeout_s: float = 120.0):
        self.path = Path(path)
        self.read_only = False
        self._lock = threading.Lock()
        if self.path.is_dir():
            raise MemoryUnavailable(self.path, "is a folder; expected a SQLite file (or a postgresql:// URL)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MemoryUnavailable(self.path, f"its folder cannot be made ({exc.strerror or exc})") from None
        if self.path.exists() and not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
            self._open_read_only()
            return
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
            self._db.execute(LENGTHS_SCHEMA)
        except sqlite3.Error as exc:
            why, transient = _why(exc)
            if "read-only" in why and self.path.exists():  # a read-only file system, or root on one
                if hasattr(self, "_db"):
                    self._db.close()
                self._open_read_only()
                return
            raise MemoryUnavailable(self.path, why, transient=transient) from None

    def _open_read_only(self) -> None:
        """Open the file read-only (``immutable``: no lock or WAL file can be made beside it); it
        must hold a translation memory."""
        self.read_only = True
        try:
            self._db = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1", uri=True,
                                       check_same_thread=False, isolation_level=None)
            tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.Error as exc:
            raise MemoryUnavailable(self.path, _why(exc)[0] + " (opened read-only: it cannot be written)") from None
        if not {"translations", "lengths"} <= tables:
            self._db.close()
            raise MemoryUnavailable(self.path, "read-only and holds no translation memory (no translations table)")

    def _run(self, action):
        """``action()`` under the lock, a SQLite error turned into one naming the file."""
        with self._lock:
            try:
                return action()
            except sqlite3.Error as exc:
                why, transient = _why(exc)
                raise MemoryUnavailable(self.path, why, transient=transient) from None

    def get_many(self, key: MemoryKey, sources: Sequence[str]) -> dict[str, Entry]:
        return self._run(lambda: self._get_many(key, sources))

    def _get_many(self, key: MemoryKey, sources: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        for start in range(0, len(sources), LOOKUP_CHUNK):
            chunk = list(sources[start : start + LOOKUP_CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT source, translation, flag FROM translations WHERE model=? AND src=? AND tgt=? "
                f"AND settings=? AND source IN ({marks})",
                (key.model, key.src, key.tgt, key.settings, *chunk))
            found.update((source, Entry(translation, flag)) for source, translation, flag in rows)
        return found

    def put_many(self, key: MemoryKey, entries: Iterable[tuple[str, Entry]],
                 tokens: tuple[int, int] | None = None) -> dict[str, Entry]:
        """Store a batch in one committed transaction and return what the memory holds for its
        sources: a source already stored keeps its first answer (the returned entry is that one, not
        the one passed). ``tokens`` (source tokens, output tokens of the batch) adds to the length
        ratio of this key (:meth:`length_ratio`)."""
        entries = list(entries)
        if self.read_only:
            raise read_only_refusal(self.path, len(entries))
        rows = [(key.model, key.src, key.tgt, key.settings, source, e.translation, e.flag) for source, e in entries]
        return self._run(lambda: self._put_many(key, rows, [source for source, _ in entries], tokens))

    def _put_many(self, key: MemoryKey, rows: list[tuple], sources: list[str],
                  tokens: tuple[int, int] | None) -> dict[str, Entry]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR IGNORE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            if tokens is not None:
                self._db.execute(
                    "INSERT INTO lengths VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "source_tokens = source_tokens + excluded.source_tokens, "
                    "output_tokens = output_tokens + excluded.output_tokens",
                    (key.model, key.src, key.tgt, key.settings, *tokens))
            stored = self._get_many(key, sources)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return stored

    def length_ratio(self, key: MemoryKey, min_source_tokens: int = 200) -> float | None:
        """Output tokens per source token over everything stored for ``key`` (None until at least
        ``min_source_tokens`` source tokens have been translated)."""
        row = self._run(lambda: self._db.execute(
            "SELECT source_tokens, output_tokens FROM lengths WHERE model=? AND src=? AND tgt=? AND settings=?",
            (key.model, key.src, key.tgt, key.settings)).fetchone())
        if row is None or row[0] < min_source_tokens:
            return None
        return row[1] / row[0]

    def count(self, key: MemoryKey | None = None) -> int:
        if key is None:
            return self._run(lambda: self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0])
        return self._run(lambda: self._db.execute(
            "SELECT COUNT(*) FROM translations WHERE model=? AND src=? AND tgt=? AND settings=?",
            (key.model, key.src, key.tgt, key.settings)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_memory(location: str | Path) -> TranslationMemory:
    """The memory at ``location``: a ``postgresql://`` URL (``postgres_memory``) or a SQLite file."""
    from mmassets.translation.postgres_memory import PostgresTranslationMemory, is_postgres_url

    if is_postgres_url(location):
        return PostgresTranslationMemory(str(location))  # type: ignore[return-value]  # same interface
    return TranslationMemory(location)
