"""Faults injected into real builds (issue 18): `mmassets build` killed with SIGKILL at chosen moments,
two builds at once on one data folder, a full disk, a read-only exports folder.

After a kill the same build is run again; it must finish without waiting on the dead run, write
exports byte-identical to an uninterrupted build's, translate nothing twice, leave no temporary file
and no run in flight, and every SQLite file must pass ``PRAGMA integrity_check``. The builds are
small (two languages; COCO captions into a mixture, or the web captions with their image
downloads), and one uninterrupted build of both is the reference. The kill during translation is
in test_build_sample.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from builds import finish
from mmassets.files import DIR_MODE, FILE_MODE, OWNED_TEMP, remove_leftovers
from mmassets.languages import LanguageTable
from mmassets.runner import instance_config

RECIPE = """\
name: coco
description: COCO captions, for the fault tests.
stages:
  - name: train
    formats: [mblip, llava]
    entries:
      - asset: train/coco_captions
"""
COCO = '+key:"mixture/coco"'
"""The raw COCO file to its mixture: raw, english, translated (two assets), train and mixture assets."""
WEB = '+key:"train/web_captions"'
"""The web captions, with the download of their images from the sample's local server."""
EXPORTED = {COCO: ("train/coco_captions.json", "mixtures/coco/"),
            WEB: ("train/web_captions.json", "web_captions/")}
"""What each selection exports (paths under exports/, or their beginnings)."""
STALL = "MMASSETS_TEST_STALL_BEFORE_RENAME"
IN_FLIGHT = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
             dg.DagsterRunStatus.CANCELING]


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[tuple[str, ...], dict[str, str]]:
    """The builds' arguments (but --select) and environment: a recipe folder and a two-language table."""
    folder = tmp_path_factory.mktemp("faults_setup")
    (folder / "recipes").mkdir()
    (folder / "recipes" / "coco.yaml").write_text(RECIPE)
    rows = [r for r in json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
            if r["code"] in ("en", "de")]
    (folder / "two.json").write_text(json.dumps(rows))
    return ("--recipes-dir", str(folder / "recipes")), {"MMASSETS_LANGUAGES": str(folder / "two.json")}


