"""Resources: the data folders, the NLLB translator, the language mix, caption similarity, the image
downloader and the phrase extractor."""

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import Field, PrivateAttr

from mmassets.languages import LanguageTable, assign_languages
from mmassets.seeding import derive_seed
from mmassets.settings import DEFAULT_MAX_TEXT_CHARS
from mmassets.storage import Location, location
from mmassets.translation.backend import resolve_backend
from mmassets.translation.tiny_model import TINY_MODEL_NAME

if TYPE_CHECKING:
    from mmassets.translation.engine import Translation, TranslationEngine


@functools.cache
def _roots(raw_dir: str, overrides: tuple[tuple[str, str], ...], data_dir: str) -> dict[str, Path]:
    """Every image root's folder, resolved once per setting (callers ask per image)."""
    from mmassets.image_roots import resolve_roots

    return resolve_roots(raw_dir, dict(overrides), data_dir)


@functools.cache
def _real_paths(folders: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(os.path.realpath(folder) for folder in folders))


NO_IMAGE_FOLDER = ("not made: the exports are on an object store, and an image folder is links into this "
                   "machine's image roots; the records name their images as published (relative to their root)")
"""Metadata of an export whose image folder of links was left out (``DataFolders.exports_local``)."""


class DataFolders(dg.ConfigurableResource):
    """Where raw inputs are read and everything mmassets makes is written.

    On the ``sample`` profile the raw root is generated (once, deterministically) before first use.
    """

    profile: str = "sample"
    raw_dir: str
    data_dir: str
    store: str = Field(default="", description=(
        "an object store URL (s3://bucket/prefix) holding the stored values and exports; empty: data_dir"))
    image_roots: dict[str, str] = Field(default={}, description=(
        "image root → folder, for roots not in their default place under the raw root "
        "(MMASSETS_IMAGE_ROOT_<NAME>)"))
    submissions_dir: str = Field(default="", description=(
        "DataOptim submission files (MMASSETS_SUBMISSIONS_DIR); empty: <raw root>/dataoptim/submissions"))
    max_text_chars: int = Field(default=DEFAULT_MAX_TEXT_CHARS, description=(
        "records with a text longer than this are dropped and counted (MMASSETS_MAX_TEXT_CHARS)"))
    image_check_limit: int = Field(default=50_000, description=(
        "distinct images the images-resolve check opens at most; above, a seeded sample (MMASSETS_IMAGE_CHECK_LIMIT)"))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.prepare_raw()

    def prepare_raw(self) -> None:
        """On the sample profile, generate the raw root (once) if it is not there yet."""
        if self.profile == "sample":
            from mmassets.sample import ensure_sample_raw

            ensure_sample_raw(Path(self.raw_dir))

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def submissions(self) -> Path:
        """Where DataOptim submission files are read (each one a partition: of dataoptim/submission for
        an id list, of dataoptim/byod for a BYOD file)."""
        return Path(self.submissions_dir) if self.submissions_dir else self.raw / "dataoptim" / "submissions"

    @property
    def storage_root(self) -> str:
        """Where stored values (``assets/``) and exports live: the object store, else the data folder."""
        return self.store or self.data_dir

    @property
    def exports(self) -> "Location":
        """The exports' folder: a local Path, or a UPath on the object store (``storage.location``)."""
        return location(self.storage_root) / "exports"

    @property
    def exports_local(self) -> bool:
        """Whether the exports are on this machine's disk (their image folders of links need it)."""
        return not self.store

    def image_root(self, name: str) -> Path:
        """The folder that image paths of root ``name`` are relative to."""
        roots = _roots(self.raw_dir, tuple(sorted(self.image_roots.items())), self.data_dir)
        if name not in roots:
            raise KeyError(f"unknown image root {name!r}; the roots are {', '.join(roots)}")
        return roots[name]

    def trusted_roots(self) -> tuple[str, ...]:
        """Real paths of the folders images may lie in: the raw root, the data folder and every
        image root. An image whose symlinks lead outside them all is refused (``/etc/passwd``)."""
        roots = _roots(self.raw_dir, tuple(sorted(self.image_roots.items())), self.data_dir)
        return _real_paths((self.raw_dir, self.data_dir, *map(str, roots.values())))


