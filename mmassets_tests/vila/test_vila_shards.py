"""VILA pickle shards: exact .count files, the short last shard both ways, a folder of nothing but
pairs, a round trip through a loader written from VILA's rules, and hostile pickles refused."""

import os
import pickle

import pytest

from mmassets.vila.shards import UnsafePickle, folder_problems, load_as_vila, read_shard, write_shards


def records(n):
    return [{"id": i, "url": f"https://x.org/{i}.jpg", "text": f"キャプション {i}", "image": "aGVsbG8="} for i in range(n)]


@pytest.mark.parametrize("keep_last, expected, dropped", [(True, [4, 4, 2], 0), (False, [4, 4], 2)])
def test_counts_are_exact_and_the_short_last_shard_is_a_setting(tmp_path, keep_last, expected, dropped):
    written = write_shards(iter(records(10)), tmp_path / "pairs", shard_size=4, keep_last=keep_last)
    assert [n for _, n in written.counts] == expected and written.dropped == dropped
    names = sorted(os.listdir(tmp_path / "pairs"))
    assert names == sorted(f"part-{i:05d}.{ext}" for i in range(len(expected)) for ext in ("pkl", "count"))
    assert [(tmp_path / "pairs" / f"part-{i:05d}.count").read_bytes() for i in range(len(expected))] == \
        [str(n).encode() for n in expected]  # a bare integer, no newline
    assert folder_problems(tmp_path / "pairs") == []
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]  # no staging folder left


def test_a_loader_written_from_vilas_rules_reads_back_the_records(tmp_path):
    folder = tmp_path / "pairs"
    write_shards(records(10), folder, shard_size=4)
    assert load_as_vila(folder) == (10, records(10))
    length, first = load_as_vila(folder, rank=0, world_size=2)  # 3 shards over 2 ranks: the third is dropped
    assert length == 8 and first == records(4)
    assert load_as_vila(folder, rank=1, world_size=2) == (8, records(8)[4:])


def test_rewriting_replaces_the_folder_whole_and_identically(tmp_path):
    folder = tmp_path / "pairs"
    write_shards(records(10), folder, shard_size=4)
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    write_shards(records(3), folder, shard_size=4)
    assert sorted(os.listdir(folder)) == ["part-00000.count", "part-00000.pkl"]
    write_shards(records(10), folder, shard_size=4)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first  # same records, same bytes


def test_a_folder_that_would_mislead_vila_is_reported(tmp_path):
    folder = tmp_path / "pairs"
    write_shards(records(10), folder, shard_size=4)
    (folder / "part-00001.count").write_text("5")
    (folder / "README.txt").write_text("hi")
    (folder / "part-00002.count").unlink()
    problems = folder_problems(folder)
    assert "README.txt: not a .pkl/.count file" in problems
    assert "part-00001.count: says 5, the shard holds 4" in problems
    assert "part-00002: .pkl without its .count" in problems


class Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("value, error", [([Boom()], "refusing to load posix.system"),
                                          ({"not": "a list"}, "must hold a list")])
def test_a_shard_is_never_trusted(tmp_path, value, error):
    path = tmp_path / "part-00000.pkl"
    path.write_bytes(pickle.dumps(value))
    with pytest.raises(pickle.UnpicklingError, match=error):
        read_shard(path)
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(pickle.UnpicklingError, match="not a readable pickle"):
        read_shard(path)
    with pytest.raises(UnsafePickle):
        path.write_bytes(pickle.dumps([Boom()]))
        read_shard(path)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_names_the_shard_and_keeps_the_folder(tmp_path, monkeypatch):
    """Issue 30: a full disk during a shard write said `No space left on device` and named no file.
    A real ENOSPC: the second shard's file in the staging folder is a link to /dev/full, which
    refuses every write with ENOSPC."""
    import errno

    from mmassets import storage

    folder = tmp_path / "pairs"
    write_shards(records(10), folder, shard_size=4)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    made = storage.staging_dir

    def staging_with_a_full_disk(target):
        staging = made(target)
        (staging / "part-00001.pkl").symlink_to("/dev/full")
        return staging

    monkeypatch.setattr(storage, "staging_dir", staging_with_a_full_disk)
    with pytest.raises(OSError) as error:
        write_shards(records(10), folder, shard_size=4)
    assert error.value.errno == errno.ENOSPC
    message = str(error.value)
    assert "No space left on device while writing VILA shard " in message and "part-00001.pkl" in message
    assert f"the staging folder of {folder}, which keeps the shards it had" in message
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]  # the staging folder is removed
