"""A tiny, randomly initialised NLLB-architecture model built offline.

Tests and local development need something that loads and generates exactly like
``facebook/nllb-200-*`` (same tokenizer class, same model class, same language-code
tokens) without downloading gigabytes. :func:`build_tiny_nllb` trains a small
SentencePiece BPE model on a built-in caption-like corpus and pairs it with a
two-layer ``M2M100ForConditionalGeneration``. Its translations are gibberish, but
deterministic: the same seed and language codes always give byte-identical files.

Importing this module does not import torch or transformers.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mmassets.files import move_dir_into_place

TINY_MODEL_NAME = "mmassets-tiny-nllb"
"""Sentinel model name meaning "the locally built tiny model" rather than a hub name."""

MARKER_FILE = "mmassets_tiny.json"
"""Written last into a finished build; holds the build parameters."""

BUILDER_VERSION = 1
"""Bump when the build recipe changes so existing builds are not reused."""

SPM_VOCAB_SIZE = 900
MAX_LENGTH = 256

_INIT_LOCK = threading.Lock()
_NLLB_CODE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")

# Word lists for the built-in corpus: short image captions in a few languages.
_EN_SUBJECTS = (
    "a dog", "a cat", "two children", "a man", "a woman", "a red car", "a small bird",
    "an old bicycle", "a group of people", "a brown horse", "a young girl", "a tall building",
)
_EN_ACTIONS = (
    "running on", "sitting near", "playing with", "standing beside", "looking at",
    "walking across", "jumping over", "lying under",
)
_EN_PLACES = (
    "the beach", "a wooden table", "the green grass", "a busy street", "the snowy mountain",
    "a blue ball", "the kitchen window", "a quiet river", "the yellow flowers", "a stone bridge",
)
_DE_SUBJECTS = ("ein Hund", "eine Katze", "zwei Kinder", "ein Mann", "eine Frau", "ein rotes Auto")
_DE_ACTIONS = ("läuft am", "sitzt neben dem", "spielt mit dem", "steht vor dem")
_DE_PLACES = ("Strand", "Holztisch", "grünen Gras", "Fluss", "Küchenfenster", "Berg")
_FR_SUBJECTS = ("un chien", "un chat", "deux enfants", "un homme", "une femme", "une voiture rouge")
_FR_ACTIONS = ("court sur", "est assis près de", "joue avec", "regarde")
_FR_PLACES = ("la plage", "la table en bois", "l'herbe verte", "la rivière", "la fenêtre", "la montagne")
_ES_SUBJECTS = ("un perro", "un gato", "dos niños", "un hombre", "una mujer", "un coche rojo")
_ES_ACTIONS = ("corre en", "está sentado junto a", "juega con", "mira")
_ES_PLACES = ("la playa", "la mesa de madera", "la hierba verde", "el río", "la ventana", "la montaña")


def caption_corpus() -> list[str]:
    """Return the built-in training corpus: deterministic caption-like sentences.

    Mostly English (every subject/action/place combination), plus German, French and
    Spanish captions so the BPE vocabulary also covers accented characters.
    """
    groups = (
        (_EN_SUBJECTS, _EN_ACTIONS, _EN_PLACES),
        (_DE_SUBJECTS, _DE_ACTIONS, _DE_PLACES),
        (_FR_SUBJECTS, _FR_ACTIONS, _FR_PLACES),
        (_ES_SUBJECTS, _ES_ACTIONS, _ES_PLACES),
    )
    return [
        _sentence(subject, action, place)
        for subjects, actions, places in groups
        for subject, action, place in itertools.product(subjects, actions, places)
    ]


def _sentence(subject: str, action: str, place: str) -> str:
    """Join a caption's parts into a capitalised sentence with a full stop."""
    text = f"{subject} {action} {place}"
    return text[0].upper() + text[1:] + "."


def _normalise_codes(nllb_codes: Sequence[str]) -> list[str]:
    """Validate language codes (``deu_Latn`` shape) and drop duplicates, keeping order."""
    if isinstance(nllb_codes, str):
        raise TypeError("nllb_codes must be a sequence of codes, not a single string")
    codes = list(dict.fromkeys(nllb_codes))
    if not codes:
        raise ValueError("build_tiny_nllb needs at least one NLLB language code")
    bad = [code for code in codes if not _NLLB_CODE.match(code)]
    if bad:
        raise ValueError(f"not NLLB language codes (expected e.g. 'deu_Latn'): {bad}")
    return codes


