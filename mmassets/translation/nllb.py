"""Plain NLLB translation backend: load a model once, translate lists of texts in batches.

This is the straightforward (non-optimised) path: batches are taken in input order,
decoding is greedy by default and deterministic on CPU. It knows nothing about
Dagster; the Dagster resource calls :func:`load_cached` so each process loads a
model once.

Importing this module does not import torch or transformers; they are imported
inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmassets.translation.backend import GenerationSettings
from mmassets.translation.tiny_model import TINY_MODEL_NAME, is_tiny_model_dir

if TYPE_CHECKING:
    import torch

DEFAULT_MODEL = "facebook/nllb-200-distilled-1.3B"
"""Hub name of the model used when none is configured."""

MAX_SOURCE_TOKENS = 512
"""Source texts are truncated to at most this many tokens (or the tokenizer's limit, if lower)."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch."""

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}

_WEIGHT_SUFFIXES = (".safetensors", ".bin")

LOCAL_FOLDER_HINT = ("To translate with a checkpoint on this machine, set MMASSETS_TRANSLATOR_MODEL=/path/to/a/local/"
                     "folder (a folder with the checkpoint's config.json, tokenizer and weights, as save_pretrained "
                     "writes them)")
"""What a user without the checkpoint on this machine's hub cache does: point the translator at a folder."""

HUB_PROBE_TIMEOUT_S = 10.0
"""How long the one request that asks the hub for a model not in the cache may take."""


class ModelUnavailable(OSError):
    """A translator checkpoint that cannot be loaded from where it is named — a hub name neither in
    the Hugging Face cache nor downloadable now (offline, the hub unreachable, no such model), or a
    folder that is not a checkpoint: one line naming the model, why, and what to do."""

    def __init__(self, model: str, why: str) -> None:
        stop = "" if why.endswith("?") else "."
        super().__init__(f"translator model {model!r} could not be fetched: {why}{stop} {LOCAL_FOLDER_HINT}")
        self.model, self.why = model, why

    def __reduce__(self):
        return type(self), (self.model, self.why)


def resolve_checkpoint(model: str, revision: str | None = None, *, cache_dir: str | None = None,
                       timeout_s: float = HUB_PROBE_TIMEOUT_S) -> str:
    """Where to load the checkpoint ``model`` from, without waiting on a hub that cannot answer:

    - a local folder as it is (it must hold ``config.json``);
    - a hub name already in the Hugging Face cache (``cache_dir``, default the user's): its snapshot
      folder there (no request at all);
    - a hub name not in the cache: the name, once one request (``timeout_s``, no retries) found the
      model on the hub — transformers then downloads it into the cache.

    Anything else raises :class:`ModelUnavailable` at once: offline (``HF_HUB_OFFLINE=1``), the hub
    unreachable, no such model or revision, a path that is no checkpoint folder."""
    name = os.fspath(model)
    reject_placeholder(name)
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelUnavailable(name, f"the folder {folder} holds no config.json (it is not a checkpoint folder)")
        return str(folder)
    if name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or os.sep != "/" and os.sep in name:
        raise ModelUnavailable(name, "there is no such folder (and it is not a hub model name)")
    cached = cached_snapshot(name, revision, cache_dir)
    if cached is not None:
        return str(cached)
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise ModelUnavailable(name, f"it is not in the Hugging Face cache ({cache_dir or constants.HF_HUB_CACHE}) "
                                     "and HF_HUB_OFFLINE=1 forbids downloading it")
    _ask_hub(name, revision, timeout_s)
    return name


