"""The translation memory in PostgreSQL: one memory for every machine of a distributed build.

The same keys, values and guarantees as the SQLite memory (``memory.TranslationMemory``): a batch is
committed in one transaction as soon as it is translated, so a worker that dies loses at most the
batch in flight, and whatever any worker has committed serves every later lookup on every machine.
Texts are keyed by their SHA-256 (a B-tree entry is limited to a third of a page, and a LLaVA answer
can be longer) and compared in full on lookup.

Configure it with a URL: ``postgresql://user:password@host:port/database`` (``postgresql+psycopg2://``,
SQLAlchemy's spelling, is accepted too); the tables are created on first use. Needs psycopg2
(``pip install 'mmassets[postgres]'``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence

from mmassets.translation.memory import Entry, MemoryKey

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS mmassets_translations (
        model TEXT NOT NULL, src TEXT NOT NULL, tgt TEXT NOT NULL, settings TEXT NOT NULL,
        source_sha256 BYTEA NOT NULL, source TEXT NOT NULL, translation TEXT NOT NULL, flag TEXT,
        PRIMARY KEY (model, src, tgt, settings, source_sha256))""",
    """CREATE TABLE IF NOT EXISTS mmassets_translation_lengths (
        model TEXT NOT NULL, src TEXT NOT NULL, tgt TEXT NOT NULL, settings TEXT NOT NULL,
        source_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
        PRIMARY KEY (model, src, tgt, settings))""",
)
LOOKUP_CHUNK = 5_000
_SCHEMA_LOCK = 0x6D6D_6173  # pg_advisory_xact_lock key: concurrent CREATE TABLE IF NOT EXISTS can collide


def is_postgres_url(location: object) -> bool:
    return str(location).startswith(("postgresql://", "postgresql+psycopg2://", "postgres://"))


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class PostgresTranslationMemory:
    """``memory.TranslationMemory``'s interface on a PostgreSQL database (one connection, a lock)."""

    def __init__(self, url: str, timeout_s: float = 30.0):
        try:
            import psycopg2
        except ImportError as exc:
            raise RuntimeError("a PostgreSQL translation memory needs psycopg2: pip install 'mmassets[postgres]'") from exc
        self.url = url
        self.path = None
        dsn = url.replace("postgresql+psycopg2://", "postgresql://", 1)
        try:
            self._db = psycopg2.connect(dsn, connect_timeout=int(timeout_s), application_name="mmassets")
        except psycopg2.Error as exc:
            raise RuntimeError(f"translation memory {_redacted(url)}: cannot connect: {str(exc).strip()}") from None
        self._lock = threading.Lock()
        with self._db, self._db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in SCHEMA:
                cursor.execute(statement)
        self.read_only = False

    def get_many(self, key: MemoryKey, sources: Sequence[str]) -> dict[str, Entry]:
        found: dict[str, Entry] = {}
        with self._lock, self._db, self._db.cursor() as cursor:
            for start in range(0, len(sources), LOOKUP_CHUNK):
                chunk = list(sources[start:start + LOOKUP_CHUNK])
                cursor.execute(
                    "SELECT source, translation, flag FROM mmassets_translations WHERE model=%s AND src=%s "
                    "AND tgt=%s AND settings=%s AND source_sha256 = ANY(%s)",
                    (key.model, key.src, key.tgt, key.settings, [_digest(s) for s in chunk]))
                wanted = set(chunk)
                found.update((source, Entry(translation, flag)) for source, translation, flag in cursor
                             if source in wanted)
        return found

    def put_many(self, key: MemoryKey, entries: Iterable[tuple[str, Entry]],
                 tokens: tuple[int, int] | None = None) -> dict[str, Entry]:
        """As ``TranslationMemory.put_many``: the first answer stored for a source is kept and
        returned."""
        from psycopg2.extras import execute_values

        entries = list(entries)
        rows = [(key.model, key.src, key.tgt, key.settings, _digest(source), source, e.translation, e.flag)
                for source, e in entries]
        stored: dict[str, Entry] = {}
        with self._lock, self._db, self._db.cursor() as cursor:  # one transaction: committed or not at all
            execute_values(
                cursor, "INSERT INTO mmassets_translations VALUES %s ON CONFLICT (model, src, tgt, settings, "
                "source_sha256) DO NOTHING", rows)
            wanted = {source for source, _ in entries}
            for start in range(0, len(rows), LOOKUP_CHUNK):
                cursor.execute(
                    "SELECT source, translation, flag FROM mmassets_translations WHERE model=%s AND src=%s "
                    "AND tgt=%s AND settings=%s AND source_sha256 = ANY(%s)",
                    (key.model, key.src, key.tgt, key.settings, [row[4] for row in rows[start:start + LOOKUP_CHUNK]]))
                stored.update((source, Entry(translation, flag)) for source, translation, flag in cursor
                              if source in wanted)
            if tokens is not None:
                cursor.execute(
                    "INSERT INTO mmassets_translation_lengths AS l VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (model, src, tgt, settings) DO UPDATE SET "
                    "source_tokens = l.source_tokens + EXCLUDED.source_tokens, "
                    "output_tokens = l.output_tokens + EXCLUDED.output_tokens",
                    (key.model, key.src, key.tgt, key.settings, *tokens))
        return stored

    def length_ratio(self, key: MemoryKey, min_source_tokens: int = 200) -> float | None:
        with self._lock, self._db, self._db.cursor() as cursor:
            cursor.execute("SELECT source_tokens, output_tokens FROM mmassets_translation_lengths WHERE model=%s "
                           "AND src=%s AND tgt=%s AND settings=%s", (key.model, key.src, key.tgt, key.settings))
            row = cursor.fetchone()
        if row is None or row[0] < min_source_tokens:
            return None
        return row[1] / row[0]

    def count(self, key: MemoryKey | None = None) -> int:
        with self._lock, self._db, self._db.cursor() as cursor:
            if key is None:
                cursor.execute("SELECT COUNT(*) FROM mmassets_translations")
            else:
                cursor.execute("SELECT COUNT(*) FROM mmassets_translations WHERE model=%s AND src=%s AND tgt=%s "
                               "AND settings=%s", (key.model, key.src, key.tgt, key.settings))
            return cursor.fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _redacted(url: str) -> str:
    """The URL without its password (error messages end up in logs)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
