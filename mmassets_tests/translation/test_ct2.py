"""Tests for the CTranslate2 backend, run against the offline tiny model.

Only run where the ``ct2`` extra (ctranslate2) is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# huggingface_hub reads this once, at import: set it before anything imports transformers.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ctranslate2 = pytest.importorskip("ctranslate2")

from mmassets.translation import ct2 as ct2_module  # noqa: E402
from mmassets.translation.backend import RETRY_SETTINGS, GenerationSettings  # noqa: E402
from mmassets.translation.ct2 import (  # noqa: E402
    MARKER_FILE,
    CT2Model,
    clear_cache,
    conversion_dir,
    convert,
    load_cached,
    read_marker,
    resolve_compute_type,
    resolve_device,
    source_identity,
)
from mmassets.translation.nllb import local_model_identity  # noqa: E402
from mmassets.translation.tiny_model import TINY_MODEL_NAME, build_tiny_nllb  # noqa: E402

CODES = ["eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn"]
TEXTS = [
    "A dog running on the beach.",
    "A cat.",
    "Two children playing with a blue ball near the quiet river in the morning.",
    "Ein Hund läuft am Strand.",
    "A man",
    "the yellow flowers",
]
EOS_ID = 2


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread() -> Iterator[None]:
    """Run torch (the reference model, and the converter) on one thread: on a busy small
    machine a thread pool spin-waits and a 0.2 s test can take 20 s."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("nllb") / "tiny-nllb", CODES, seed=0)


@pytest.fixture(scope="module")
def eos_dir(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, edited so that it ends its outputs early (the random one never does):
    the end token's embedding (tied to the output layer) becomes a slightly scaled copy of the
    token the model most often generates for German, so it wins wherever that token would."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    target = tmp_path_factory.mktemp("nllb") / "tiny-eos"
    shutil.copytree(tiny_dir, target)
    model = AutoModelForSeq2SeqLM.from_pretrained(str(tiny_dir)).eval()
    tokens = _hf_generate(model, _tokenizer(tiny_dir), TEXTS, "eng_Latn", "deu_Latn", 0, 12)
    content = [t for row in tokens for t in row if t > 3 and t < 900]
    favourite = max(set(content), key=content.count)
    with torch.no_grad():
        embeddings = model.get_input_embeddings().weight
        embeddings[EOS_ID] = embeddings[favourite] * 1.02
    model.save_pretrained(str(target))
    return target


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("ct2cache"))


@pytest.fixture(scope="module")
def fp32(tiny_dir: Path, cache_dir: str) -> CT2Model:
    return CT2Model.load(str(tiny_dir), device="cpu", compute_type="float32", cache_dir=cache_dir, intra_threads=1)


@pytest.fixture(scope="module")
def int8(tiny_dir: Path, cache_dir: str) -> CT2Model:
    return CT2Model.load(str(tiny_dir), device="cpu", compute_type="int8", cache_dir=cache_dir, intra_threads=1)


@pytest.fixture(scope="module")
def hf_model(tiny_dir: Path) -> Any:
    from transformers import AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM.from_pretrained(str(tiny_dir)).eval()


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


def _hf_generate(
    model: Any, tokenizer: Any, texts: list[str], src: str, tgt: str, min_new: int, max_new: int, **kwargs: Any
) -> list[list[int]]:
    """Greedy ``generate`` with ``(min_new, max_new)`` tokens after the forced language token;
    returns the ids after the language token, up to (not including) the end token."""
    import torch

    tokenizer.src_lang = src
    batch = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=256)
    with torch.inference_mode():
        generated = model.generate(
            **batch,
            forced_bos_token_id=tokenizer.convert_tokens_to_ids(tgt),
            num_beams=1,
            do_sample=False,
            max_new_tokens=max_new + 1,
            min_new_tokens=min_new + 1 if min_new else None,
            max_length=None,
            **kwargs,
        )
    rows = []
    for row in generated.tolist():
        assert row[0] == EOS_ID and row[1] == tokenizer.convert_tokens_to_ids(tgt)
        body = row[2:]
        rows.append(body[: body.index(EOS_ID)] if EOS_ID in body else body)
    return rows