def cached_snapshot(name: str, revision: str | None = None, cache_dir: str | None = None) -> Path | None:
    """The folder of ``name`` (a hub model) at ``revision`` in the Hugging Face cache when it holds
    its config and weights, else None; no request is made."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(name, revision=revision, cache_dir=cache_dir, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, OSError, ValueError):
        return None
    complete = (folder / "config.json").is_file() and any(p.suffix in _WEIGHT_SUFFIXES for p in folder.iterdir())
    return folder if complete else None


def _ask_hub(name: str, revision: str | None, timeout_s: float) -> None:
    """One request for ``name`` at ``revision`` on the hub (no retries): ModelUnavailable unless it
    is there."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import (HFValidationError, HfHubHTTPError, RepositoryNotFoundError,
                                        RevisionNotFoundError)

    hub = constants.ENDPOINT
    try:
        HfApi().model_info(name, revision=revision, timeout=timeout_s)
    except HFValidationError:
        raise ModelUnavailable(name, "it is neither a folder on this machine nor a hub model name") from None
    except RevisionNotFoundError:
        raise ModelUnavailable(name, f"{hub} has no revision {revision!r} of it") from None
    except RepositoryNotFoundError:
        raise ModelUnavailable(name, f"{hub} has no model of that name that it shows to this machine") from None
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        raise ModelUnavailable(name, f"it is not in the Hugging Face cache and {hub} answered HTTP {status}") from None
    except Exception as exc:  # no network, DNS, proxy, TLS, timeout: whatever the HTTP client raises
        raise ModelUnavailable(name, f"it is not in the Hugging Face cache and {hub} cannot be reached "
                                     f"({type(exc).__name__}: {exc}): is this machine offline?") from None


def resolve_device(device: str) -> str:
    """Turn a device setting into a torch device string; ``"auto"`` picks CUDA when available."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(torch.device(device))


def resolve_dtype(dtype: str, device: str) -> torch.dtype:
    """Turn a dtype setting into a ``torch.dtype``; ``"auto"`` is bfloat16 on CUDA, float32 elsewhere."""
    import torch

    if dtype == "auto":
        return torch.bfloat16 if resolve_device(device).startswith("cuda") else torch.float32
    try:
        return getattr(torch, _DTYPES[dtype])
    except KeyError:
        choices = ", ".join(["auto", *_DTYPES])
        raise ValueError(f"unknown dtype {dtype!r}; expected one of: {choices}") from None


def local_model_identity(folder: Path) -> str:
    """Identify a model folder by a hash of its ``config.json`` and weight files.

    The result looks like ``"tiny:<folder name>:<hash16>"`` for a folder made by
    :func:`~mmassets.translation.tiny_model.build_tiny_nllb`, else
    ``"local:<folder name>:<hash16>"``. Two folders with the same files get the same hash.
    """
    folder = Path(folder)
    digest = hashlib.sha256()
    files = [folder / "config.json", *_weight_files(folder)]
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        _hash_file(path, digest)
    kind = "tiny" if is_tiny_model_dir(folder) else "local"
    return f"{kind}:{folder.name}:{digest.hexdigest()[:16]}"


def _weight_files(folder: Path) -> list[Path]:
    """The weight files of a model folder (safetensors or PyTorch ``.bin``, any sharding), sorted."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)


def _hash_file(path: Path, digest: Any, chunk_size: int = 1 << 20) -> None:
    """Feed a file's bytes into ``digest`` in chunks (weight files can be gigabytes)."""
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)


