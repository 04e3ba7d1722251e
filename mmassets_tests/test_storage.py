"""Publishing files locally and on an S3-compatible server (SeaweedFS on 127.0.0.1, signatures
checked) through one code path: the same bytes in both places, a reader never sees part of a file,
a write that fails leaves the previous version and no temporary key."""

import os
import shutil

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


def _tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix() if not storage.is_remote(folder) else p.path[len(folder.path) + 1:]:
            storage.read_bytes(p) for p in sorted(folder.rglob("*"), key=str) if p.is_file()}


def test_a_folder_is_published_as_a_whole_replacing_the_previous_one(root, tmp_path):
    target = root / "exports" / "vila" / "pairs"
    for version, files in ((1, {"part-00000.pkl": b"a", "part-00000.count": b"1", "part-00001.pkl": b"b",
                                "part-00001.count": b"1"}),
                           (2, {"part-00000.pkl": b"ab", "part-00000.count": b"2", "registry/names.json": b"[]"})):
        staging = storage.staging_dir(target)
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        storage.publish_folder(staging, target)
        shutil.rmtree(staging, ignore_errors=True)  # the caller's part (on an object store it is left)
        assert _tree(target) == files, version  # the second has none of the first's stale shards


def test_temporary_keys_of_dead_uploads_are_removed_and_others_kept(s3, tmp_path):
    import subprocess
    import time

    from mmassets.files import MACHINE

    folder = storage.location(f"s3://mmassets/{tmp_path.name}/exports")
    gone = int(subprocess.check_output(["sh", "-c", "echo $$"]).strip())  # a shell that has ended
    mine = f".mix.json.{gone}@{MACHINE}.0123abcd.tmp"
    running = f".mix.json.{os.getpid()}@{MACHINE}.4567cdef.tmp"
    elsewhere = ".mix.json.12@0badf00d.89abcdef.tmp"
    for name in (mine, running, elsewhere, "mix.json"):
        storage.publish_bytes(folder / name, b"x")
    assert [k.rsplit("/", 1)[-1] for k in storage.remove_leftovers(folder)] == [mine]
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([running, elsewhere, "mix.json"])  # a live upload, another machine's recent one
    later = time.time() + storage.LEFTOVER_AGE_S + 60
    assert [k.rsplit("/", 1)[-1] for k in storage.remove_leftovers(folder, now=later)] == [elsewhere]
