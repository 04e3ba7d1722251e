"""Tests for the plain NLLB translation backend, run against the offline tiny model."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# huggingface_hub reads this once, at import: set it before anything imports transformers.
# Without it a hub lookup takes ~48 s to fail on a machine with no internet.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from mmassets.translation.backend import GenerationSettings  # noqa: E402
from mmassets.translation.nllb import (  # noqa: E402
    NLLBModel,
    clear_cache,
    load_cached,
    local_model_identity,
    resolve_device,
    resolve_dtype,
)
from mmassets.translation.tiny_model import TINY_MODEL_NAME, build_tiny_nllb  # noqa: E402

CODES = ["eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn"]
TEXTS = [
    "A dog running on the beach.",
    "A cat.",
    "Two children playing with a blue ball near the quiet river in the morning.",
    "Ein Hund läuft am Strand.",
    "A man",
]

def bound(text_tokens: int) -> GenerationSettings:
    """Settings whose output bound is exactly ``text_tokens`` tokens of text, whatever the source."""
    return GenerationSettings(max_length_ratio=0.0, length_margin=text_tokens)


@pytest.fixture(scope="module", autouse=True)

def _single_torch_thread() -> Iterator[None]:
    """Run the tiny model on one thread: on a busy small machine torch's thread pool
    spin-waits and a 0.2 s test can take 20 s."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("nllb") / "tiny-nllb", CODES, seed=0)


@pytest.fixture(scope="module")
def nllb(tiny_dir: Path) -> NLLBModel:
    return NLLBModel.load(str(tiny_dir), device="cpu")