class NLLBTokenizing:
    """What every backend does with the NLLB tokenizer: language-code ids, truncation length and
    source lengths. Needs ``tokenizer``, ``name`` and ``_tokenizer_lock`` (the tokenizer's source
    language is mutable state: set and use it under the lock)."""

    tokenizer: Any
    name: str
    _tokenizer_lock: threading.Lock

    @property
    def max_source_tokens(self) -> int:
        """Longest source (in tokens) fed to the model; longer texts are truncated."""
        return min(int(self.tokenizer.model_max_length), MAX_SOURCE_TOKENS)

    def lang_token_id(self, code: str) -> int:
        """The token id of an NLLB language code such as ``"deu_Latn"``.

        Raises ValueError for a code the tokenizer does not know (transformers would
        silently return the unknown-token id).
        """
        token_id = self.tokenizer.convert_tokens_to_ids(code)
        if token_id is None or token_id == self.tokenizer.unk_token_id:
            raise ValueError(
                f"{code!r} is not an NLLB language code known to this tokenizer "
                f"(model {self.name!r})"
            )
        return int(token_id)

    def encode_ids(self, texts: Sequence[str], src_lang: str) -> list[list[int]]:
        """Token ids of each text as ``src_lang`` (language and end tokens included, truncated)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not a single string")
        self.lang_token_id(src_lang)
        with self._tokenizer_lock:
            self.tokenizer.src_lang = src_lang
            ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_source_tokens)["input_ids"]
        return [list(i) for i in ids]

    def token_lengths(self, texts: Sequence[str], src_lang: str) -> list[int]:
        """Source length in tokens of each text (language and end tokens included, truncated)."""
        return [len(i) for i in self.encode_ids(texts, src_lang)] if texts else []


def reject_placeholder(name: str) -> None:
    """The tiny model's sentinel name is not loadable: it names a folder to build first."""
    if name == TINY_MODEL_NAME:
        raise ValueError(
            f"{TINY_MODEL_NAME!r} is a placeholder: build it with "
            "mmassets.translation.tiny_model.build_tiny_nllb() and load that folder"
        )


class NLLBModel(NLLBTokenizing):
    """An NLLB (M2M100-architecture) tokenizer and model, ready to translate.

    Build one with :meth:`load` (or :func:`load_cached`); the constructor just stores
    already-loaded parts. ``name`` is the hub name or local folder it came from.
    """

    def __init__(
        self,
        tokenizer: Any,
        model: Any,
        *,
        name: str,
        revision: str | None,
        device: str,
        dtype: torch.dtype,
    ) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.name = name
        self.revision = revision
        self.device = device
        self.dtype = dtype
        self._identity: str | None = None
        # The tokenizer's source language is mutable state: set and use it under a lock.
        self._tokenizer_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        model: str = DEFAULT_MODEL,
        *,
        revision: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        cache_dir: str | None = None,
    ) -> NLLBModel:
        """Load tokenizer and model from a hub name or a local folder, in eval mode on ``device``.

        ``revision`` and ``cache_dir`` are passed to ``from_pretrained`` (hub names only
        use them). A hub name in the Hugging Face cache loads from there without a request; one
        that is not is asked for once, and :class:`ModelUnavailable` says why it cannot be had
        (:func:`resolve_checkpoint`). For the tiny test model, build it with ``build_tiny_nllb``
        and pass its folder.
        """
        name = os.fspath(model)
        reject_placeholder(name)
        resolved_device = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, resolved_device)
        source = resolve_checkpoint(name, revision, cache_dir=cache_dir)
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        local = Path(source).is_dir()
        tokenizer = AutoTokenizer.from_pretrained(source, revision=None if local else revision, cache_dir=cache_dir)
        network = AutoModelForSeq2SeqLM.from_pretrained(
            source, revision=None if local else revision, cache_dir=cache_dir, dtype=torch_dtype
        )
        network.to(device=resolved_device, dtype=torch_dtype).eval()
        return cls(
            tokenizer,
            network,
            name=name,
            revision=revision,
            device=resolved_device,
            dtype=torch_dtype,
        )

    @property
    def identity(self) -> str:
        """A stable string naming exactly which model this is (keys a translation memory).

        ``"<hub name>@<revision or 'main'>"`` for hub models; for a local folder, a
        content hash (see :func:`local_model_identity`), computed once.
        """
        if self._identity is None:
            folder = Path(self.name)
            if folder.is_dir():
                self._identity = local_model_identity(folder)
            else:
                self._identity = f"{self.name}@{self.revision or 'main'}"
        return self._identity

    def translate(
        self,
        texts: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        *,
        batch_size: int = 32,
        settings: GenerationSettings | None = None,
        progress: ProgressCallback | None = None,
    ) -> list[str]:
        """Translate ``texts`` from ``src_lang`` to ``tgt_lang`` (NLLB codes), one output per input.

        The plain loop: input order, ``batch_size`` at a time, nothing deduplicated or remembered
        (the engine in ``mmassets.translation.engine`` does better; this is its baseline).
        ``progress(done, total)`` is called after each batch.
        """
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not a single string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        items = list(texts)
        settings = settings or GenerationSettings()
        self.lang_token_id(src_lang)
        self.lang_token_id(tgt_lang)
        results: list[str] = []
        for start in range(0, len(items), batch_size):
            results.extend(self.translate_batch(items[start : start + batch_size], src_lang, tgt_lang, settings))
            if progress is not None:
                progress(len(results), len(items))
        return results

    def encode(self, texts: Sequence[str], src_lang: str) -> dict[str, Any]:
        """Tokenize ``texts`` as ``src_lang`` into padded, truncated tensors on the model's device."""
        with self._tokenizer_lock:
            self.tokenizer.src_lang = src_lang
            batch = self.tokenizer(
                list(texts),
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.max_source_tokens,
            )
        return {key: value.to(self.device) for key, value in batch.items()}

    def translate_batch(
        self, texts: Sequence[str], src_lang: str, tgt_lang: str, settings: GenerationSettings
    ) -> list[str]:
        """Generate and decode translations for one batch (greedy or beam search), each cut at its
        own string's bound (``GenerationSettings.bounds``)."""
        import torch

        if settings.patience != 1.0:
            raise ValueError("decoding setting patience needs the ctranslate2 backend (transformers has no "
                             f"beam search with patience); got patience={settings.patience}")
        if not texts:
            return []
        forced_bos = self.lang_token_id(tgt_lang)
        batch = self.encode(texts, src_lang)
        min_new, max_new, own = settings.bounds([int(n) for n in batch["attention_mask"].sum(dim=1)])
        with torch.inference_mode():
            generated = self.model.generate(
                **batch,
                forced_bos_token_id=forced_bos,
                num_beams=settings.num_beams,
                do_sample=False,
                # +1: the forced language token is generated too, and does not count as text
                max_new_tokens=max_new + 1,
                min_new_tokens=min_new + 1 if min_new else None,
                repetition_penalty=settings.repetition_penalty,
                no_repeat_ngram_size=settings.no_repeat_ngram_size,
                # NLLB checkpoints set max_length=200; clearing it silences the
                # "both max_new_tokens and max_length" warning on every batch.
                max_length=None,
            )
        # Each row is [decoder start, language token, text tokens...]: cut it to its string's own
        # bound, not its batch's (settings.bounds); the end token and padding are skipped.
        rows = [row[: 2 + cap] for row, cap in zip(generated.tolist(), own)]
        decoded = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
        return [text.strip() for text in decoded]


