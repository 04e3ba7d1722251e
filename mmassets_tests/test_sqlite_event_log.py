"""PooledSqliteEventLogStorage: Dagster's SQLite event log with its connections kept open writes the
same files that Dagster's own storage reads, holds a bounded number of connections, and lets another
process read and write beside it."""

import subprocess
import sys
import textwrap

import dagster as dg

from mmassets.runner import instance_config
from mmassets.sqlite_event_log import RUN_ENGINES, PooledSqliteEventLogStorage

PARTS = dg.StaticPartitionsDefinition(["a", "b", "c"])


@dg.asset(partitions_def=PARTS)
def letters(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"letter": context.partition_key})


def _instance(home) -> dg.DagsterInstance:
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text(instance_config(home))
    return dg.DagsterInstance.from_config(str(home))


def _materialize(instance, partition: str) -> str:
    result = dg.materialize([letters], instance=instance, partition_key=partition, selection=[letters])
    assert result.success
    return result.run_id


def _latest(instance) -> dict[str, str]:
    events = instance.fetch_materializations(letters.key, limit=100).records
    return {e.partition_key: e.asset_materialization.metadata["letter"].value for e in events}


def test_dagster_reads_what_it_wrote_and_connections_stay_bounded(tmp_path):
    home = tmp_path / "home"
    instance = _instance(home)
    storage = instance.event_log_storage
    assert isinstance(storage, PooledSqliteEventLogStorage)

    run_ids = [_materialize(instance, p) for p in ("a", "b", "c", "a", "b", "c", "a")]
    assert len(storage._engines) == RUN_ENGINES + 1  # the index and the runs used last
    assert "index" in storage._engines and run_ids[-1] in storage._engines
    assert _latest(instance) == {"a": "a", "b": "b", "c": "c"}

    # The same files, read by Dagster's own storage in a fresh instance of the folder without ours.
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "dagster.yaml").write_text(
        f"telemetry:\n  enabled: false\nstorage:\n  sqlite:\n    base_dir: {str(home)!r}\n")
    reread = dg.DagsterInstance.from_config(str(plain))
    assert type(reread.event_log_storage).__name__ == "SqliteEventLogStorage"
    assert _latest(reread) == {"a": "a", "b": "b", "c": "c"}
    assert len(reread.all_logs(run_ids[0])) == len(instance.all_logs(run_ids[0])) > 5
    instance.dispose()
    assert not storage._engines


def test_another_process_writes_while_connections_are_held(tmp_path):
    home = tmp_path / "home"
    instance = _instance(home)
    _materialize(instance, "a")  # this process now holds the index's connection and the run's
    script = textwrap.dedent(f"""
        import dagster as dg
        from mmassets_tests.test_sqlite_event_log import letters
        instance = dg.DagsterInstance.from_config({str(home)!r})
        assert dg.materialize([letters], instance=instance, partition_key="b").success
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert _latest(instance) == {"a": "a", "b": "b"}
    _materialize(instance, "c")
    assert _latest(instance) == {"a": "a", "b": "b", "c": "c"}
    instance.event_log_storage.wipe()
    assert _latest(instance) == {}
    _materialize(instance, "a")
    assert _latest(instance) == {"a": "a"}
