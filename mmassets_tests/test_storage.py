"""Publishing files locally and on an S3-compatible server (SeaweedFS on 127.0.0.1, signatures
checked) through one code path: the same bytes in both places, a reader never sees part of a file,
a write that fails leaves the previous version and no temporary key."""

import pandas as pd
import pytest
from servers import s3_server

from mmassets import storage

pytest.importorskip("upath")
pytest.importorskip("s3fs")


@pytest.fixture(scope="module")
def s3():
    with s3_server("mmassets") as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from s3fs import S3FileSystem

        S3FileSystem.clear_instance_cache()  # credentials are read when a client is made
        yield env
        S3FileSystem.clear_instance_cache()


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    if request.param == "local":
        return storage.location(tmp_path / "store")
    request.getfixturevalue("s3")
    return storage.location(f"s3://mmassets/{tmp_path.name}")


def test_locations_are_folders_or_object_store_urls(tmp_path):
    assert storage.location(tmp_path) == tmp_path and not storage.is_remote(storage.location(tmp_path))
    assert storage.is_url("s3://bucket/prefix") and storage.is_url("gs://bucket") and not storage.is_url("/data")
    for bad in ("http://example.com/data", "ftp://host/data"):
        with pytest.raises(ValueError, match="not a folder or an object store URL"):
            storage.location(bad)


def test_published_files_read_back_with_the_same_bytes_everywhere(root, tmp_path):
    frame = pd.DataFrame({"context": ["a", "b"], "label": ["x", None], "n": [1, 2]})
    storage.write_parquet(frame, root / "assets" / "one.parquet")
    frame.to_parquet(tmp_path / "direct.parquet", index=False)
    assert storage.read_bytes(root / "assets" / "one.parquet") == (tmp_path / "direct.parquet").read_bytes()
    pd.testing.assert_frame_equal(storage.read_parquet(root / "assets" / "one.parquet"), frame)
    storage.publish_bytes(root / "exports" / "task.json", b'[{"x": 1}]')
    assert storage.read_bytes(root / "exports" / "task.json") == b'[{"x": 1}]'


def test_a_reader_never_sees_part_of_a_file_and_a_failed_write_changes_nothing(root):
    target = root / "exports" / "mix.json"
    storage.publish_bytes(target, b"version 1")
    with storage.publishing(target) as out:
        out.write(b"version 2, first half; ")
        assert storage.read_bytes(target) == b"version 1"  # while the new one is being written
        out.write(b"second half")
    assert storage.read_bytes(target) == b"version 2, first half; second half"
    with pytest.raises(RuntimeError, match="disk gone"), storage.publishing(target) as out:
        out.write(b"version 3, cut short")
        raise RuntimeError("disk gone")
    assert storage.read_bytes(target) == b"version 2, first half; second half"
    assert sorted(p.name for p in target.parent.iterdir()) == ["mix.json"]  # no temporary file or key left


def test_the_server_checks_credentials(s3, monkeypatch):
    from s3fs import S3FileSystem

    storage.publish_bytes(storage.location("s3://mmassets/secret.txt"), b"ok")
    try:
        with monkeypatch.context() as patch:
            patch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
            S3FileSystem.clear_instance_cache()
            with pytest.raises(PermissionError):
                storage.read_bytes(storage.location("s3://mmassets/secret.txt"))
    finally:
        S3FileSystem.clear_instance_cache()  # the next client reads the right secret again
    assert storage.read_bytes(storage.location("s3://mmassets/secret.txt")) == b"ok"