_CACHE: dict[tuple[str, str | None, str, str, str | None], NLLBModel] = {}
_CACHE_LOCK = threading.Lock()


def load_cached(
    model: str = DEFAULT_MODEL,
    *,
    revision: str | None = None,
    device: str = "auto",
    dtype: str = "auto",
    cache_dir: str | None = None,
) -> NLLBModel:
    """Return this process's :class:`NLLBModel` for these settings, loading it on first use.

    Settings that resolve to the same thing (``device="auto"`` vs ``"cpu"`` on a CPU
    machine, a relative vs absolute folder path) share one loaded model.
    """
    resolved_device = resolve_device(device)
    key = (
        _cache_name(model),
        revision,
        resolved_device,
        str(resolve_dtype(dtype, resolved_device)),
        cache_dir,
    )
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = NLLBModel.load(
                model, revision=revision, device=resolved_device, dtype=dtype, cache_dir=cache_dir
            )
            _CACHE[key] = loaded
        return loaded


def clear_cache() -> None:
    """Forget every model loaded by :func:`load_cached` (for tests, or to free memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cache_name(model: str) -> str:
    """Normalise a model name for the cache key: absolute path for a local folder."""
    name = os.fspath(model)
    path = Path(name)
    return str(path.resolve()) if path.is_dir() else name
