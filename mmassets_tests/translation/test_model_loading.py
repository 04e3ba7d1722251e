"""The translator without its checkpoint. A hub name that is not in the Hugging Face cache fails at
once — offline (HF_HUB_OFFLINE=1) or with the hub unreachable — in one line that names the model,
says it could not be fetched and which setting points the translator at a local folder; that
setting, followed, translates with no network; a hub name in the cache loads from it without a
request.

The hub is made unreachable for real: HF_ENDPOINT names a port on 127.0.0.1 where nothing listens
(as fast to refuse as a machine without network, and the same on a machine with one). The child
processes read HF_HUB_OFFLINE, HF_HOME and HF_ENDPOINT at import, as huggingface_hub does (this
project's tests set HF_HUB_OFFLINE=1 for themselves)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builds import finish, start_build
from mmassets.translation.nllb import ModelUnavailable, NLLBModel, resolve_checkpoint
from mmassets.translation.tiny_model import build_tiny_nllb

DEFAULT = "facebook/nllb-200-distilled-1.3B"
CACHED = "mmassets-tests/tiny-nllb-in-cache"
HINT = ("To translate with a checkpoint on this machine, set MMASSETS_TRANSLATOR_MODEL=/path/to/a/local/folder (a "
        "folder with the checkpoint's config.json, tokenizer and weights, as save_pretrained writes them)")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("model") / "tiny-nllb", ["eng_Latn", "deu_Latn", "fra_Latn"])


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory, tiny_dir) -> Path:
    """A Hugging Face home whose hub cache holds the tiny model as the hub name CACHED, laid out as
    huggingface_hub lays out a download (refs/main → snapshots/<commit>/)."""
    home = tmp_path_factory.mktemp("hf")
    repo = home / "hub" / f"models--{CACHED.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(tiny_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return home


def _hub(hf_home: Path, offline: str, **extra: str) -> dict[str, str]:
    """The Hugging Face settings of a child: ``hf_home``, offline or not, the hub unreachable."""
    return {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": offline, "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
            **extra}


def _env(hf_home: Path, offline: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MMASSETS_", "HF_", "DAGSTER_"))}
    return {**env, **_hub(hf_home, offline, **extra)}


@pytest.mark.parametrize("offline", ["1", "0"])
def test_a_build_whose_translator_cannot_be_fetched_says_so_in_one_line(hf_home, tmp_path, offline):
    """The default production translator, not in the cache: the build fails the translation step
    with the model, why and what to do — no hub retries, nothing about `local_files_only`."""
    raw = tmp_path / "raw"
    raw.mkdir()
    started = time.monotonic()
    process = start_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw), "--select",
                          'key:"translated/caption_instructions"', env=_hub(hf_home, offline))
    out = finish(process, timeout=300)
    seconds = time.monotonic() - started
    assert process.returncode == 1, out
    failure = next(line for line in out.splitlines() if line.startswith("  translated/caption_instructions: "))
    why = (f"it is not in the Hugging Face cache ({hf_home}/hub) and HF_HUB_OFFLINE=1 forbids downloading it."
           if offline == "1" else "it is not in the Hugging Face cache and http://127.0.0.1:")
    assert failure.startswith(f"  translated/caption_instructions: ModelUnavailable: translator model {DEFAULT!r} "
                              f"could not be fetched: {why}"), failure
    assert failure.endswith(HINT), failure
    if offline == "0":
        assert "cannot be reached (ConnectError: " in failure and "): is this machine offline? To " in failure
    assert "Retrying in" not in out and "local_files_only" not in out and "Traceback" not in out, out
    assert f"translated__caption_instructions failed: ModelUnavailable: translator model {DEFAULT!r}" in out
    print(f"build failing on an unfetchable translator (HF_HUB_OFFLINE={offline}): {seconds:.1f} s")


LOAD = """
import json, sys, time
from mmassets.definitions import build_definitions
from mmassets.settings import Settings

translator = build_definitions(Settings.from_env()).resources["translator"]
started = time.monotonic()
try:
    done = translator.translate(["a dog runs on the beach", "two children play"], "eng_Latn", "deu_Latn")
    result = {"texts": done.texts, "flags": done.flags, "identity": translator.identity}
except Exception as exc:
    result = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps({**result, "seconds": time.monotonic() - started}))
"""


def _load(tmp_path: Path, env: dict[str, str]) -> dict:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    env = {**env, "MMASSETS_PROFILE": "production", "MMASSETS_RAW_DIR": str(raw),
           "MMASSETS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("offline", ["1", "0"])
def test_the_message_fails_fast_and_the_folder_it_asks_for_translates(hf_home, tiny_dir, tmp_path, offline):
    """What the message says to do, done: MMASSETS_TRANSLATOR_MODEL=<a folder with config.json>
    translates, with the hub as unreachable as before."""
    failed = _load(tmp_path, _env(hf_home, offline))
    assert failed["error"].startswith(f"ModelUnavailable: translator model {DEFAULT!r} could not be fetched: ")
    assert failed["error"].endswith(HINT) and "\n" not in failed["error"]
    assert failed["seconds"] < 10, failed  # before: 25 s of hub retries without HF_HUB_OFFLINE

    followed = _load(tmp_path, _env(hf_home, offline, MMASSETS_TRANSLATOR_MODEL=str(tiny_dir)))
    assert "error" not in followed, followed
    # translated: each string has its output, or the quality gate's reason for dropping it (the tiny
    # model's output is noise); the identity is the folder's content hash
    assert [t is not None or bool(f) for t, f in zip(followed["texts"], followed["flags"])] == [True, True], followed
    assert f":{tiny_dir.name}:" in followed["identity"] and followed["seconds"] < 60, followed


def test_a_hub_name_in_the_cache_loads_from_it_without_a_request(hf_home, tmp_path):
    """Not offline, the hub unreachable: a cached hub name translates at once, under its hub
    identity (the translation memory's key is the name and revision, as before)."""
    loaded = _load(tmp_path, _env(hf_home, "0", MMASSETS_TRANSLATOR_MODEL=CACHED))
    assert "error" not in loaded, loaded
    assert loaded["identity"].endswith(f"{CACHED}@main") and len(loaded["texts"]) == 2, loaded
    assert loaded["seconds"] < 10, loaded


def test_a_folder_that_is_no_checkpoint_or_is_not_there_is_named(tmp_path):
    with pytest.raises(ModelUnavailable, match=f"translator model '{tmp_path}' could not be fetched: the folder "
                                               f"{tmp_path} holds no config.json .* MMASSETS_TRANSLATOR_MODEL="):
        resolve_checkpoint(str(tmp_path))
    with pytest.raises(ModelUnavailable, match="there is no such folder"):
        NLLBModel.load(str(tmp_path / "nllb"), device="cpu")


def test_the_transformers_backend_fails_as_fast_offline(tmp_path):
    """This process is offline (HF_HUB_OFFLINE=1): nothing is asked of the hub."""
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match=f"translator model {DEFAULT!r} could not be fetched: it is not in the "
                                               f"Hugging Face cache \\({tmp_path}\\) and HF_HUB_OFFLINE=1"):
        NLLBModel.load(DEFAULT, device="cpu", cache_dir=str(tmp_path))
    assert time.monotonic() - started < 10