def start(data_dir: Path, args: tuple[str, ...], env: dict[str, str], prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    """`mmassets build` as a child process like builds.start_build, optionally run through ``prefix``
    (a command that execs the rest); its output is read by a thread into
    ``process.lines`` (a queue) so that the pipe never fills."""
    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(instance_config(home))
    child_env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    child_env.update(DAGSTER_HOME=str(home), PYTHONUNBUFFERED="1", **env)
    process = subprocess.Popen([*prefix, sys.executable, "-m", "mmassets.cli", "build", "--data-dir", str(data_dir), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env,
                               start_new_session=True)
    process.lines = queue.Queue()
    process.seen = []

    def read() -> None:
        for line in process.stdout:
            process.lines.put(line)
        process.lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return process


def output(process: subprocess.Popen, timeout: float) -> str:
    """Everything ``process`` printed, once it exits (killed past ``timeout``: an AssertionError)."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError("the build did not end:\n" + _drain(process)[-3000:]) from None
    return _drain(process)


def _drain(process: subprocess.Popen) -> str:
    while (line := process.lines.get(timeout=30)) is not None:
        process.seen.append(line)
    process.lines.put(None)
    return "".join(process.seen)


def kill_when(process: subprocess.Popen, ready, timeout: float = 120) -> None:
    """SIGKILL ``process`` (its whole group) as soon as ``ready(line)`` holds for a printed line or
    ``ready(None)`` for none (polled every few milliseconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = process.lines.get(timeout=0.005)
        except queue.Empty:
            line = None
        if line is not None:
            process.seen.append(line)
        if ready(line):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None and process.lines.empty():
            raise AssertionError(f"the build ended (exit {process.returncode}) before the moment to kill it:\n"
                                 + "".join(process.seen)[-3000:])
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    raise AssertionError("the moment to kill the build never came:\n" + "".join(process.seen)[-3000:])


def exports(data_dir: Path) -> dict[str, str]:
    """sha256 of every file under exports/ (links: their target), the data folder's path made neutral
    (image-roots files and links name absolute folders)."""
    root, found = data_dir / "exports", {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = "link " + os.readlink(path).replace(str(data_dir), "<data>")
            elif path.is_file():
                found[rel] = hashlib.sha256(path.read_bytes().replace(str(data_dir).encode(), b"<data>")).hexdigest()
    return found


def temporary_names(data_dir: Path) -> list[str]:
    """Temporary files and folders anywhere under ``data_dir``."""
    return [os.path.join(folder, name) for folder, dirs, files in os.walk(data_dir) for name in dirs + files
            if name.endswith((".tmp", ".old")) or name.startswith(".tmp-sample-") or OWNED_TEMP.fullmatch(name)]


def model_translated(data_dir: Path) -> dict[str, int]:
    """Strings the model translated for each translated asset, summed over all its materializations."""
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    totals = {}
    for key in instance.get_asset_keys():
        if key.path[0] == "translated":
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=10_000).records
            totals[key.to_user_string()] = sum(r.asset_materialization.metadata["translation"].value[
                "model-translated strings"] for r in records if "translation" in r.asset_materialization.metadata)
    return totals


def expected(reference, select: str) -> tuple[dict[str, str], dict[str, int]]:
    """The reference's export checksums and model-translated strings, of what ``select`` builds."""
    _, found, translated = reference
    keys = {COCO: ("translated/caption_instructions", "translated/coco_captions"),
            WEB: ("translated/web_caption_instructions", "translated/web_captions")}[select]
    return ({rel: digest for rel, digest in found.items() if rel.startswith(EXPORTED[select])},
            {key: translated[key] for key in keys})


def assert_sound(data_dir: Path) -> None:
    """No temporary file, no run in flight, every SQLite file intact."""
    assert not temporary_names(data_dir)
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    assert not instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))
    databases = [p for p in data_dir.rglob("*") if p.suffix in (".db", ".sqlite") and p.is_file()]
    assert any(p.name == "runs.db" for p in databases), databases
    for path in databases:
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path


@pytest.fixture(scope="module")
def reference(setup, tmp_path_factory) -> tuple[Path, dict[str, str], dict[str, int]]:
    """An uninterrupted build of both selections: its folder, export checksums, model-translated strings."""
    args, env = setup
    data_dir = tmp_path_factory.mktemp("faults_reference") / "data"
    build = start(data_dir, (*args, "--select", f"{COCO} or {WEB}"), env)
    out = output(build, 300)
    assert build.returncode == 0, out
    assert_sound(data_dir)
    found = exports(data_dir)
    assert {"train/coco_captions.json", "train/web_captions.json", "mixtures/coco/train.mblip.json",
            "mixtures/coco/train.llava.json", "mixtures/coco/train.image_roots.json"} <= set(found), found
    translated = model_translated(data_dir)
    assert all(translated.values()) and len(translated) == 4, translated
    published = [*(data_dir / "exports").rglob("*.json"), *(data_dir / "assets").rglob("*.parquet")]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in published} == {oct(FILE_MODE)}  # not mkstemp's 0o600
    for folder in (data_dir / "sample" / "raw", data_dir / "exports" / "mixtures" / "coco" / "train.images"):
        assert stat.S_IMODE(folder.stat().st_mode) == DIR_MODE, folder  # not mkdtemp's 0o700
    return data_dir, found, translated


def _sample_being_generated(data_dir: Path):
    def ready(_line) -> bool:
        return any(p.name.startswith(".tmp-sample-") for p in (data_dir / "sample").glob(".*"))
    return ready


MOMENTS = {  # moment → (selection, env of the killed build, when to kill it given its data folder, what it leaves)
    "generating the sample": (COCO, {}, _sample_being_generated, "sample/.tmp-sample-*"),
    "reading raw files": (COCO, {STALL: "*/assets/raw/coco_karpathy.parquet"}, None,
                          "assets/raw/.coco_karpathy.parquet.*.tmp"),
    "downloading images": (WEB, {STALL: "*/sample/raw/blip/images/*"}, None, "sample/raw/blip/images/.*.tmp"),
    "writing exports and the mixture": (COCO, {STALL: "*/exports/mixtures/coco/train.llava.json"}, None,
                                        "exports/mixtures/coco/.train.llava.json.*.tmp"),
}
"""The moments of a stalled write (``MMASSETS_TEST_STALL_BEFORE_RENAME``, a hook of files.atomic_path)
are caught exactly: the file is written, not yet renamed into place."""


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_build_killed_at_any_moment_is_finished_identically_by_the_next(moment, setup, reference, tmp_path):
    """kill -9 at ``moment``; the same build then finishes, without waiting on the dead run, with
    exports byte-identical to an uninterrupted build's, nothing translated twice, no temporary file
    and no run left in flight; the SQLite files are intact."""
    select, extra, when, leftover = MOMENTS[moment]
    args, env = (*setup[0], "--select", select), setup[1]
    data_dir = tmp_path / "data"
    killed = start(data_dir, args, {**env, **extra})
    kill_when(killed, when(data_dir) if when else (lambda line: line is not None and line.startswith(STALL)))
    assert list(data_dir.glob(leftover)), f"the kill left {leftover}: {temporary_names(data_dir)}"
    if extra:  # killed inside a run: the run is left STARTED
        instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
        assert [r.status for r in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT))] == [dg.DagsterRunStatus.STARTED]

    rebuild = start(data_dir, args, env)
    out = output(rebuild, 300)
    assert rebuild.returncode == 0, out
    if extra:
        assert re.search(rf"recovered 1 run\(s\) left in flight by a process that is gone: \w+ \(pid {killed.pid}, "
                         r"STARTED\); marked failed", out), out
    assert (exports(data_dir), model_translated(data_dir)) == expected(reference, select)  # the killed
    # build's translations were kept (its materializations count), none was done again
    assert_sound(data_dir)


