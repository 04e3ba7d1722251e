"""A persistent translation memory: every translation ever made, keyed by what determines it.

One SQLite file (WAL mode) shared by every process and partition of a machine, or one PostgreSQL
database shared by every machine (``postgres_memory``; :func:`open_memory` picks by location). The key is (model identity,
source language, target language, generation settings, source text); the value is the final
translation and the gate's verdict on it. A batch is committed as soon as it is translated, so a
crash loses at most the batch in flight, and a re-run or refresh only translates what is new.
"""

from __future__ import annotations

import sqlite3
import threading
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


class TranslationMemory:
    """Thread-safe within a process (one connection, a lock), safe across processes (SQLite)."""

    def __init__(self, path: str | Path, timeout_s: float = 120.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self._db.execute(LENGTHS_SCHEMA)

    def get_many(self, key: MemoryKey, sources: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        with self._lock:
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
                 tokens: tuple[int, int] | None = None) -> None:
        """Store a batch in one committed transaction; ``tokens`` (source tokens, output tokens of
        the batch) adds to the length ratio of this key (:meth:`length_ratio`)."""
        rows = [(key.model, key.src, key.tgt, key.settings, source, e.translation, e.flag) for source, e in entries]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                if tokens is not None:
                    self._db.execute(
                        "INSERT INTO lengths VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                        "source_tokens = source_tokens + excluded.source_tokens, "
                        "output_tokens = output_tokens + excluded.output_tokens",
                        (key.model, key.src, key.tgt, key.settings, *tokens))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def length_ratio(self, key: MemoryKey, min_source_tokens: int = 200) -> float | None:
        """Output tokens per source token over everything stored for ``key`` (None until at least
        ``min_source_tokens`` source tokens have been translated)."""
        with self._lock:
            row = self._db.execute(
                "SELECT source_tokens, output_tokens FROM lengths WHERE model=? AND src=? AND tgt=? AND settings=?",
                (key.model, key.src, key.tgt, key.settings)).fetchone()
        if row is None or row[0] < min_source_tokens:
            return None
        return row[1] / row[0]

    def count(self, key: MemoryKey | None = None) -> int:
        with self._lock:
            if key is None:
                return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
            return self._db.execute(
                "SELECT COUNT(*) FROM translations WHERE model=? AND src=? AND tgt=? AND settings=?",
                (key.model, key.src, key.tgt, key.settings)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_memory(location: str | Path) -> TranslationMemory:
    """The memory at ``location``: a ``postgresql://`` URL (``postgres_memory``) or a SQLite file."""
    from mmassets.translation.postgres_memory import PostgresTranslationMemory, is_postgres_url

    if is_postgres_url(location):
        return PostgresTranslationMemory(str(location))  # type: ignore[return-value]  # same interface
    return TranslationMemory(location)
