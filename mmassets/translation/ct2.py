"""CTranslate2 translation backend: an NLLB checkpoint converted once, then translated fast.

:class:`CT2Model` implements :class:`~mmassets.translation.backend.Backend` like the
transformers backend (:class:`~mmassets.translation.nllb.NLLBModel`) does, with the same
tokenizer (the checkpoint's Hugging Face tokenizer) and the same output-length bounds, so
the engine can use either. The checkpoint (hub name or local folder) is converted with
CTranslate2's ``TransformersConverter`` into a cache folder on first use and reused after.

Decoding-length semantics (checked against ``model.generate``): CTranslate2's
``max_decoding_length`` and ``min_decoding_length`` count the target prefix (the language
token) and the end token, exactly as ``max_new_tokens`` / ``min_new_tokens`` count the
forced language token and the end token in transformers. Both backends therefore pass
``bound + 1`` for a ``settings.new_tokens`` bound. A batch decodes to its longest string's bound
and each output is then cut at its own string's bound (``GenerationSettings.bounds``), so under
greedy search a string's output does not depend on its batch-mates. In float32 the greedy outputs of the two
backends are token-for-token identical (repetition penalty and no-repeat n-grams included);
beam search can differ where hypotheses end (the two libraries normalise and stop finished
beams differently), and int8 quantisation changes some outputs.

Importing this module does not import ctranslate2, torch or transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmassets.files import move_dir_into_place
from mmassets.translation.backend import GenerationSettings
from mmassets.translation.nllb import (DEFAULT_MODEL, NLLBTokenizing, local_model_identity, reject_placeholder,
                                       resolve_checkpoint)

MARKER_FILE = "mmassets_ct2.json"
"""Written last into a finished conversion; records what was converted."""

CONVERSION_FORMAT = 1
"""Bump when the conversion recipe changes so existing conversions are not reused."""

COMPUTE_TYPES = (
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)
"""CTranslate2 compute types accepted (besides ``"auto"``); each is also a quantization."""

_ALIASES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Loading a checkpoint with transformers is not thread-safe (it uses process-wide meta-device
# state): convert one checkpoint at a time per process. Other processes are handled by the
# atomic rename.
_CONVERT_LOCK = threading.Lock()


def default_cache_root() -> Path:
    """Where conversions go when no ``cache_dir`` is given: ``~/.cache/mmassets``."""
    return Path.home() / ".cache" / "mmassets"


def resolve_device(device: str) -> tuple[str, int]:
    """Turn a device setting into CTranslate2's ``(device, device_index)``.

    ``"auto"`` is CUDA when CTranslate2 sees a GPU, else CPU; ``"cuda:1"`` selects a GPU.
    """
    import ctranslate2

    if device == "auto":
        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    kind, _, index = str(device).partition(":")
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; expected auto, cpu, cuda or cuda:<index>")
    try:
        return kind, int(index) if index else 0
    except ValueError:
        raise ValueError(f"bad device index in {device!r}") from None


def resolve_compute_type(compute_type: str, device: str = "auto") -> str:
    """Turn a compute-type setting into a CTranslate2 compute type (also the quantization).

    ``"auto"`` is int8 on CPU and bfloat16 on CUDA (float16 where the GPU lacks bfloat16).
    """
    import ctranslate2

    kind, index = resolve_device(device)
    if compute_type == "auto":
        if kind == "cpu":
            return "int8"
        supported = ctranslate2.get_supported_compute_types("cuda", index)
        return "bfloat16" if "bfloat16" in supported else "float16"
    resolved = _ALIASES.get(compute_type, compute_type)
    if resolved not in COMPUTE_TYPES:
        choices = ", ".join(["auto", *COMPUTE_TYPES])
        raise ValueError(f"unknown compute_type {compute_type!r}; expected one of: {choices}")
    return resolved


def source_identity(model: str, revision: str | None = None) -> str:
    """Identity of the checkpoint to convert: a content hash for a local folder
    (:func:`~mmassets.translation.nllb.local_model_identity`), else ``"<hub name>@<revision>"``."""
    folder = Path(os.fspath(model))
    if folder.is_dir():
        return local_model_identity(folder)
    return f"{os.fspath(model)}@{revision or 'main'}"


def conversion_dir(model: str, identity: str, quantization: str, cache_dir: str | None = None) -> Path:
    """The cache folder for one conversion: ``<root>/ct2/<safe name>-<identity hash>-<quantization>``."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_root()
    name = os.fspath(model).rstrip("/\\")
    base = Path(name).name if Path(name).is_dir() else name.replace("/", "--")
    safe = _UNSAFE_NAME_CHARS.sub("_", base).strip("._") or "model"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return root / "ct2" / f"{safe}-{digest}-{quantization}"


