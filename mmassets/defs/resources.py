"""Resources: the data folders and the NLLB translator."""


from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from mmassets.defs.partitions import LANGUAGES
from mmassets.languages import assign_languages
from mmassets.seeding import derive_seed


class DataFolders(dg.ConfigurableResource):
    """Where raw inputs are read and everything mmassets makes is written.

    On the ``sample`` profile the raw root is generated (once, deterministically) before first use.
    """

    profile: str = "sample"
    raw_dir: str
    data_dir: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.profile == "sample":
            from mmassets.sample import ensure_sample_raw

            ensure_sample_raw(Path(self.raw_dir))

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def exports(self) -> Path:
        return Path(self.data_dir) / "exports"


class NLLBTranslator(dg.ConfigurableResource):
    """An NLLB-200 translator: a hub name or a local folder, loaded lazily, once per process, on the
    GPU when there is one (bf16), else the CPU. The name ``mmassets-tiny-nllb`` builds a tiny random
    model of the NLLB architecture under ``cache_dir`` instead; its output is not meaningful text."""

    model: str = "facebook/nllb-200-distilled-1.3B"
    revision: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = 32
    max_new_tokens: int | None = None
    num_beams: int = 1
    cache_dir: str | None = None

    _loaded: Any = PrivateAttr(default=None)

    @property
    def is_tiny(self) -> bool:
        from mmassets.translation.tiny_model import TINY_MODEL_NAME

        return self.model == TINY_MODEL_NAME

    def _model(self) -> Any:
        if self._loaded is None:
            from mmassets.translation import nllb
            from mmassets.translation.tiny_model import build_tiny_nllb

            source = self.model
            if self.is_tiny:
                codes = [lang.nllb for lang in LANGUAGES.languages]
                source = str(build_tiny_nllb(Path(self.cache_dir or ".") / "models" / self.model, codes))
            self._loaded = nllb.load_cached(source, revision=self.revision, device=self.device,
                                            dtype=self.dtype, cache_dir=self.cache_dir)
        return self._loaded

    @property
    def identity(self) -> str:
        return self._model().identity

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str,
                  progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Translate ``texts`` between NLLB codes, in order, one output per input."""
        if not texts:
            return []
        return self._model().translate(list(texts), src_lang, tgt_lang, batch_size=self.batch_size,
                                       max_new_tokens=self.max_new_tokens, num_beams=self.num_beams,
                                       progress=progress)


class LanguageMix(dg.ConfigurableResource):
    """How records are spread over languages: the language table and the seed of every shuffle."""

    seed: int = 0

    def assignment(self, n: int, task: str, share_column: str = "mc4_percent") -> list[str]:
        """The language of each of ``n`` records of ``task``; tasks shuffle independently."""
        return assign_languages(n, LANGUAGES.shares(share_column), derive_seed(self.seed, task, "languages"))
