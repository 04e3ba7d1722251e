"""A distributed build with the real servers: PostgreSQL (Dagster's instance storage and the shared
translation memory), Redis (Celery's broker and results), two Celery workers (the queue ``dagster``,
and the queue ``gpu`` with one task at a time), the Dagster daemon. `mmassets build --submit`
launches the selection as an asset backfill; `mmassets status` follows it to the end.

Asserted: every partition materialized exactly once; the translation steps, in three runs of 32
languages, never overlapped (the pool ``gpu``, one slot); the first attempt of a translation step,
made to fail, was retried by the step's retry policy; a second backfill was served by the
translation memory in PostgreSQL without a model call; the files stored are byte-identical to an
in-process build's, read from the S3-compatible server (SeaweedFS on 127.0.0.1) that the deployment
stores its values on (MMASSETS_DATA_DIR=s3://…, the instance and caches in the local work folder)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from builds import _settings_free_env, run_build
from servers import deployment, s3_server

from mmassets import storage
from mmassets.languages import LanguageTable
from mmassets.sample import ensure_sample_raw

pytest.importorskip("dagster_celery")
pytest.importorskip("dagster_postgres")
pytest.importorskip("s3fs")

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
SELECTION = '+key:"translated/coco_captions"'
TRANSLATED = dg.AssetKey(["translated", "coco_captions"])
IMAGES = dg.AssetKey(["images", "web_captions"])
DOWNLOADED = '+key:"english/web_captions"'
"""The sample's web captions through their image download, in two slices (MMASSETS_IMAGE_SLICES=2)."""
STORE = "s3://mmassets/distributed"
"""The deployment's data folder: SeaweedFS's S3 gateway (stored values on the store, the rest local)."""
def _mmassets(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mmassets"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def _backfill(env: dict, selection: str, *args: str) -> tuple[str, str]:
    """Submit ``selection`` (with ``args``), follow it to the end: (its id, what status printed)."""
    submitted = _mmassets(env, "build", "--submit", "--select", selection, *args)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    backfill_id = re.search(r"backfill (\w+) on the instance", submitted.stdout)[1]
    assert f"/runs/b/{backfill_id}" in submitted.stdout and f"mmassets status {backfill_id}" in submitted.stdout
    followed = _mmassets(env, "status", backfill_id, "--interval", "1")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    return backfill_id, followed.stdout


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    data = root / "data"
    raw = ensure_sample_raw(data / "sample" / "raw")
    with s3_server("mmassets") as s3, pytest.MonkeyPatch.context() as patch:
        for name, value in s3.items():  # this process reads the store too
            patch.setenv(name, value)
        from s3fs import S3FileSystem

        S3FileSystem.clear_instance_cache()
        env = {**_settings_free_env(), **s3, "MMASSETS_DATA_DIR": STORE, "MMASSETS_WORK_DIR": str(data),
               "MMASSETS_LANGUAGES_PER_RUN": "32", "MMASSETS_TEST_FAIL_ONCE": str(root / "failed-once"),
               "MMASSETS_IMAGE_SLICES": "2"}
        yield from _deployed(root, raw, env)
        S3FileSystem.clear_instance_cache()


def _deployed(root: Path, raw: Path, env: dict):
    with deployment(root, HERE / "distributed_defs.py", raw, env) as env:
        first = _backfill(env, SELECTION)
        second = _backfill(env, 'key:"translated/coco_captions"')
        (root / "shards.yaml").write_text("images/web_captions:\n  shard_size: 8\n", encoding="utf-8")
        downloads = _backfill(env, DOWNLOADED, "--config", str(root / "shards.yaml"))
        os.environ["MMASSETS_DAGSTER_POSTGRES_URL"] = env["MMASSETS_DAGSTER_POSTGRES_URL"]
        try:
            instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
            yield {"root": root, "first": first, "second": second, "downloads": downloads, "instance": instance}
            instance.dispose()
        finally:
            del os.environ["MMASSETS_DAGSTER_POSTGRES_URL"]


def _runs(instance, backfill_id: str) -> list:
    return instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))


