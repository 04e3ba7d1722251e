"""File helpers shared by every layer: atomic writes, temporary names that say whose they are, file
modes, checksums.

Everything mmassets publishes (assets, exports, the sample's raw root, model folders) gets the mode an
ordinary new file or folder gets (``0o666`` / ``0o777`` less the umask), although it is written under
a private temporary name first (``mkstemp``/``mkdtemp`` make them ``0o600``/``0o700``).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def _read_umask() -> int:
    """The process's umask. ``os.umask`` can only be read by setting it, for the whole process, so it
    is read from ``/proc/self/status`` where Linux shows it; elsewhere it is set and restored once, at
    import, before any thread of mmassets writes a file."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii", errors="replace") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK
"""The mode of a published file: what ``open()`` would have made."""
DIR_MODE = 0o777 & ~UMASK
"""The mode of a published folder: what ``mkdir`` would have made."""


def _machine() -> str:
    """8 hex digits naming this host and pid namespace: the scope in which a pid means one process."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return hashlib.sha256(f"{socket.gethostname()}:{namespace}".encode()).hexdigest()[:8]


MACHINE = _machine()
OWNED_TEMP = re.compile(r"\.[^/]*[.-](?P<pid>\d{1,10})@(?P<machine>[0-9a-f]{8})\.[a-z0-9_]{8}(?:\.[a-z]+)?")
"""A temporary name of ours: ``.<name>.<pid>@<machine>.<random>.tmp`` (a file being written or a
folder being staged; ``temp_dir`` takes other suffixes too), ``.<name>.<pid>@<machine>.<random>.old``
(a folder being deleted) or ``.tmp-sample-<pid>@<machine>.<random>`` (the sample being generated):
the process that made it is named in it."""


def owned_prefix(stem: str) -> str:
    """``stem`` followed by this process's ``<pid>@<machine>.``: the prefix of its temporary names."""
    return f"{stem}{os.getpid()}@{MACHINE}."


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):  # another user's process; a pid no process can have
        return True
    return True


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Delete the temporary files and folders that dead processes left in ``folder`` (a build killed
    while writing); return them.

    The rule: a temporary name says which process made it (``OWNED_TEMP``: its pid and this machine's
    host and pid namespace). Only its maker writes, renames or deletes it, so once that process is gone
    nobody will: an entry of this machine whose pid is no running process is a leftover. An entry of a
    running process (a concurrent build) or of another machine is never touched; a dead process's pid
    that a new process reuses only delays the cleanup until that one ends.
    """
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = OWNED_TEMP.fullmatch(entry.name)
            if match is None or match["machine"] != MACHINE or _running(int(match["pid"])):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


_CLEANED: set[str] = set()
_CLEANED_LOCK = threading.Lock()


def _clean_once(folder: Path) -> None:
    """``remove_leftovers`` in ``folder`` the first time this process writes there (once: an image folder may be large)."""
    key = os.path.abspath(folder)
    with _CLEANED_LOCK:
        if key in _CLEANED:
            return
        _CLEANED.add(key)
    remove_leftovers(folder)


def temp_dir(parent: str | Path, name: str, suffix: str = ".tmp") -> Path:
    """A new folder in ``parent`` for staging ``name`` (``.<name>.<pid>@<machine>.<random><suffix>``),
    with the mode of an ordinary folder; leftovers of dead processes in ``parent`` are removed first."""
    parent = Path(parent)
    _clean_once(parent)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=owned_prefix(f".{name}."), suffix=suffix))
    os.chmod(staging, DIR_MODE)
    return staging


PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
"""What a name that becomes part of a path (language code, partition key, benchmark or recipe
name) may be: letters, digits, ``_``, ``-`` and ``.``, not starting with a dot or dash."""


def safe_name(name: object, what: str) -> str:
    """``name`` if it is a plain name, safe as one path component; else a ValueError naming ``what``."""
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} {name!r} is not a plain name (letters, digits, '_', '-', '.'; "
                         "no '/', '..' or leading dot): it would become a path")
    return name


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, else delete it.

    Readers never see a half-written file: either the old file or the complete new one. The new file
    has the mode of an ordinary new file (``FILE_MODE``). A write that fails (a full disk, a read-only
    folder) raises an OSError naming ``path``. Leftovers of dead processes beside it are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=owned_prefix(f".{path.name}."), suffix=".tmp")
    except OSError as exc:  # a read-only folder, a full disk: name the file, not its temporary name
        exc.filename = str(path)
        raise
    tmp_path = Path(tmp)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
        yield tmp_path
        _test_stall(path)
        os.replace(tmp_path, path)
    except OSError as exc:
        tmp_path.unlink(missing_ok=True)
        if exc.filename in (str(tmp_path), str(path)) or (exc.filename is None and exc.errno is not None):
            exc.filename = str(path)  # a failed write of this file: Python and pyarrow name none
        raise  # an error about another file (an input the body read) as it is
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _test_stall(path: Path) -> None:
    """Test hook: when ``MMASSETS_TEST_STALL_BEFORE_RENAME`` is a glob that ``path`` matches, say so on
    stderr and wait for ever, the new content written but not renamed into place (the fault tests
    kill the build at this moment)."""
    pattern = os.environ.get("MMASSETS_TEST_STALL_BEFORE_RENAME")
    if pattern and fnmatch.fnmatch(str(path), pattern):
        print(f"MMASSETS_TEST_STALL_BEFORE_RENAME: stalled before renaming {path}", file=sys.stderr, flush=True)
        threading.Event().wait()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` published whole at ``path``: a local file (``atomic_path``) or, for an object store's
    UPath (``storage.location``), an object (``storage.publishing``)."""
    if not isinstance(path, (str, Path)):
        from mmassets.storage import publish_bytes

        publish_bytes(path, data)
        return path
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def move_dir_into_place(staging: Path, target: Path, is_complete: Callable[[Path], bool]) -> None:
    """Atomically rename the finished folder ``staging`` to ``target``, coping with builders racing
    us: a ``target`` that ``is_complete`` (another builder finished first) is kept, anything else
    there is moved aside and deleted. The caller removes ``staging`` if it is still there. The folder
    gets the mode of an ordinary new folder (``DIR_MODE``)."""
    os.chmod(staging, DIR_MODE)  # a published folder, not a private one (mkdtemp's 0o700)
    for _ in range(5):
        try:
            os.rename(staging, target)
            return
        except OSError:
            if not target.exists():
                raise
        if is_complete(target):
            return
        discard(target)
    raise RuntimeError(f"could not move {staging} into {target}")


def discard(path: Path) -> None:
    """Move ``path`` out of the way (atomically) and delete it; a vanished path is fine."""
    trash = temp_dir(path.parent, path.name, ".old")
    try:
        os.replace(path, trash / "old")
    except FileNotFoundError:
        pass
    finally:
        shutil.rmtree(trash, ignore_errors=True)