def test_two_builds_at_once_on_one_data_folder_both_finish_identically(setup, reference, tmp_path):
    """Two builds started together in a new folder: both generate the sample, share the gpu pool and
    the translation memory, and finish with the exports of a single build."""
    args, env = (*setup[0], "--select", COCO), setup[1]
    data_dir = tmp_path / "data"
    first, second = start(data_dir, args, env), start(data_dir, args, env)
    outs = [output(first, 400), output(second, 400)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert (exports(data_dir), model_translated(data_dir)) == expected(reference, COCO)
    assert_sound(data_dir)


MODES = """
import os, stat, sys
os.umask(0o027)  # before mmassets.files reads it
from pathlib import Path
from mmassets.files import atomic_write_bytes, move_dir_into_place, temp_dir
from mmassets.sample import ensure_sample_raw
root = Path(sys.argv[1])
ensure_sample_raw(root / "sample" / "raw")
atomic_write_bytes(root / "exports" / "x.json", b"[]")
staging = temp_dir(root / "exports", "x.vila")
(staging / "registry.json").write_text("{}")
move_dir_into_place(staging, root / "exports" / "x.vila", lambda _: False)
for rel in ("sample/raw", "sample/raw/coco", "sample/raw/coco/dataset_coco.json", "exports/x.json", "exports/x.vila"):
    print(rel, oct(stat.S_IMODE((root / rel).stat().st_mode)))
"""


def test_published_files_and_folders_have_the_modes_the_umask_gives(tmp_path):
    """Under umask 027 (a group-shared machine) the sample root, an export and a published folder are
    group-readable: 0o640 files and 0o750 folders, not mkstemp's 0o600 and mkdtemp's 0o700."""
    made = subprocess.run([sys.executable, "-c", MODES, str(tmp_path)], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    assert dict(line.split() for line in made.stdout.splitlines()) == {
        "sample/raw": "0o750", "sample/raw/coco": "0o750", "sample/raw/coco/dataset_coco.json": "0o640",
        "exports/x.json": "0o640", "exports/x.vila": "0o750"}


RACE = """
import sys, time
from pathlib import Path
from mmassets.runner import instance_for
print("ready", flush=True)
while not Path(sys.argv[2]).exists():
    time.sleep(0.001)
instance_for(Path(sys.argv[1])).get_runs(limit=1)
"""


def test_builds_opening_a_new_instance_at_once_all_open_it_and_leave_it_loadable(tmp_path):
    """What two builds started together in a new data folder do first, four times at once: every one
    opens the instance (runner.instance_for) and it loads afterwards. Dagster creates a new
    instance's SQLite files unlocked: without run_guard.open_instance's lock some fail, and the
    schema version may be stamped twice, after which the instance never loads again."""
    go, data_dir = tmp_path / "go", tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    racers = [subprocess.Popen([sys.executable, "-c", RACE, str(data_dir), str(go)], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(4)]
    assert [racer.stdout.readline() for racer in racers] == ["ready\n"] * 4
    go.touch()
    outs = [finish(racer, 120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * 4, "\n".join(out[-1500:] for out in outs)
    assert dg.DagsterInstance.from_config(str(data_dir / "dagster_home")).get_runs() == []


LEFTOVERS = """
import os, sys, tempfile
from mmassets.files import owned_prefix
folder = sys.argv[1]
tempfile.mkstemp(dir=folder, prefix=owned_prefix(".a.json."), suffix=".tmp")
tempfile.mkdtemp(dir=folder, prefix=owned_prefix(".b.vila."), suffix=".tmp")
tempfile.mkdtemp(dir=folder, prefix=owned_prefix(".tmp-sample-"))
print("made", flush=True)
sys.stdin.read()  # lives until the test closes its stdin
"""


def test_leftovers_of_a_dead_process_are_removed_and_a_running_ones_kept(tmp_path):
    """files.remove_leftovers: the temporary names of a process that has ended go, those of one that
    still runs (a concurrent build) and names of no process stay."""
    def make() -> subprocess.Popen:
        maker = subprocess.Popen([sys.executable, "-c", LEFTOVERS, str(tmp_path)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert maker.stdout.readline() == "made\n"
        return maker

    def owners(paths) -> list[int]:
        return sorted(int(OWNED_TEMP.fullmatch(Path(p).name)["pid"]) for p in paths)

    dead, alive = make(), make()
    dead.communicate("")
    (tmp_path / ".c.json.abc.tmp").write_text("a temporary name of no process")
    (tmp_path / "data.json").write_text("[]")
    try:
        assert owners(remove_leftovers(tmp_path)) == [dead.pid] * 3
        assert owners(p for p in os.listdir(tmp_path) if OWNED_TEMP.fullmatch(p)) == [alive.pid] * 3
    finally:
        alive.communicate("")
    assert owners(remove_leftovers(tmp_path)) == [alive.pid] * 3  # once it has ended, its three too
    assert sorted(os.listdir(tmp_path)) == [".c.json.abc.tmp", "data.json"]


# --- a full disk, a read-only exports folder --------------------------------------------------------

def _rewrite_english_captions(raw: Path, caption) -> None:
    """Give every image of xm3600/captions.jsonl the English caption ``caption(index)``."""
    path = raw / "xm3600" / "captions.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for index, line in enumerate(lines):
        text = caption(index)
        line["en"] = {"caption": [text], "caption/tokenized": [text], "caption/tokenized/lowercase": [text.lower()]}
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")


FILE_LIMIT = 4 << 20
"""The most bytes a file may hold in the "full disk" build: more than any SQLite file of the
instance, less than the English export of the inflated captions."""


FULL_DISK = (sys.executable, "-c", ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, "
                                     f"({FILE_LIMIT}, {FILE_LIMIT})); os.execv(sys.argv[1], sys.argv[1:])"))
"""A command prefix: the rest runs with files limited to FILE_LIMIT bytes; a write past it fails
with EFBIG (Python ignores SIGXFSZ, which would otherwise kill it)."""


def test_a_full_disk_fails_naming_the_file_and_keeps_the_previous_exports(xm3600_built):
    raw, data_dir, args = xm3600_built
    before = exports(data_dir)
    _rewrite_english_captions(raw, lambda i: f"A photo number {i} " + "of a very long caption " * 80_000)
    build = start(data_dir, args, {}, prefix=FULL_DISK)
    out = output(build, 180)
    assert build.returncode == 1, out
    references = data_dir / "exports" / "eval" / "xm3600" / "test" / "en.coco.json"  # the English captions
    assert f"eval/xm3600: OSError: [Errno 27] File too large: '{references}'" in out, out
    assert exports(data_dir) == before
    assert_sound(data_dir)


def _read_only(folder: Path) -> tuple[tuple[str, ...], object]:
    """How to run a build to which ``folder`` is read-only: (command prefix, cleanup). Not root: the
    folders' write bits cleared. Root, whom modes do not stop: a read-only bind mount in a user and
    mount namespace of the child's own (unshare), or a skip where there is none."""
    if os.geteuid() != 0:
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink())]
        for path in folders:
            path.chmod(0o555)
        return (), lambda: [path.chmod(DIR_MODE) for path in folders]
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", script, str(folder), "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("running as root, whom folder modes do not stop, and without user namespaces for a "
                    f"read-only mount: {probe.stderr.decode(errors='replace').strip()}")
    return ("unshare", "-rm", "sh", "-c", script, str(folder)), lambda: None


def test_a_read_only_exports_folder_fails_naming_the_file_and_keeps_the_previous_exports(xm3600_built):
    raw, data_dir, args = xm3600_built
    before = exports(data_dir)
    _rewrite_english_captions(raw, lambda i: f"A different caption of image {i}")  # new exports would differ
    prefix, restore = _read_only(data_dir / "exports")
    try:
        build = start(data_dir, args, {}, prefix=prefix)
        out = output(build, 180)
    finally:
        restore()
    assert build.returncode == 1, out
    folder = re.escape(str(data_dir / "exports" / "eval" / "xm3600"))
    assert re.search(r"eval/xm3600: (OSError: \[Errno 30\] Read-only file system|PermissionError: \[Errno 13\] "
                     rf"Permission denied): '{folder}/\w+/\w+\.json'", out), out
    assert exports(data_dir) == before
    assert_sound(data_dir)