class NLLBTranslator(dg.ConfigurableResource):
    """An NLLB-200 translator behind the translation engine (dedup, persistent memory, length-sorted
    token-budget batches, quality gate). The model — a hub name or a local folder — loads lazily,
    once per process, on the GPU when there is one (bf16), else the CPU. The name
    ``mmassets-tiny-nllb`` builds a tiny random model of the NLLB architecture under ``cache_dir``
    instead: its output is not meaningful text, so the gate reports on it without enforcing."""

    model: str = "facebook/nllb-200-distilled-1.3B"
    revision: str | None = None
    backend: str = Field(default="auto", description=(
        "auto (CTranslate2 when installed, else transformers) | ctranslate2 | transformers"))
    device: str = "auto"
    dtype: str = Field(default="auto", description="auto: bf16 on GPU; float32 (transformers) / int8 (ctranslate2) on CPU")
    token_budget: int | None = Field(default=None, description="padded source tokens per batch (default: none on CPU, 16,384 on GPU)")
    max_batch_size: int = 256
    num_beams: int = Field(default=1, description="1: greedy decoding (mBLIP's setting)")
    patience: float = Field(default=1.0, description="beam search with patience (ctranslate2 only)")
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    max_length_ratio: float = 2.0
    length_margin: int = 10
    max_output_tokens: int | None = None
    split_sentences: bool = Field(default=True, description=(
        "translate strings of several sentences sentence by sentence (NLLB is a sentence-level model)"))
    on_bad_translation: str = Field(default="drop", description="drop | keep_source, for outputs failing the gate")
    enforce_gate: bool | None = Field(default=None, description="default: enforce, except on the tiny sample model")
    max_flagged_share: float = Field(default=0.05, description=(
        "the gate: a language partition with a larger share of flagged distinct strings fails "
        "(MMASSETS_TRANSLATION_MAX_FLAGGED)"))
    cache_dir: str | None = Field(default=None, description=(
        "mmassets' own cache: the tiny model, CTranslate2 conversions, the translation memory "
        "(checkpoint downloads go to the Hugging Face cache)"))
    memory_path: str | None = Field(default=None, description=(
        "the translation memory: a SQLite file (default <cache_dir>/translation_memory.sqlite) or a "
        "postgresql://user:password@host:port/db URL, one memory for every machine (MMASSETS_TRANSLATION_MEMORY)"))
    languages: str | None = Field(default=None, description="the language table (the tiny model knows its NLLB codes)")

    _engine: Any = PrivateAttr(default=None)
    _device: str | None = PrivateAttr(default=None)
    _device_note: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """In a run pinned to a GPU (``devices.GPU_TAG``: one of the runs a multi-GPU build splits
        a translation stage into), ``device: auto`` is that GPU."""
        from mmassets.devices import pinned_device

        tags = context.dagster_run.tags if context.dagster_run is not None else {}
        self._device, self._device_note = pinned_device(self.device, tags, self._cuda_available)
        if self._device_note:
            context.log.warning(f"translator: {self._device_note}")

    def _cuda_available(self) -> bool:
        if self.backend_name == "ctranslate2":
            import ctranslate2

            return ctranslate2.get_cuda_device_count() > 0
        import torch

        return torch.cuda.is_available()

    @property
    def loads_on(self) -> str:
        """The device setting the model loads with: ``device``, or the GPU the run is pinned to."""
        return self._device or self.device

    @property
    def is_tiny(self) -> bool:
        return self.model == TINY_MODEL_NAME

    @property
    def enforcing(self) -> bool:
        return (not self.is_tiny) if self.enforce_gate is None else self.enforce_gate

    def engine(self) -> "TranslationEngine":
        if self._engine is None:
            from mmassets.translation.backend import GenerationSettings
            from mmassets.translation.engine import TranslationEngine, cheap_gate, gate
            from mmassets.translation.memory import open_memory

            cache = Path(self.cache_dir or ".")
            memory = open_memory(self.memory_path or cache / "translation_memory.sqlite")
            settings = GenerationSettings(
                num_beams=self.num_beams, patience=self.patience, repetition_penalty=self.repetition_penalty,
                no_repeat_ngram_size=self.no_repeat_ngram_size, max_length_ratio=self.max_length_ratio,
                length_margin=self.length_margin, max_output_tokens=self.max_output_tokens)
            self._engine = TranslationEngine(
                self._load_backend(cache), memory, settings=settings, token_budget=self.token_budget,
                max_batch_size=self.max_batch_size, on_bad_translation=self.on_bad_translation,
                enforce_gate=self.enforcing, check=cheap_gate if self.is_tiny else gate,
                split_sentences=self.split_sentences)
        return self._engine

    def _load_backend(self, cache: Path) -> Any:
        source = self.model
        if self.is_tiny:
            from mmassets.translation.tiny_model import build_tiny_nllb

            table = LanguageTable.load(self.languages)
            source = str(build_tiny_nllb(cache / "models" / self.model, [lang.nllb for lang in table.languages]))
        backend = self.backend_name
        if backend == "transformers":
            from mmassets.translation import nllb

            return nllb.load_cached(source, revision=self.revision, device=self.loads_on, dtype=self.dtype)
        if backend == "ctranslate2":
            from mmassets.translation import ct2

            # The tiny model's matrices are a few kilobytes: a second thread costs more in hand-offs
            # than it computes (a batch of six strings: 0.24 s on two threads, 0.004 s on one).
            return ct2.load_cached(source, revision=self.revision, device=self.loads_on, compute_type=self.dtype,
                                   cache_dir=self.cache_dir, intra_threads=1 if self.is_tiny else None)

    @property
    def backend_name(self) -> str:
        """The backend that translates: ``ctranslate2`` or ``transformers`` (``auto`` resolved)."""
        return resolve_backend(self.backend)

    @property
    def identity(self) -> str:
        return self.engine().backend.identity

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str,
                  progress: Callable[[int, int, int], None] | None = None) -> "Translation":
        """Translate ``texts`` between NLLB codes: outputs in order (None where dropped), gate
        flags and statistics."""
        return self.engine().translate(list(texts), src_lang, tgt_lang, progress=progress)


