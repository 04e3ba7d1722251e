"""VILA's pickle shards (dataset types ``coyo`` and ``mmc4``), written and read back exactly as
VILA's loader (``llava/data/dataset.py``, ``LazyCoyoDataset`` / ``LazyMMC4Dataset``) sees them.

- A shard is one pickle of a Python list of dicts, ``part-{n:05d}.pkl``; beside it
  ``part-{n:05d}.count`` holds ``str(len(list))`` with no newline.
- The loader takes ``len(os.listdir(folder)) // 2`` as the number of shards, reads the sorted
  ``.count`` files for the lengths and trusts them: so a folder holds nothing but matched pairs,
  and every count is exact. A folder is written whole into a staging folder and renamed into place.
- NVlabs' COYO splitter writes 12,440 records a shard and drops the short remainder; keeping it is
  a setting here (``keep_last``), and what is dropped is counted.
- Pickle runs code on load, so shards are never read back with plain ``pickle.load``:
  ``read_shard`` uses ``mmassets.pickles.load_plain_pickle``, which refuses every global (classes,
  functions) and leaves exactly the plain containers, strings, bytes and numbers the records are
  made of.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mmassets import storage
from mmassets.iterables import batches
from mmassets.pickles import UnsafePickle, load_plain_pickle

__all__ = ["PROTOCOL", "SHARD_SIZE", "Shards", "UnsafePickle", "folder_problems", "load_as_vila", "read_shard",
           "write_shards"]

SHARD_SIZE = 12_440
"""Records per shard, as NVlabs VILA's COYO splitter."""
PROTOCOL = 4


@dataclass
class Shards:
    """What ``write_shards`` wrote: each shard's name and length, and the records it dropped."""

    folder: Path
    counts: list[tuple[str, int]] = field(default_factory=list)
    dropped: int = 0
    published: bool = False
    """Whether they replaced the folder (a ``verify`` that says no keeps the folder as it was)."""

    @property
    def records(self) -> int:
        return sum(n for _, n in self.counts)


def read_shard(path: str | Path) -> list:
    """The records of one shard, refusing anything but plain data (``UnsafePickle``, from
    ``mmassets.pickles``)."""
    value = load_plain_pickle(path)
    if not isinstance(value, list):
        raise pickle.UnpicklingError(f"{path}: a shard must hold a list, not {type(value).__name__}")
    return value


def write_shards(records: Iterable[dict], folder: str | Path, *, shard_size: int = SHARD_SIZE,
                 keep_last: bool = True, verify: Callable[[Path, Shards], bool] | None = None) -> Shards:
    """Write ``records`` as VILA shards into ``folder`` (replacing it whole, atomically): shard
    ``n`` holds records ``n*shard_size`` to ``(n+1)*shard_size``; a short last shard is written
    only when ``keep_last``. Records stream through one shard at a time; a write that fails (a full
    disk) raises an OSError naming the shard and the folder. ``verify(staging, shards)``
    sees the shards before they replace the folder; when it says no, the folder stays as it was
    (``Shards.published`` False)."""
    if shard_size < 1:
        raise ValueError("shard_size must be >= 1")
    folder = storage.at(folder)
    staging = storage.staging_dir(folder)
    written = Shards(folder)
    try:
        for n, chunk in enumerate(batches(records, shard_size)):
            if len(chunk) < shard_size and not keep_last:
                written.dropped = len(chunk)
                break
            name = f"part-{n:05d}"
            _write_shard(chunk, staging, name, folder)
            written.counts.append((name, len(chunk)))
        written.published = verify is None or verify(staging, written)
        if written.published:
            storage.publish_folder(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return written


def _write_shard(chunk: list, staging: Path, name: str, folder: Path) -> None:
    """One shard and its count; a failed write (a full disk, a quota) is an OSError naming the
    shard, its folder and the staging folder it was written in (the folder keeps its shards)."""
    path = staging / f"{name}.pkl"
    try:
        with open(path, "wb") as out:
            pickle.dump(chunk, out, protocol=PROTOCOL)
        path = path.with_suffix(".count")
        path.write_text(str(len(chunk)), encoding="ascii")
    except OSError as exc:
        raise OSError(exc.errno, f"{exc.strerror or exc} while writing VILA shard {path} (the staging folder of "
                      f"{folder}, which keeps the shards it had)") from exc


def folder_problems(folder: str | Path) -> list[str]:
    """What would mislead VILA's loader: files that are not a ``.pkl``/``.count`` pair, a count that
    is not a bare integer, or one that differs from its shard's length (every shard is read)."""
    folder = storage.at(folder)
    names = sorted(path.name for path in folder.iterdir())
    problems = [f"{name}: not a .pkl/.count file" for name in names if not name.endswith((".pkl", ".count"))]
    stems = {name.rsplit(".", 1)[0] for name in names if name.endswith((".pkl", ".count"))}
    for stem in sorted(stems):
        pkl, count = folder / f"{stem}.pkl", folder / f"{stem}.count"
        if not pkl.is_file() or not count.is_file():
            problems.append(f"{stem}: " + (".pkl without its .count" if pkl.is_file() else ".count without its .pkl"))
            continue
        text = count.read_text(encoding="ascii", errors="replace")
        if not text.isdigit():
            problems.append(f"{count.name}: {text[:20]!r} is not a bare integer")
        elif int(text) != len(read_shard(pkl)):
            problems.append(f"{count.name}: says {int(text)}, the shard holds {len(read_shard(pkl))}")
    return problems


def load_as_vila(folder: str | Path, rank: int = 0, world_size: int = 1) -> tuple[int, list]:
    """What VILA's shard loader gives rank ``rank`` of ``world_size`` (its rules, our safe reader):
    shards = files // 2, lengths from the sorted ``.count`` files, shards split evenly across ranks
    with the leftover shards dropped; returns (the dataset length VILA reports, this rank's records)."""
    folder = Path(folder)
    n_shards = len(os.listdir(folder)) // 2
    counts = sorted(f for f in os.listdir(folder) if f.endswith(".count"))[:n_shards]
    n_samples = [int((folder / f).read_text().strip()) for f in counts]
    per_rank = n_shards // world_size
    rank_samples = [sum(n_samples[i * per_rank:(i + 1) * per_rank]) for i in range(world_size)]
    records: list = []
    for name in counts[rank * per_rank:(rank + 1) * per_rank]:
        records.extend(read_shard(folder / name.replace(".count", ".pkl")))
    return min(rank_samples) * world_size, records
