"""A translation memory that cannot be used as asked fails at once naming its file (issue 30): a
corrupt file, a folder, a read-only file (used read-only while it holds every string asked for)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from mmassets.settings import SettingError, Settings
from mmassets.translation.backend import GenerationSettings
from mmassets.translation.memory import Entry, MemoryKey, MemoryUnavailable, TranslationMemory

KEY = MemoryKey("model@main", "eng_Latn", "deu_Latn", "{}")
REPO = Path(__file__).resolve().parents[2]


def _garbage(path: Path) -> Path:
    path.write_bytes(b"this is no database\n" + bytes(range(256)) * 20)
    return path


def test_a_corrupt_memory_fails_at_once_naming_the_file(tmp_path):
    path = _garbage(tmp_path / "tm.sqlite")
    started = time.monotonic()
    with pytest.raises(MemoryUnavailable) as caught:
        TranslationMemory(path)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert str(path) in message and "not a usable SQLite database" in message and "\n" not in message
    assert not caught.value.transient  # a step does not retry it


def test_a_memory_damaged_after_opening_names_the_file(tmp_path):
    path = tmp_path / "tm.sqlite"
    memory = TranslationMemory(path)
    memory.put_many(KEY, [("A dog.", Entry("Ein Hund.", None))])
    memory.close()
    with path.open("r+b") as handle:  # keep the header, wreck the pages after it
        handle.seek(100)
        handle.write(b"\xff" * (path.stat().st_size - 100))
    for wal in (tmp_path / "tm.sqlite-wal", tmp_path / "tm.sqlite-shm"):
        wal.unlink(missing_ok=True)
    with pytest.raises(MemoryUnavailable, match=str(path)):
        memory = TranslationMemory(path)
        memory.get_many(KEY, ["A dog."])


def test_a_folder_is_no_memory(tmp_path):
    with pytest.raises(MemoryUnavailable, match="is a folder"):
        TranslationMemory(tmp_path)


def _settings(tmp_path: Path, memory: str) -> Settings:
    return Settings.from_env({"MMASSETS_DATA_DIR": str(tmp_path / "data"), "MMASSETS_TRANSLATION_MEMORY": memory})


def test_the_settings_check_refuses_a_corrupt_memory_and_a_folder(tmp_path):
    corrupt = _garbage(tmp_path / "tm.sqlite")
    for location, why in ((corrupt, "is not a SQLite database"), (tmp_path, "is a folder")):
        with pytest.raises(SettingError) as caught:
            _settings(tmp_path, str(location))
        message = str(caught.value)
        assert message.startswith("MMASSETS_TRANSLATION_MEMORY=") and str(location) in message and why in message
        assert "\n" not in message
    good = TranslationMemory(tmp_path / "good.sqlite")
    good.close()
    assert _settings(tmp_path, str(tmp_path / "good.sqlite")).translation_memory == str(tmp_path / "good.sqlite")
    assert _settings(tmp_path, str(tmp_path / "new" / "tm.sqlite")).translation_memory  # made when missing


def test_a_build_with_a_corrupt_memory_fails_its_step_at_once_naming_the_file(tmp_path):
    """The memory at its default place in the data folder (no setting to check): the translation
    step fails without retries (no 30 s of back-off) and the build says which file."""
    sys.path.insert(0, str(REPO / "mmassets_tests"))
    from builds import run_build
    from mmassets.languages import LanguageTable

    rows = [r for r in json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
            if r["code"] in ("en", "de")]
    (tmp_path / "two.json").write_text(json.dumps(rows))
    data = tmp_path / "data"
    data.mkdir()
    memory = _garbage(data / "translation_memory.sqlite")
    started = time.monotonic()
    code, out = run_build(data, "--select", '+key:"translated/coco_captions"',
                          env={"MMASSETS_LANGUAGES": str(tmp_path / "two.json")})
    assert code != 0
    assert str(memory) in out and "not a usable SQLite database" in out, out[-3000:]
    assert "retry" not in out.lower(), out[-3000:]
    assert time.monotonic() - started < 120


READ_ONLY_CHECK = textwrap.dedent("""
    import sys
    from mmassets.settings import Settings
    from mmassets.translation.engine import TranslationEngine
    from mmassets.translation.memory import MemoryUnavailable, TranslationMemory

    path = sys.argv[1]

    class Upper:
        identity, device, calls = "upper", "cpu", []
        def lang_token_id(self, code): return 1
        def token_lengths(self, texts, src): return [len(t) for t in texts]
        def translate_batch(self, texts, src, tgt, settings):
            self.calls.append(list(texts))
            return [t.upper() for t in texts]

    assert Settings.from_env({"MMASSETS_DATA_DIR": sys.argv[2], "MMASSETS_TRANSLATION_MEMORY": path}
                             ).translation_memory == path  # accepted: it is used read-only
    memory = TranslationMemory(path)
    assert memory.read_only
    backend = Upper()
    engine = TranslationEngine(backend, memory, check=lambda s, t, g: None)
    assert engine.translate(["a dog", "a cat", "a dog"], "eng_Latn", "deu_Latn").texts == ["A DOG", "A CAT", "A DOG"]
    assert backend.calls == []  # every string came from the memory
    try:
        engine.translate(["a dog", "a bird"], "eng_Latn", "deu_Latn")
    except MemoryUnavailable as exc:
        assert path in str(exc) and "read-only" in str(exc) and "1 string" in str(exc), exc
    else:
        raise AssertionError("a read-only memory lacking a string was written to")
    assert backend.calls == []  # refused before the model ran
    print("ok")
""")


def test_a_read_only_memory_is_used_read_only_and_refuses_what_it_lacks():
    """A memory file that cannot be written (here: owned by another user, its folder too) serves every
    string it holds; asked for one it lacks, it fails before the model runs, naming the file. As root
    (who writes read-only files anyway), on a read-only mount of its folder."""
    folder = Path(tempfile.mkdtemp(prefix="mmassets-ro-memory-"))
    data = Path(tempfile.mkdtemp(prefix="mmassets-ro-data-"))
    data.chmod(0o777)
    path = folder / "tm.sqlite"
    try:
        memory = TranslationMemory(path)
        key = MemoryKey("upper", "eng_Latn", "deu_Latn", GenerationSettings().key())  # the script's engine's
        memory.put_many(key, [("a dog", Entry("A DOG", None)), ("a cat", Entry("A CAT", None))])
        memory.close()
        path.chmod(0o444)
        folder.chmod(0o555)
        command = [sys.executable, "-c", READ_ONLY_CHECK, str(path), str(data / "data")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        if os.geteuid() == 0:  # root writes read-only files: mount the folder read-only, as a read-only disk is
            view = Path(tempfile.mkdtemp(prefix="mmassets-ro-view-"))
            script = (f"mount --bind {folder} {view} && mount -o remount,bind,ro {view} && "
                      f"exec {sys.executable} -c \"$0\" {view / path.name} {data / 'data'}")
            result = subprocess.run(["unshare", "--mount", "sh", "-c", script, READ_ONLY_CHECK], capture_output=True,
                                    text=True, env=env, timeout=120)
            view.rmdir()
            if result.returncode != 0 and "mount" in result.stderr and "ok" not in result.stdout:
                pytest.skip(f"cannot mount a folder read-only here: {result.stderr.strip()[-300:]}")
        else:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
        shutil.rmtree(folder)
        shutil.rmtree(data)