def test_every_partition_is_materialized_exactly_once(distributed):
    instance, (backfill_id, out) = distributed["instance"], distributed["first"]
    assert f"backfill {backfill_id}: completed_success" in out and "materialized 98/98" in out
    run_ids = {run.run_id for run in _runs(instance, backfill_id)}
    records = [r for r in instance.fetch_materializations(TRANSLATED, limit=1000).records if r.run_id in run_ids]
    assert sorted(r.partition_key for r in records) == sorted(LanguageTable.load().codes)  # each once
    for key in (dg.AssetKey(["raw", "coco_karpathy"]), dg.AssetKey(["english", "coco_captions"])):
        assert len([r for r in instance.fetch_materializations(key, limit=100).records if r.run_id in run_ids]) == 1
    translation_runs = [run for run in _runs(instance, backfill_id) if TRANSLATED in (run.asset_selection or ())]
    assert len(translation_runs) == 3  # 96 languages in runs of 32


def test_translation_steps_never_overlapped_and_the_failed_attempt_was_retried(distributed):
    instance, (backfill_id, _) = distributed["instance"], distributed["first"]
    spans, retried = [], 0
    for run in _runs(instance, backfill_id):
        started = None
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or event.step_key != "translated__coco_captions":
                continue
            if event.event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED):
                started = entry.timestamp
            elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_UP_FOR_RETRY,
                                      dg.DagsterEventType.STEP_FAILURE):
                spans.append((started, entry.timestamp))
                retried += event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
    assert retried == 1 and len(spans) == 4  # three steps, one of them twice
    spans.sort()
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:])), spans


def test_the_second_backfill_is_served_by_the_shared_memory(distributed):
    instance, (backfill_id, out) = distributed["instance"], distributed["second"]
    assert "completed_success" in out
    run_ids = {run.run_id for run in _runs(instance, backfill_id)}
    records = [r for r in instance.fetch_materializations(TRANSLATED, limit=1000).records if r.run_id in run_ids]
    assert len(records) == 96
    translated = [r.asset_materialization.metadata for r in records if "translation" in r.asset_materialization.metadata]
    assert translated and all(meta["model-translated strings"].value == 0 for meta in translated)
    assert sum(meta["memory hits"].value for meta in translated) > 0


def test_each_download_slice_ran_once_in_a_run_of_its_own_over_its_own_shards(distributed):
    instance, (backfill_id, out) = distributed["instance"], distributed["downloads"]
    assert f"backfill {backfill_id}: completed_success" in out
    run_ids = {run.run_id for run in _runs(instance, backfill_id)}
    records = [r for r in instance.fetch_materializations(IMAGES, limit=100).records if r.run_id in run_ids]
    assert sorted(r.partition_key for r in records) == ["0-of-2", "1-of-2"] and len({r.run_id for r in records}) == 2
    shards = {r.partition_key: sorted(r.asset_materialization.metadata["success rate per shard"].value)
              for r in records}
    assert shards == {"0-of-2": ["00000", "00002", "00004"], "1-of-2": ["00001", "00003"]}  # 40 URLs, 8 a shard


def test_what_is_stored_is_the_same_as_in_process(distributed, tmp_path):
    """Translations, and web-caption records from the download in slices against one in one piece."""
    root = distributed["root"]
    code, out = run_build(tmp_path / "data", "--select", f"{SELECTION} or {DOWNLOADED}")
    assert code == 0, out
    store = storage.location(STORE)
    for folder in (Path("assets", "translated", "coco_captions"), Path("assets", "english")):
        names = sorted(p.name for p in (tmp_path / "data" / folder).iterdir())
        assert names == sorted(p.name for p in store.joinpath(*folder.parts).iterdir())  # no temporary key left
        for name in names:
            local = (tmp_path / "data" / folder / name).read_bytes()
            assert storage.read_bytes(store.joinpath(*folder.parts, name)) == local, folder / name
    assert not (root / "data" / "assets").exists()  # the deployment stored its values on the store only