def test_modules_import_without_torch_or_transformers() -> None:
    code = (
        "import sys, mmassets.translation, mmassets.translation.nllb, "
        "mmassets.translation.tiny_model; "
        "loaded = [m for m in ('torch', 'transformers', 'sentencepiece') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_resolve_device_and_dtype() -> None:
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"
    assert resolve_dtype("auto", "cpu") is torch.float32
    assert resolve_dtype("auto", "cuda") is torch.bfloat16
    assert resolve_dtype("float16", "cpu") is torch.float16
    assert resolve_dtype("bfloat16", "cpu") is torch.bfloat16
    assert resolve_dtype("float32", "cuda") is torch.float32
    with pytest.raises(ValueError, match="int8"):
        resolve_dtype("int8", "cpu")


def test_load_puts_model_in_eval_mode_on_device(nllb: NLLBModel) -> None:
    import torch

    assert not nllb.model.training
    assert nllb.device == "cpu"
    assert nllb.dtype is torch.float32
    assert {p.dtype for p in nllb.model.parameters()} == {torch.float32}
    assert nllb.max_source_tokens == 256


def test_load_in_bfloat16(tiny_dir: Path) -> None:
    import torch

    model = NLLBModel.load(str(tiny_dir), device="cpu", dtype="bfloat16")
    assert {p.dtype for p in model.model.parameters()} == {torch.bfloat16}
    assert len(model.translate(TEXTS[:2], "eng_Latn", "deu_Latn")) == 2


def test_sentinel_name_is_not_sent_to_the_hub() -> None:
    with pytest.raises(ValueError, match="build_tiny_nllb"):
        NLLBModel.load(TINY_MODEL_NAME, device="cpu")


def test_identity_of_a_local_folder_is_a_content_hash(
    nllb: NLLBModel, tiny_dir: Path, tmp_path: Path
) -> None:
    kind, name, digest = nllb.identity.split(":")
    assert (kind, name) == ("tiny", "tiny-nllb")
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert nllb.identity == local_model_identity(tiny_dir)

    copy = Path(shutil.copytree(tiny_dir, tmp_path / "tiny-nllb"))
    assert local_model_identity(copy) == nllb.identity
    other = build_tiny_nllb(tmp_path / "seed1" / "tiny-nllb", CODES, seed=1)
    assert local_model_identity(other) != nllb.identity

    (copy / "mmassets_tiny.json").unlink()
    assert local_model_identity(copy) == f"local:tiny-nllb:{digest}"


def test_identity_of_a_hub_name_names_the_revision() -> None:
    def identity(revision: str | None) -> str:
        unloaded = NLLBModel(
            None,
            None,
            name="facebook/nllb-200-distilled-600M",
            revision=revision,
            device="cpu",
            dtype=None,  # type: ignore[arg-type]
        )
        return unloaded.identity

    assert identity(None) == "facebook/nllb-200-distilled-600M@main"
    assert identity("abc123") == "facebook/nllb-200-distilled-600M@abc123"


def test_lang_token_id(nllb: NLLBModel) -> None:
    ids = [nllb.lang_token_id(code) for code in CODES]
    assert nllb.tokenizer.unk_token_id not in ids
    assert nllb.tokenizer.convert_ids_to_tokens(ids) == CODES
    with pytest.raises(ValueError, match="kor_Hang.*not an NLLB language code"):
        nllb.lang_token_id("kor_Hang")


def test_unknown_languages_are_rejected_before_translating(nllb: NLLBModel) -> None:
    with pytest.raises(ValueError, match="xxx_Latn"):
        nllb.translate(TEXTS, "eng_Latn", "xxx_Latn")
    with pytest.raises(ValueError, match="yyy_Latn"):
        nllb.translate(TEXTS, "yyy_Latn", "deu_Latn")


def test_translate_returns_one_string_per_input_deterministically(nllb: NLLBModel) -> None:
    first = nllb.translate(TEXTS, "eng_Latn", "deu_Latn", batch_size=2)
    second = nllb.translate(TEXTS, "eng_Latn", "deu_Latn", batch_size=2)

    assert first == second
    assert len(first) == len(TEXTS)
    assert all(isinstance(text, str) and text == text.strip() and text for text in first)
    assert len(set(first)) > 1  # the outputs depend on the inputs
    assert nllb.translate(TEXTS, "eng_Latn", "fra_Latn", batch_size=2) != first


def test_translate_keeps_input_order(nllb: NLLBModel) -> None:
    one_by_one = [
        nllb.translate([text], "eng_Latn", "deu_Latn", settings=bound(12))[0] for text in TEXTS
    ]
    batched = nllb.translate(TEXTS, "eng_Latn", "deu_Latn", batch_size=3, settings=bound(12))
    reversed_batched = nllb.translate(
        TEXTS[::-1], "eng_Latn", "deu_Latn", batch_size=3, settings=bound(12)
    )

    assert batched == one_by_one
    assert reversed_batched == one_by_one[::-1]


def test_translate_matches_direct_generate_with_forced_target_token(nllb: NLLBModel) -> None:
    import torch

    tokenizer, model = nllb.tokenizer, nllb.model
    tokenizer.src_lang = "eng_Latn"
    batch = tokenizer(TEXTS, return_tensors="pt", padding=True)
    target_id = tokenizer.convert_tokens_to_ids("spa_Latn")
    with torch.inference_mode():
        generated = model.generate(
            **batch, forced_bos_token_id=target_id, max_new_tokens=8, do_sample=False
        )

    # Decoder start (eos), then the forced target language token, then the text.
    assert generated[:, 0].tolist() == [tokenizer.eos_token_id] * len(TEXTS)
    assert generated[:, 1].tolist() == [target_id] * len(TEXTS)
    expected = [t.strip() for t in tokenizer.batch_decode(generated, skip_special_tokens=True)]
    assert nllb.translate(TEXTS, "eng_Latn", "spa_Latn", settings=bound(7)) == expected
    assert all("spa_Latn" not in text for text in expected)


def test_source_language_token_is_prefixed(nllb: NLLBModel) -> None:
    batch = nllb.encode(["Ein Hund", "A dog running"], "deu_Latn")
    first_tokens = batch["input_ids"][:, 0].tolist()
    assert first_tokens == [nllb.lang_token_id("deu_Latn")] * 2


def test_explicit_max_new_tokens_bounds_output(nllb: NLLBModel) -> None:
    for limit in (1, 3, 7):
        for text in nllb.translate(TEXTS, "eng_Latn", "deu_Latn", settings=GenerationSettings(max_length_ratio=0, length_margin=limit)):
            # The bound counts text tokens: the forced language token comes on top.
            assert len(nllb.tokenizer(text, add_special_tokens=False)["input_ids"]) <= limit


def test_default_bound_follows_source_length(nllb: NLLBModel) -> None:
    import torch

    calls: list[int] = []
    original = nllb.model.generate

    def spy(**kwargs: object) -> torch.Tensor:
        calls.append(int(kwargs["max_new_tokens"]))  # type: ignore[call-overload]
        return original(**kwargs)

    nllb.model.generate = spy
    try:
        nllb.translate(["A cat.", TEXTS[2]], "eng_Latn", "deu_Latn", batch_size=1)
        nllb.translate(["A cat."], "eng_Latn", "deu_Latn", settings=GenerationSettings(max_length_ratio=1.0, length_margin=0))
    finally:
        del nllb.model.generate

    lengths = [len(nllb.encode([text], "eng_Latn")["input_ids"][0]) for text in ("A cat.", TEXTS[2])]
    # +1 each: the forced target-language token is generated on top of the text tokens
    assert calls == [2 * lengths[0] + 10 + 1, 2 * lengths[1] + 10 + 1, lengths[0] + 1]


def test_progress_is_reported_after_each_batch(nllb: NLLBModel) -> None:
    seen: list[tuple[int, int]] = []
    nllb.translate(TEXTS, "eng_Latn", "deu_Latn", batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_empty_input_gives_empty_output(nllb: NLLBModel) -> None:
    seen: list[tuple[int, int]] = []
    assert nllb.translate([], "eng_Latn", "deu_Latn", progress=lambda d, t: seen.append((d, t))) == []
    assert seen == []


def test_bad_arguments(nllb: NLLBModel) -> None:
    with pytest.raises(TypeError):
        nllb.translate("A dog", "eng_Latn", "deu_Latn")
    with pytest.raises(ValueError, match="batch_size"):
        nllb.translate(TEXTS, "eng_Latn", "deu_Latn", batch_size=0)


def test_long_inputs_are_truncated(nllb: NLLBModel) -> None:
    long_text = " ".join(["A dog running on the beach."] * 200)
    batch = nllb.encode([long_text], "eng_Latn")
    assert batch["input_ids"].shape[1] == nllb.max_source_tokens
    assert len(nllb.translate([long_text], "eng_Latn", "deu_Latn", settings=bound(4))) == 1


def test_load_cached_loads_once_per_settings(tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    try:
        first = load_cached(str(tiny_dir), device="cpu")
        monkeypatch.chdir(tiny_dir.parent)
        assert load_cached(tiny_dir.name, device="cpu", dtype="float32") is first
        assert load_cached(str(tiny_dir), device="cpu", dtype="bfloat16") is not first
    finally:
        clear_cache()


def test_checkpoint_max_length_neither_wins_nor_warns(tiny_dir: Path) -> None:
    model = NLLBModel.load(str(tiny_dir), device="cpu")
    model.model.generation_config.max_length = 200  # as in the real NLLB checkpoints
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    transformers_logger = logging.getLogger("transformers")  # does not propagate to root
    transformers_logger.addHandler(handler)
    try:
        outputs = model.translate(TEXTS, "eng_Latn", "deu_Latn", settings=bound(2))
    finally:
        transformers_logger.removeHandler(handler)

    assert all(len(model.tokenizer(t, add_special_tokens=False)["input_ids"]) <= 2 for t in outputs)
    assert not [r for r in records if "max_length" in r.getMessage()]