def convert(
    model: str,
    *,
    revision: str | None = None,
    quantization: str = "int8",
    cache_dir: str | None = None,
    identity: str | None = None,
    source: str | None = None,
) -> Path:
    """Convert a checkpoint to CTranslate2 (once) and return the conversion folder.

    ``source`` is where the checkpoint's files are read from when not ``model`` itself (a hub
    name's snapshot folder in the Hugging Face cache: ``nllb.resolve_checkpoint``); the conversion
    is still named and identified by ``model``. A folder whose marker records the same source and
    quantization is reused as is.
    Otherwise the conversion is written into a temporary sibling folder and renamed into
    place, so readers never see a half-written conversion and concurrent converters do not
    corrupt each other (the first to finish wins; the others discard their copy). Within a
    process, conversions run one at a time.
    """
    identity = identity or source_identity(model, revision)
    target = conversion_dir(model, identity, quantization, cache_dir)
    params = _conversion_params(identity, quantization)
    if _is_complete(target, params):
        return target
    with _CONVERT_LOCK:
        if not _is_complete(target, params):  # another thread may have just converted it
            _convert_into(target, os.fspath(model), revision, quantization, params, source)
    return target


def _convert_into(target: Path, name: str, revision: str | None, quantization: str, params: dict[str, Any],
                  source: str | None = None) -> None:
    """Convert ``name`` (read from ``source`` when given) in a temporary sibling of ``target``, then
    rename it into place."""
    import ctranslate2

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".converting", dir=target.parent))
    try:
        source = source or name
        is_local = Path(source).is_dir()
        converter = ctranslate2.converters.TransformersConverter(
            source, revision=None if is_local else revision
        )
        converter.convert(str(staging), quantization=quantization, force=True)
        record = {**params, "model": name, "revision": revision, "ctranslate2": ctranslate2.__version__}
        (staging / MARKER_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the result is an ordinary folder
        move_dir_into_place(staging, target, lambda folder: _is_complete(folder, params))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _conversion_params(identity: str, quantization: str) -> dict[str, Any]:
    """What a conversion folder must record to be reused."""
    return {"format": CONVERSION_FORMAT, "source": identity, "quantization": quantization}


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The record of a finished conversion in ``folder``, or None."""
    try:
        return json.loads((Path(folder) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_complete(folder: Path, params: dict[str, Any]) -> bool:
    marker = read_marker(folder)
    return marker is not None and all(marker.get(key) == value for key, value in params.items())


def _default_intra_threads() -> int:
    try:
        import torch

        return int(torch.get_num_threads()) or (os.cpu_count() or 1)
    except ImportError:
        return os.cpu_count() or 1


class CT2Model(NLLBTokenizing):
    """An NLLB checkpoint converted to CTranslate2, with its Hugging Face tokenizer.

    Build one with :meth:`load` (or :func:`load_cached`); the constructor just stores
    already-loaded parts.
    """

    def __init__(
        self,
        translator: Any,
        tokenizer: Any,
        *,
        name: str,
        revision: str | None,
        device: str,
        compute_type: str,
        source_identity: str,
        model_dir: Path,
    ) -> None:
        self.translator = translator
        self.tokenizer = tokenizer
        self.name = name
        self.revision = revision
        self.device = device
        self.compute_type = compute_type
        self.source_identity = source_identity
        self.model_dir = Path(model_dir)
        # The tokenizer's source language is mutable state: set and use it under a lock.
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        model: str = DEFAULT_MODEL,
        *,
        revision: str | None = None,
        device: str = "auto",
        compute_type: str = "auto",
        cache_dir: str | None = None,
        intra_threads: int | None = None,
    ) -> CT2Model:
        """Convert (first time only) and load a hub name or local folder on ``device``.

        ``compute_type`` is both the conversion's quantization and CTranslate2's compute
        type (``"auto"``: int8 on CPU, bfloat16 or float16 on CUDA). Conversions are cached
        under ``<cache_dir or ~/.cache/mmassets>/ct2/``. ``revision`` applies to hub names.
        On CPU the translator uses one worker with ``intra_threads`` threads (default:
        torch's thread count, else the CPU count). A hub name in the Hugging Face cache is read
        from there without a request; one that is not is asked for once, and
        ``nllb.ModelUnavailable`` says why it cannot be had (``nllb.resolve_checkpoint``).
        """
        import ctranslate2

        name = os.fspath(model)
        reject_placeholder(name)
        kind, index = resolve_device(device)
        resolved_type = resolve_compute_type(compute_type, device)
        checkpoint = resolve_checkpoint(name, revision)
        from transformers import AutoTokenizer

        identity = source_identity(name, revision)
        is_local = Path(checkpoint).is_dir()
        model_dir = convert(
            name, revision=revision, quantization=resolved_type, cache_dir=cache_dir, identity=identity,
            source=checkpoint,
        )
        options: dict[str, Any] = {"device": kind, "device_index": index, "compute_type": resolved_type}
        if kind == "cpu":
            options.update(inter_threads=1, intra_threads=intra_threads or _default_intra_threads())
        translator = ctranslate2.Translator(str(model_dir), **options)
        tokenizer = AutoTokenizer.from_pretrained(checkpoint, revision=None if is_local else revision)
        return cls(
            translator,
            tokenizer,
            name=name,
            revision=revision,
            device=kind if kind == "cpu" else f"cuda:{index}",
            compute_type=str(translator.compute_type),
            source_identity=identity,
            model_dir=model_dir,
        )

    @property
    def identity(self) -> str:
        """``"ct2:<compute type>:<source identity>"``: keys a translation memory."""
        return f"ct2:{self.compute_type}:{self.source_identity}"

    def translate_batch(
        self, texts: Sequence[str], src_lang: str, tgt_lang: str, settings: GenerationSettings
    ) -> list[str]:
        """Translate one batch, one stripped output per input, in order."""
        outputs = []
        for tokens in self.translate_tokens(texts, src_lang, tgt_lang, settings):
            token_ids = self.tokenizer.convert_tokens_to_ids(tokens)
            outputs.append(self.tokenizer.decode(token_ids, skip_special_tokens=True).strip())
        return outputs

    def translate_tokens(
        self, texts: Sequence[str], src_lang: str, tgt_lang: str, settings: GenerationSettings
    ) -> list[list[str]]:
        """Translate one batch into target tokens: those generated after the language token,
        without the end token (what :meth:`translate_batch` decodes)."""
        if not texts:
            return []
        self.lang_token_id(tgt_lang)
        ids = self.encode_ids(texts, src_lang)
        sources = [self.tokenizer.convert_ids_to_tokens(i) for i in ids]
        min_new, max_new, own = settings.bounds([len(i) for i in ids])
        results = self.translator.translate_batch(
            sources,
            target_prefix=[[tgt_lang]] * len(sources),
            beam_size=settings.num_beams,
            patience=settings.patience,
            num_hypotheses=1,
            # +1: both lengths count the target prefix (the language token), as
            # transformers' max/min_new_tokens count the forced language token.
            max_decoding_length=max_new + 1,
            min_decoding_length=min_new + 1,
            repetition_penalty=settings.repetition_penalty,
            no_repeat_ngram_size=settings.no_repeat_ngram_size,
            max_input_length=0,  # already truncated by the tokenizer
            max_batch_size=0,  # the engine sized the batch
        )
        outputs = []
        for result, cap in zip(results, own):
            tokens = list(result.hypotheses[0])
            tokens = tokens[1:] if tokens and tokens[0] == tgt_lang else tokens
            outputs.append(tokens[:cap])  # the string's own bound, not its batch's (settings.bounds)
        return outputs


_CACHE: dict[tuple[str, str | None, str, str, str | None, int | None], CT2Model] = {}
_CACHE_LOCK = threading.Lock()


def load_cached(
    model: str = DEFAULT_MODEL,
    *,
    revision: str | None = None,
    device: str = "auto",
    compute_type: str = "auto",
    cache_dir: str | None = None,
    intra_threads: int | None = None,
) -> CT2Model:
    """Return this process's :class:`CT2Model` for these settings, loading it on first use.

    Settings that resolve to the same thing (``device="auto"`` vs ``"cpu"`` on a CPU
    machine, ``compute_type="auto"`` vs ``"int8"`` there, a relative vs absolute folder)
    share one loaded model.
    """
    kind, index = resolve_device(device)
    resolved_device = kind if kind == "cpu" else f"cuda:{index}"
    key = (
        _cache_name(model),
        revision,
        resolved_device,
        resolve_compute_type(compute_type, device),
        cache_dir,
        intra_threads,
    )
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = CT2Model.load(
                model,
                revision=revision,
                device=resolved_device,
                compute_type=compute_type,
                cache_dir=cache_dir,
                intra_threads=intra_threads,
            )
            _CACHE[key] = loaded
        return loaded


def _cache_name(model: str) -> str:
    """Normalise a model name for the cache key: absolute path for a local folder."""
    name = os.fspath(model)
    path = Path(name)
    return str(path.resolve()) if path.is_dir() else name


def clear_cache() -> None:
    """Forget every model loaded by :func:`load_cached` (for tests, or to free memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()
