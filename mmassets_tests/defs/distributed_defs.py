"""The code location of the distributed build test: mmassets' definitions (settings from the
environment, as every process of a deployment reads them), with a translator whose first call in
the whole build fails, once, as a lost worker or CUDA running out of memory would: the step's retry
policy must run it again."""

import os

import dagster as dg

from mmassets.definitions import build_definitions
from mmassets.defs.common.resources import NLLBTranslator
from mmassets.settings import Settings

MARKER = "MMASSETS_TEST_FAIL_ONCE"
"""A file path: the first translate() that creates it fails."""


class FailsOnce(NLLBTranslator):
    marker: str

    def translate(self, texts, src_lang, tgt_lang, progress=None):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return super().translate(texts, src_lang, tgt_lang, progress=progress)
        raise RuntimeError("injected failure: the first attempt of this translation step fails")


_base = build_definitions(Settings.from_env())
_translator = _base.resources["translator"]
defs = dg.Definitions(
    assets=_base.assets, executor=_base.executor, loggers=_base.loggers, jobs=_base.jobs,
    resources={**_base.resources, "translator": FailsOnce(
        **{name: getattr(_translator, name) for name in NLLBTranslator.model_fields}, marker=os.environ[MARKER])})