class LanguageMix(dg.ConfigurableResource):
    """How records are spread over languages: the language table and the seed of every shuffle."""

    seed: int = 0
    languages: str | None = Field(default=None, description="language table JSON (default: the packaged mBLIP table)")

    @property
    def table(self) -> LanguageTable:
        return LanguageTable.load(self.languages)

    def assignment(self, n: int, task: str, share_column: str = "mc4_percent") -> list[str]:
        """The language of each of ``n`` records of ``task``; tasks shuffle independently."""
        return assign_languages(n, self.table.shares(share_column), derive_seed(self.seed, task, "languages"))


class CaptionSimilarity(dg.ConfigurableResource):
    """Which captions are "most similar" when caption matching draws hard negatives: CLIP image–text
    similarity through open_clip (`pip install open_clip_torch`, with weights the user has), or a
    TF-IDF nearest-neighbour index over the captions that works offline. ``auto`` picks CLIP when
    ``clip_pretrained`` is set and open_clip imports, else TF-IDF."""

    kind: str = Field(default="auto", description="auto | tfidf | clip")
    clip_model: str = "ViT-B-32"
    clip_pretrained: str | None = Field(default=None, description="open_clip pretrained tag or local checkpoint")

    def index(self, image_path: Callable[[str], Path]) -> Any:
        from mmassets.tasks.similarity import ClipSimilarity, TfidfSimilarity

        kind = self.kind
        if kind == "auto":
            import importlib.util

            kind = "clip" if self.clip_pretrained and importlib.util.find_spec("open_clip") else "tfidf"
        if kind == "tfidf":
            return TfidfSimilarity()
        if kind == "clip":
            if not self.clip_pretrained:
                raise ValueError("caption similarity 'clip' needs clip_pretrained (an open_clip tag or checkpoint)")
            return ClipSimilarity(model_name=self.clip_model, pretrained=self.clip_pretrained, image_path=image_path)
        raise ValueError(f"unknown caption similarity {self.kind!r}: auto, tfidf or clip")


class ImageDownloader(dg.ConfigurableResource):
    """How images are fetched from the web (``mmassets.images.download``): an httpx connection pool
    with bounded concurrency, retries with backoff, and the safety rules. Requests to addresses that
    are not global (loopback, private, shared, link-local, multicast, ...) are refused unless
    ``allow_private`` (``MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1``)."""

    concurrency: int = Field(default=64, description="requests in flight at once")
    timeout_s: float = Field(default=10.0, description="bounds each connect, read and write")
    attempt_deadline_s: float = Field(default=60.0, gt=0, description=(
        "bounds one attempt as a whole (redirects, headers, body): a slower one fails transiently as 'too slow'"))
    retries: int = Field(default=2, description="further attempts after a timeout, connection error, 429 or 5xx")
    backoff_s: float = 1.0
    max_redirects: int = 5
    max_bytes: int = 32 * 1024 * 1024
    user_agent: str = Field(default="mmassets-image-downloader/0.1 (research dataset preparation)")
    allow_private: bool = False
    mirrors: dict[str, str] = Field(default={}, description="URL prefix → prefix fetched instead (a local mirror)")

    def settings(self, **changes: Any) -> Any:
        from mmassets.images.download import DownloadSettings

        values = dict(concurrency=self.concurrency, timeout_s=self.timeout_s,
                      attempt_deadline_s=self.attempt_deadline_s, retries=self.retries,
                      backoff_s=self.backoff_s, max_redirects=self.max_redirects, max_bytes=self.max_bytes,
                      user_agent=self.user_agent, allow_private=self.allow_private,
                      mirrors=tuple(self.mirrors.items()))
        return DownloadSettings(**{**values, **changes})


class PhraseExtractor(dg.ConfigurableResource):
    """Noun chunks for concept-balanced sampling (``mmassets.tasks.concepts``): spaCy with
    ``spacy_model`` (mBLIP's ``en_core_web_sm``) when that model is installed, else TextBlob's
    bundled English parser, which needs no download; ``workers`` processes extract in parallel."""

    kind: str = Field(default="auto", description="auto | spacy | textblob")
    spacy_model: str = "en_core_web_sm"
    workers: int = Field(default=1, description="processes extracting noun chunks (0: one per CPU)")

    def chunk_lists(self, captions: Any) -> Any:
        from mmassets.tasks.concepts import noun_chunk_lists

        workers = self.workers or (os.cpu_count() or 1)
        return noun_chunk_lists(captions, self.kind, self.spacy_model, workers=workers)

    def name(self) -> str:
        from mmassets.tasks.concepts import chunker, extractor_name

        return extractor_name(chunker(self.kind, self.spacy_model))
