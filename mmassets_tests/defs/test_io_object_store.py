"""The asset IO manager with its base on an S3-compatible server (SeaweedFS on 127.0.0.1): real
materializations of a partitioned asset and of one that reads all its partitions, in a real Dagster
instance; the objects are the same bytes as the files of a local base."""

import dagster as dg
import pandas as pd
import pytest
from servers import s3_server

from mmassets import storage
from mmassets.defs.common.io import ParquetIOManager, stored_path

pytest.importorskip("s3fs")

LETTERS = dg.StaticPartitionsDefinition(["a", "b"])


@dg.asset(partitions_def=LETTERS)
def letters(context: dg.AssetExecutionContext):
    return {key: pd.DataFrame({"letter": [key] * 3, "n": [1, 2, 3]}) for key in context.partition_keys}


@dg.asset(ins={"letters": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
def counted(letters: pd.DataFrame) -> pd.DataFrame:
    return letters.groupby("letter", as_index=False)["n"].sum()


@pytest.fixture(scope="module")
def s3():
    with s3_server("mmassets") as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from s3fs import S3FileSystem

        S3FileSystem.clear_instance_cache()
        yield env
        S3FileSystem.clear_instance_cache()


def _materialize(base: str, home) -> None:
    resources = {"io_manager": ParquetIOManager(base_dir=base)}
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        for key in ("a", "b"):
            assert dg.materialize([letters], partition_key=key, resources=resources, instance=instance).success
        assert dg.materialize([letters, counted], selection=[counted], resources=resources, instance=instance).success


def test_values_stored_on_the_object_store_are_the_bytes_of_a_local_base(s3, tmp_path):
    remote, local = f"s3://mmassets/{tmp_path.name}", tmp_path / "local"
    _materialize(remote, tmp_path / "home-remote")
    _materialize(str(local), tmp_path / "home-local")
    for key, partition in ((dg.AssetKey("letters"), "a"), (dg.AssetKey("letters"), "b"), (dg.AssetKey("counted"), None)):
        on_store = stored_path(remote, key, partition)
        assert storage.is_remote(on_store) and str(on_store).startswith(f"s3://mmassets/{tmp_path.name}/assets/")
        assert storage.read_bytes(on_store) == stored_path(local, key, partition).read_bytes()
    counts = storage.read_parquet(stored_path(remote, dg.AssetKey("counted")))
    assert counts.to_dict("records") == [{"letter": "a", "n": 6}, {"letter": "b", "n": 6}]
    left = [p.name for p in storage.location(remote).joinpath("assets", "letters").iterdir()]
    assert sorted(left) == ["a.parquet", "b.parquet"]  # no temporary key left behind