def _bounds(model: CT2Model, texts: list[str], src: str,
            settings: GenerationSettings) -> tuple[int, int, list[int]]:
    """The batch's (min, max) new tokens and each string's own bound (``GenerationSettings.bounds``)."""
    return settings.bounds(model.token_lengths(texts, src))


def _cut(rows: list[list[int]], own: list[int]) -> list[list[int]]:
    """Each row cut to its string's own bound, as the backends cut a batch's outputs."""
    return [row[:cap] for row, cap in zip(rows, own)]


def _ids(model: CT2Model, rows: list[list[str]]) -> list[list[int]]:
    return [list(model.tokenizer.convert_tokens_to_ids(tokens)) for tokens in rows]


def _has_repeated_ngram(ids: list[int], n: int) -> bool:
    grams = [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]
    return len(grams) != len(set(grams))


def test_module_imports_without_heavy_dependencies() -> None:
    code = (
        "import sys, mmassets.translation.ct2; "
        "loaded = [m for m in ('torch', 'transformers', 'ctranslate2') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_resolve_device_and_compute_type() -> None:
    expected = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    assert resolve_device("auto") == (expected, 0)
    assert resolve_device("cpu") == ("cpu", 0)
    assert resolve_device("cuda:1") == ("cuda", 1)
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    assert resolve_compute_type("auto", "cpu") == "int8"
    assert resolve_compute_type("fp32", "cpu") == "float32"
    assert resolve_compute_type("int8_float32", "cpu") == "int8_float32"
    with pytest.raises(ValueError, match="compute_type"):
        resolve_compute_type("int4", "cpu")


def test_conversion_is_cached(tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = CT2Model.load(str(tiny_dir), device="cpu", compute_type="int8", cache_dir=str(tmp_path), intra_threads=1)
    folder = first.model_dir
    assert folder.parent == tmp_path / "ct2"
    assert folder.name.startswith("tiny-nllb-") and folder.name.endswith("-int8")
    assert {"model.bin", "config.json", MARKER_FILE} <= {p.name for p in folder.iterdir()}
    marker = read_marker(folder)
    assert marker is not None
    assert marker["source"] == local_model_identity(tiny_dir) and marker["quantization"] == "int8"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    inode = folder.stat().st_ino

    class NoConversion:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError("converted again")

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", NoConversion)
    second = CT2Model.load(str(tiny_dir), device="cpu", compute_type="int8", cache_dir=str(tmp_path), intra_threads=1)
    assert second.model_dir == folder
    assert folder.stat().st_ino == inode
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert second.translate_batch(TEXTS, "eng_Latn", "deu_Latn", GenerationSettings()) == first.translate_batch(
        TEXTS, "eng_Latn", "deu_Latn", GenerationSettings()
    )
    assert sorted(p.name for p in (tmp_path / "ct2").iterdir()) == [folder.name]  # no staging leftovers


def test_failed_conversion_leaves_nothing_behind(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ctranslate2.converters.TransformersConverter

    class Crashing(real):  # type: ignore[misc, valid-type]
        def convert(self, output_dir: str, *args: Any, **kwargs: Any) -> str:
            Path(output_dir, "model.bin").write_bytes(b"half a model")
            raise RuntimeError("disk full")

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", Crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        convert(str(tiny_dir), quantization="int8", cache_dir=str(tmp_path))
    assert list((tmp_path / "ct2").iterdir()) == []

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", real)
    folder = convert(str(tiny_dir), quantization="int8", cache_dir=str(tmp_path))
    assert read_marker(folder) is not None
    assert sorted(p.name for p in (tmp_path / "ct2").iterdir()) == [folder.name]


def test_incomplete_folder_is_replaced(tiny_dir: Path, tmp_path: Path) -> None:
    target = conversion_dir(str(tiny_dir), source_identity(str(tiny_dir)), "int8", str(tmp_path))
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"leftover from a crash")
    assert convert(str(tiny_dir), quantization="int8", cache_dir=str(tmp_path)) == target
    assert read_marker(target) is not None
    assert (target / "model.bin").stat().st_size > 100
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_concurrent_conversions_agree(tiny_dir: Path, tmp_path: Path) -> None:
    """Threads of one process converting at once (serialised: transformers loading is not
    thread-safe). Other processes racing are covered by the next test."""
    results: list[Path] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(convert(str(tiny_dir), quantization="float32", cache_dir=str(tmp_path)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(results)) == 1
    assert read_marker(results[0]) is not None
    assert sorted(p.name for p in results[0].parent.iterdir()) == [results[0].name]


def test_losing_a_conversion_race_keeps_the_winner(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = convert(str(tiny_dir), quantization="int8", cache_dir=str(tmp_path / "winner"))
    target = conversion_dir(str(tiny_dir), source_identity(str(tiny_dir)), "int8", str(tmp_path / "race"))
    real = ctranslate2.converters.TransformersConverter

    class SlowerThanAnother(real):  # type: ignore[misc, valid-type]
        def convert(self, output_dir: str, *args: Any, **kwargs: Any) -> str:
            result = super().convert(output_dir, *args, **kwargs)
            shutil.copytree(winner, target)  # another process finished first
            return result

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", SlowerThanAnother)
    assert convert(str(tiny_dir), quantization="int8", cache_dir=str(tmp_path / "race")) == target
    assert (target / MARKER_FILE).read_bytes() == (winner / MARKER_FILE).read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_identity(fp32: CT2Model, int8: CT2Model, tiny_dir: Path, tmp_path: Path, cache_dir: str) -> None:
    source = local_model_identity(tiny_dir)
    assert fp32.identity == f"ct2:float32:{source}"
    assert int8.identity.startswith("ct2:int8") and int8.identity.endswith(source)
    assert int8.identity != fp32.identity
    assert int8.model_dir != fp32.model_dir
    other_dir = build_tiny_nllb(tmp_path / "tiny-nllb", CODES, seed=1)
    other = CT2Model.load(str(other_dir), device="cpu", compute_type="float32", cache_dir=cache_dir, intra_threads=1)
    assert other.identity != fp32.identity
    assert other.model_dir != fp32.model_dir  # same folder name, other weights: another conversion
    assert source_identity("facebook/nllb-200-distilled-600M") == "facebook/nllb-200-distilled-600M@main"
    assert source_identity("facebook/nllb-200-distilled-600M", "abc123") == "facebook/nllb-200-distilled-600M@abc123"
    hub_dir = conversion_dir("facebook/nllb-200-distilled-600M", "x", "int8", cache_dir)
    assert hub_dir.name.startswith("facebook--nllb-200-distilled-600M-") and hub_dir.name.endswith("-int8")


def test_placeholder_name_is_rejected(cache_dir: str) -> None:
    with pytest.raises(ValueError, match="build_tiny_nllb"):
        CT2Model.load(TINY_MODEL_NAME, device="cpu", cache_dir=cache_dir)


def test_unknown_language_code(fp32: CT2Model) -> None:
    assert fp32.lang_token_id("deu_Latn") == fp32.tokenizer.convert_tokens_to_ids("deu_Latn")
    with pytest.raises(ValueError, match="zul_Latn"):
        fp32.lang_token_id("zul_Latn")
    with pytest.raises(ValueError, match="zul_Latn"):
        fp32.translate_batch(["A dog."], "eng_Latn", "zul_Latn", GenerationSettings())
    with pytest.raises(ValueError, match="xxx_Latn"):
        fp32.translate_batch(["A dog."], "xxx_Latn", "deu_Latn", GenerationSettings())
    with pytest.raises(ValueError, match="xxx_Latn"):
        fp32.token_lengths(["A dog."], "xxx_Latn")


def test_token_lengths_match_the_tokenizer(fp32: CT2Model, tiny_dir: Path) -> None:
    tokenizer = _tokenizer(tiny_dir)
    long_text = " ".join(["a dog running on the beach"] * 80)
    texts = [*TEXTS, "", long_text]
    for src in ("eng_Latn", "deu_Latn"):
        tokenizer.src_lang = src
        expected = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
        assert fp32.token_lengths(texts, src) == expected
    assert fp32.max_source_tokens == 256
    assert fp32.token_lengths([long_text], "eng_Latn") == [256]
    assert fp32.token_lengths([], "eng_Latn") == []


def test_translate_batch_shape_order_and_determinism(fp32: CT2Model, int8: CT2Model) -> None:
    settings = GenerationSettings()
    for model in (fp32, int8):
        outputs = model.translate_batch(TEXTS, "eng_Latn", "fra_Latn", settings)
        assert len(outputs) == len(TEXTS)
        assert len(set(outputs)) > 1  # (into French, the random model's outputs differ)
        assert all(isinstance(text, str) and text == text.strip() and text for text in outputs)
        assert model.translate_batch(TEXTS, "eng_Latn", "fra_Latn", settings) == outputs
        assert model.translate_batch(TEXTS[::-1], "eng_Latn", "fra_Latn", settings) == outputs[::-1]
        assert model.translate_batch([], "eng_Latn", "fra_Latn", settings) == []
    german = fp32.translate_batch(TEXTS, "eng_Latn", "deu_Latn", settings)
    assert german != fp32.translate_batch(TEXTS, "eng_Latn", "fra_Latn", settings)


@pytest.mark.parametrize("tgt", ["deu_Latn", "fra_Latn", "spa_Latn"])
@pytest.mark.parametrize(
    "settings",
    [
        GenerationSettings(),
        GenerationSettings(max_length_ratio=0.5, length_margin=2),
        GenerationSettings(fixed_length_ratio=1.5),
        GenerationSettings(no_repeat_ngram_size=2),
        GenerationSettings(**RETRY_SETTINGS),
    ],
    ids=["default", "short", "fixed", "no-repeat-2", "retry"],
)
def test_float32_matches_transformers_greedy(
    fp32: CT2Model, hf_model: Any, tiny_dir: Path, tgt: str, settings: GenerationSettings
) -> None:
    min_new, max_new, own = _bounds(fp32, TEXTS, "eng_Latn", settings)
    tokenizer = _tokenizer(tiny_dir)
    expected = _cut(_hf_generate(
        hf_model, tokenizer, TEXTS, "eng_Latn", tgt, min_new, max_new,
        repetition_penalty=settings.repetition_penalty,
        no_repeat_ngram_size=settings.no_repeat_ngram_size,
    ), own)
    assert _ids(fp32, fp32.translate_tokens(TEXTS, "eng_Latn", tgt, settings)) == expected
    decoded = [tokenizer.decode(ids, skip_special_tokens=True).strip() for ids in expected]
    assert fp32.translate_batch(TEXTS, "eng_Latn", tgt, settings) == decoded


@pytest.mark.parametrize(
    "settings",
    [GenerationSettings(), GenerationSettings(fixed_length_ratio=1.0), GenerationSettings(length_margin=0, max_length_ratio=1.0)],
    ids=["default", "fixed", "tight"],
)
def test_length_bounds_match_transformers_when_the_model_ends_early(
    eos_dir: Path, cache_dir: str, settings: GenerationSettings
) -> None:
    from transformers import AutoModelForSeq2SeqLM

    model = CT2Model.load(str(eos_dir), device="cpu", compute_type="float32", cache_dir=cache_dir, intra_threads=1)
    reference = AutoModelForSeq2SeqLM.from_pretrained(str(eos_dir)).eval()
    min_new, max_new, own = _bounds(model, TEXTS, "eng_Latn", settings)
    expected = _cut(_hf_generate(reference, _tokenizer(eos_dir), TEXTS, "eng_Latn", "deu_Latn", min_new, max_new),
                    own)
    got = _ids(model, model.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", settings))
    assert got == expected
    if settings.fixed_length_ratio is None and settings.length_margin:
        assert min(len(row) for row in got) < max_new  # this model does end early


def test_min_bound_holds_back_the_end(eos_dir: Path, cache_dir: str) -> None:
    model = CT2Model.load(str(eos_dir), device="cpu", compute_type="float32", cache_dir=cache_dir, intra_threads=1)
    free = model.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", GenerationSettings())
    assert min(len(row) for row in free) < 4
    fixed = GenerationSettings(fixed_length_ratio=0.5)
    _, _, own = _bounds(model, TEXTS, "eng_Latn", fixed)
    assert any(len(row) < n for row, n in zip(free, own))  # some string would end before its fixed length
    rows = model.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", fixed)
    assert [len(row) for row in rows] == own  # each string's own fixed length


@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
def test_fixed_length_ratio_generates_exactly_the_bound(fp32: CT2Model, int8: CT2Model, ratio: float) -> None:
    settings = GenerationSettings(fixed_length_ratio=ratio)
    for texts in (TEXTS, TEXTS[:2], ["A cat."]):
        n, m, own = _bounds(fp32, texts, "eng_Latn", settings)
        assert n == m == max(own)
        for model in (fp32, int8):
            rows = model.translate_tokens(texts, "eng_Latn", "fra_Latn", settings)
            assert [len(row) for row in rows] == own  # each string's own fixed length
            assert all("</s>" not in row for row in rows)


def test_repetition_settings_are_passed(fp32: CT2Model, int8: CT2Model) -> None:
    plain = fp32.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", GenerationSettings())
    assert any(_has_repeated_ngram(["deu_Latn", *row], 2) for row in plain)  # the random model loops
    for model in (fp32, int8):
        for size in (2, 3):
            rows = model.translate_tokens(
                TEXTS, "eng_Latn", "deu_Latn", GenerationSettings(no_repeat_ngram_size=size)
            )
            assert not any(_has_repeated_ngram(["deu_Latn", *row], size) for row in rows)
    penalised = fp32.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", GenerationSettings(repetition_penalty=1.3))
    assert penalised != plain


def test_beam_search_runs(fp32: CT2Model) -> None:
    settings = GenerationSettings(num_beams=4, fixed_length_ratio=1.0)
    rows = fp32.translate_tokens(TEXTS, "eng_Latn", "deu_Latn", settings)
    _, _, own = _bounds(fp32, TEXTS, "eng_Latn", settings)
    assert [len(row) for row in rows] == own
    assert len(fp32.translate_batch(TEXTS, "eng_Latn", "deu_Latn", GenerationSettings(num_beams=4))) == len(TEXTS)


def test_matches_the_transformers_backend(fp32: CT2Model, tiny_dir: Path) -> None:
    from mmassets.translation.nllb import NLLBModel

    if not hasattr(NLLBModel, "translate_batch"):
        pytest.skip("NLLBModel.translate_batch not available")
    reference = NLLBModel.load(str(tiny_dir), device="cpu", dtype="float32")
    for settings in (GenerationSettings(), GenerationSettings(fixed_length_ratio=1.0), GenerationSettings(**RETRY_SETTINGS)):
        assert fp32.token_lengths(TEXTS, "eng_Latn") == reference.token_lengths(TEXTS, "eng_Latn")
        assert fp32.translate_batch(TEXTS, "eng_Latn", "deu_Latn", settings) == reference.translate_batch(
            TEXTS, "eng_Latn", "deu_Latn", settings
        )


def test_load_cached(tiny_dir: Path, cache_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    try:
        monkeypatch.chdir(tiny_dir.parent)
        a = load_cached(str(tiny_dir), device="cpu", compute_type="int8", cache_dir=cache_dir, intra_threads=1)
        b = load_cached(tiny_dir.name, device="cpu", compute_type="int8", cache_dir=cache_dir, intra_threads=1)
        assert a is b
        if ctranslate2.get_cuda_device_count() == 0:
            assert load_cached(str(tiny_dir), compute_type="auto", cache_dir=cache_dir, intra_threads=1) is a
        c = load_cached(str(tiny_dir), device="cpu", compute_type="float32", cache_dir=cache_dir, intra_threads=1)
        assert c is not a
        clear_cache()
        assert load_cached(str(tiny_dir), device="cpu", compute_type="int8", cache_dir=cache_dir, intra_threads=1) is not a
    finally:
        clear_cache()


def test_default_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ct2_module.default_cache_root() == tmp_path / ".cache" / "mmassets"
    assert conversion_dir("facebook/nllb-200-distilled-600M", "x", "int8").parent == tmp_path / ".cache" / "mmassets" / "ct2"


def test_unavailable_hub_model_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="translator model 'facebook/nllb-200-distilled-600M' could not be fetched: .*"
                                      "MMASSETS_TRANSLATOR_MODEL=/path/to/a/local/folder"):
        CT2Model.load("facebook/nllb-200-distilled-600M", device="cpu", cache_dir=str(tmp_path))
    assert not (tmp_path / "ct2").exists() or list((tmp_path / "ct2").iterdir()) == []
