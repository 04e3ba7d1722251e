"""Dagster's SQLite event log with its connections kept open: the event storage of mmassets' own
instance (``runner.instance_config``).

Dagster's ``SqliteEventLogStorage`` (one database per run, plus the ``index`` database every asset,
check and run-status event also goes to) creates a SQLAlchemy engine and a new connection for each
event it stores and disposes of both after. That costs three times over: opening the file, SQLite's
checkpoint of the write-ahead log whenever its last connection closes (WAL mode), and compiling
every statement again (SQLAlchemy caches compiled statements per engine). A sample build stores
some 4,000 events, and this cost it about 30 of its 75 seconds on 2 cores.

``PooledSqliteEventLogStorage`` is the same storage, with the same files and schema, that keeps one
engine with one connection per database: the index's for the life of the process and those of the
few runs used last (a process that reads thousands of runs, the UI's, holds no more than
``RUN_ENGINES``). Connections are used under the storage's own lock, as Dagster's are, one at a
time, and hold no transaction between uses, so other processes (the UI, a second build) read and
write the files as before. Configure it in ``dagster.yaml`` (``event_log_storage``, ``base_dir`` as
for Dagster's class; ``runner.instance_config`` writes it, and ``runner.prepare_home`` writes it again
when the data folder was copied or moved, since ``base_dir`` is absolute).
"""

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import StaticPool

RUN_ENGINES = 4
"""Run databases whose connection stays open (the most recently used)."""


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` with one open connection per database (see the module)."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "PooledSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    @property
    def _engines(self) -> "OrderedDict[str, Engine]":
        # Created on first use: the parent's __init__ already connects (through _connect) to the
        # index database of a new folder, before a subclass's __init__ body could run.
        engines = self.__dict__.get("_pooled_engines")
        if engines is None:
            engines = self.__dict__["_pooled_engines"] = OrderedDict()
        return engines

    def _engine(self, shard: str) -> Engine:
        engines = self._engines
        engine = engines.get(shard)
        if engine is not None:
            engines.move_to_end(shard)
            return engine
        engine = create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
        engines[shard] = engine
        runs = [name for name in engines if name != INDEX_SHARD_NAME]
        for name in runs[:max(0, len(runs) - RUN_ENGINES)]:
            engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def wipe(self) -> None:
        self._dispose_engines()  # the run databases' files are removed: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