def _build_params(codes: list[str], seed: int) -> dict[str, Any]:
    """The parameters recorded in the marker file; a build is reused only if they match."""
    return {
        "builder_version": BUILDER_VERSION,
        "model_name": TINY_MODEL_NAME,
        "nllb_codes": codes,
        "seed": seed,
    }


def read_marker(model_dir: Path) -> dict[str, Any] | None:
    """Return the build parameters recorded in ``model_dir``, or None if it is not a finished build."""
    try:
        return json.loads((Path(model_dir) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_tiny_model_dir(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds a finished tiny-model build (of any parameters)."""
    return read_marker(model_dir) is not None


def build_tiny_nllb(target_dir: Path, nllb_codes: Sequence[str], *, seed: int = 0) -> Path:
    """Build (or reuse) a tiny NLLB-shaped model and tokenizer in ``target_dir``.

    The folder loads with ``AutoTokenizer.from_pretrained`` and
    ``AutoModelForSeq2SeqLM.from_pretrained``; every code in ``nllb_codes`` is a
    special token with its own id. The source language defaults to ``eng_Latn`` when
    given, else to the first code.

    The build happens in a temporary sibling folder that is renamed into place at the
    end, so readers never see a half-written model and concurrent builders do not
    corrupt each other. If ``target_dir`` already holds a build with the same
    parameters it is returned untouched; a folder with other parameters is replaced.
    """
    target = Path(target_dir)
    codes = _normalise_codes(nllb_codes)
    params = _build_params(codes, seed)
    if read_marker(target) == params:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".building", dir=target.parent))
    try:
        _write_model(staging, codes, seed)
        _write_marker(staging, params)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the result is an ordinary folder
        move_dir_into_place(staging, target, lambda folder: read_marker(folder) == params)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_model(out_dir: Path, codes: list[str], seed: int) -> None:
    """Write tokenizer and model files for a tiny build into ``out_dir``."""
    spm_dir = out_dir / "_spm"
    spm_dir.mkdir()
    _train_sentencepiece(spm_dir / "sentencepiece.bpe.model")
    tokenizer = _load_tokenizer(spm_dir, codes)
    shutil.rmtree(spm_dir)
    tokenizer.save_pretrained(out_dir)
    model = _init_model(vocab_size=len(tokenizer), seed=seed)
    model.save_pretrained(out_dir)


def _train_sentencepiece(model_file: Path) -> None:
    """Train a small BPE SentencePiece model on :func:`caption_corpus` with NLLB's special ids."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    corpus: Iterator[str] = iter(caption_corpus())
    spm.SentencePieceTrainer.train(
        sentence_iterator=corpus,
        model_writer=buffer,
        model_type="bpe",
        vocab_size=SPM_VOCAB_SIZE,
        hard_vocab_limit=False,
        character_coverage=1.0,
        num_threads=1,
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        minloglevel=2,
    )
    model_file.write_bytes(buffer.getvalue())


def _load_tokenizer(spm_dir: Path, codes: list[str]) -> Any:
    """Wrap the SentencePiece model as an ``NllbTokenizer`` whose language codes are ``codes``."""
    from transformers import NllbTokenizer

    src_lang = "eng_Latn" if "eng_Latn" in codes else codes[0]
    return NllbTokenizer.from_pretrained(
        str(spm_dir),
        extra_special_tokens=codes,
        src_lang=src_lang,
        model_max_length=MAX_LENGTH,
    )


def _init_model(*, vocab_size: int, seed: int) -> Any:
    """Create a randomly initialised two-layer M2M100 (the NLLB architecture), seeded."""
    import torch
    from transformers import GenerationConfig, M2M100Config, M2M100ForConditionalGeneration

    config = M2M100Config(
        vocab_size=vocab_size,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=MAX_LENGTH,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        dropout=0.0,
        attention_dropout=0.0,
        encoder_layerdrop=0.0,
        decoder_layerdrop=0.0,
        # Wider than NLLB's 0.02 so that the random outputs differ between inputs and
        # target languages (at 0.02 every input decodes to the same string).
        init_std=0.1,
    )
    # Initialisation draws from torch's global RNG: serialise builders in this process
    # and leave the caller's RNG state as it was.
    with _INIT_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = M2M100ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2
    )
    return model


def _write_marker(out_dir: Path, params: dict[str, Any]) -> None:
    """Record the build parameters; its presence marks the build as complete."""
    text = json.dumps(params, indent=2, sort_keys=True) + "\n"
    (out_dir / MARKER_FILE).write_text(text, encoding="utf-8")
