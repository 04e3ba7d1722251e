"""Tests for the offline tiny NLLB model builder."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

# huggingface_hub reads this once, at import: set it before anything imports transformers.
# Without it a hub lookup takes ~48 s to fail on a machine with no internet.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from mmassets.translation.tiny_model import (  # noqa: E402
    MARKER_FILE,
    TINY_MODEL_NAME,
    build_tiny_nllb,
    caption_corpus,
    read_marker,
)

CODES = ["eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "zho_Hans"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny model build shared by the read-only tests in this module."""
    return build_tiny_nllb(tmp_path_factory.mktemp("tiny") / "model", CODES, seed=0)


def _file_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_corpus_is_deterministic_and_nontrivial() -> None:
    corpus = caption_corpus()
    assert corpus == caption_corpus()
    assert len(corpus) >= 300
    assert "A dog running on the beach." in corpus
    assert any("ä" in line for line in corpus)


def test_builds_and_loads_back_through_auto_classes(tiny_dir: Path) -> None:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_dir)

    assert type(tokenizer).__name__ == "NllbTokenizer"
    assert type(model).__name__ == "M2M100ForConditionalGeneration"
    assert model.config.d_model == 32
    assert model.config.encoder_layers == model.config.decoder_layers == 2
    assert model.config.vocab_size == len(tokenizer)
    assert 800 <= len(tokenizer) <= 1100
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert tokenizer.unk_token_id == 3
    assert model.config.decoder_start_token_id == tokenizer.eos_token_id
    assert tokenizer.model_max_length == 256
    # Real words of the corpus are single pieces, not characters.
    assert tokenizer.tokenize("A dog") == ["▁A", "▁dog"]
    assert read_marker(tiny_dir) == {
        "builder_version": 1,
        "model_name": TINY_MODEL_NAME,
        "nllb_codes": CODES,
        "seed": 0,
    }


def test_every_language_code_is_a_real_token(tiny_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    ids = [tokenizer.convert_tokens_to_ids(code) for code in CODES]

    assert tokenizer.unk_token_id not in ids
    assert len(set(ids)) == len(CODES)
    assert tokenizer.convert_ids_to_tokens(ids) == CODES
    assert tokenizer.convert_tokens_to_ids("kor_Hang") == tokenizer.unk_token_id
    # The source language token is prefixed, as in NLLB.
    tokenizer.src_lang = "deu_Latn"
    encoded = tokenizer("Ein Hund")["input_ids"]
    assert encoded[0] == tokenizer.convert_tokens_to_ids("deu_Latn")
    assert encoded[-1] == tokenizer.eos_token_id


def test_second_build_is_a_no_op(tiny_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in tiny_dir.iterdir()}

    assert build_tiny_nllb(tiny_dir, CODES, seed=0) == tiny_dir

    after = {p.name: p.stat().st_mtime_ns for p in tiny_dir.iterdir()}
    assert after == before
    assert sorted(p.name for p in tiny_dir.parent.iterdir()) == ["model"]


def test_same_seed_gives_byte_identical_files(tiny_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_nllb(tmp_path / "again", CODES, seed=0)
    other_seed = build_tiny_nllb(tmp_path / "seed1", CODES, seed=1)

    assert _file_bytes(again) == _file_bytes(tiny_dir)
    assert (again / "model.safetensors").read_bytes() == (tiny_dir / "model.safetensors").read_bytes()
    assert (other_seed / "model.safetensors").read_bytes() != (tiny_dir / "model.safetensors").read_bytes()
    assert (other_seed / "tokenizer.json").read_bytes() == (tiny_dir / "tokenizer.json").read_bytes()


def test_other_parameters_replace_an_existing_build(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    target = tmp_path / "model"
    build_tiny_nllb(target, ["eng_Latn", "deu_Latn"])
    build_tiny_nllb(target, ["eng_Latn", "ita_Latn"])

    assert read_marker(target)["nllb_codes"] == ["eng_Latn", "ita_Latn"]
    tokenizer = AutoTokenizer.from_pretrained(target)
    assert tokenizer.convert_tokens_to_ids("ita_Latn") != tokenizer.unk_token_id
    assert tokenizer.convert_tokens_to_ids("deu_Latn") == tokenizer.unk_token_id
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_incomplete_folder_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text("{half written")

    build_tiny_nllb(target, ["eng_Latn"])

    assert json.loads((target / "config.json").read_text())["model_type"] == "m2m_100"
    assert (target / MARKER_FILE).is_file()


def test_concurrent_builders_agree(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: build_tiny_nllb(target, CODES, seed=3), range(4)))

    assert results == [target] * 4
    assert read_marker(target)["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    reference = build_tiny_nllb(tmp_path / "reference", CODES, seed=3)
    assert _file_bytes(target) == _file_bytes(reference)


def test_source_language_defaults_to_first_code_without_english(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    folder = build_tiny_nllb(tmp_path / "model", ["fra_Latn", "deu_Latn", "fra_Latn"])

    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert read_marker(folder)["nllb_codes"] == ["fra_Latn", "deu_Latn"]
    assert tokenizer("Un chien")["input_ids"][0] == tokenizer.convert_tokens_to_ids("fra_Latn")


@pytest.mark.parametrize("codes", [[], ["german"], ["eng_latn"], "eng_Latn"])
def test_rejects_bad_codes(tmp_path: Path, codes: list[str]) -> None:
    with pytest.raises((ValueError, TypeError)):
        build_tiny_nllb(tmp_path / "model", codes)
    assert not (tmp_path / "model").exists()
