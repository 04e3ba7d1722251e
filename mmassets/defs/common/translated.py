"""What every translated asset shares (the assets live in ``defs/families/``). A translated asset is
partitioned by language: each partition holds the slice of an English task assigned to that
language, machine-translated with NLLB. English is a partition that passes through.

A range of language partitions runs as one step, so the model loads once for all of them: the
whole range in ``mmassets build`` (a slice per GPU with several), runs of ``MMASSETS_LANGUAGES_PER_RUN``
languages in a backfill (``definitions``). Every output passes the translation engine's quality gate;
outputs that fail it are None (dropped downstream) and their reason is kept in ``<field>_flag``. A
language whose share of flagged distinct strings is over the translator's ``max_flagged_share``
(MMASSETS_TRANSLATION_MAX_FLAGGED) fails alone, unless the gate is not enforced (the sample's tiny model).
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs import known_beta
from mmassets.defs.common.executors import GPU_OP_TAGS
from mmassets.defs.common.metadata import TINY_MODEL_NOTE, counts_metadata, frame_metadata, markdown_table
from mmassets.defs.common.partitions import language_partitions, partitions_failed
from mmassets.defs.common.resources import LanguageMix, NLLBTranslator
from mmassets.devices import GPU_TAG
from mmassets.languages import SOURCE_LANGUAGE
from mmassets.progress import Progress

TRANSLATION_RETRIES = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)
"""A translation step that fails for a passing reason (CUDA out of memory, a worker lost, the
translation memory's server gone for a moment) runs again; what will fail again (a model that
cannot load) fails at once (``dg.Failure(allow_retries=False)``)."""
TRANSLATED = dict(group_name="translated", key_prefix="translated", partitions_def=language_partitions,
                  backfill_policy=dg.BackfillPolicy.single_run(), pool="gpu", kinds={"pytorch", "pandas"},
                  op_tags=GPU_OP_TAGS, retry_policy=TRANSLATION_RETRIES)
GATE = "translation_gate"


def translated_dg_asset(**kwargs: Any):
    """``@dg.asset`` with what every translated asset shares (``TRANSLATED``)."""
    with known_beta():  # backfill_policy
        return dg.asset(**TRANSLATED, **kwargs)


def gate_spec(name: str, *, instructions: bool = False) -> dg.AssetCheckSpec:
    """The gate's check; on a list of ``instructions`` it is advisory: a flagged instruction is
    dropped from its language's list, which instructions naming the language complete."""
    if instructions:
        return dg.AssetCheckSpec(GATE, asset=dg.AssetKey(["translated", name]), description=(
            "Per language partition: the share of instructions the quality gate flagged, against "
            "MMASSETS_TRANSLATION_MAX_FLAGGED (advisory: flagged instructions are dropped from the list, which "
            "instructions naming the language complete)."))
    return dg.AssetCheckSpec(GATE, asset=dg.AssetKey(["translated", name]), blocking=True, description=(
        "Per language partition: at most MMASSETS_TRANSLATION_MAX_FLAGGED (default 5%) of the distinct strings "
        "fail the quality gate (empty, unchanged, repetition loop, length ratio, wrong script or language); a "
        "partition over it fails and nothing is built from it. Reported, not enforced, on the sample's tiny model."))


class Run:
    """The translator calls of one step: progress lines, and statistics and gate counts per language."""

    def __init__(self, context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix):
        self.context, self.translator, self.languages = context, translator, mix.table
        self.stats: dict[str, Any] = {}  # language -> TranslationStats

    def _load(self) -> None:
        """Load the model (once per process); a model that cannot load fails the step without retries."""
        from mmassets.translation.memory import MemoryUnavailable

        try:
            self.translator.engine()
        except MemoryUnavailable as exc:
            raise dg.Failure(str(exc), allow_retries=exc.transient) from exc
        except (OSError, ValueError, ImportError) as exc:
            raise dg.Failure(f"the translator {self.translator.model!r} cannot be loaded: {exc}",
                             allow_retries=False) from exc

    def translate(self, texts: Sequence[str], language: str, what: str) -> tuple[list, list]:
        """English ``texts`` into ``language`` (a table code): outputs (None where dropped) and flags."""
        progress = Progress(len(texts), self.context.log.info, f"{what} → {language}", unit="strings")
        self._load()
        from mmassets.translation.memory import MemoryUnavailable

        try:
            result = self.translator.translate(texts, self.languages[SOURCE_LANGUAGE].nllb,
                                               self.languages[language].nllb,
                                               progress=lambda done, _total, tokens: progress.update(done, tokens))
        except MemoryUnavailable as exc:  # names the file; only a lock held past the timeout may pass
            raise dg.Failure(str(exc), allow_retries=exc.transient) from exc
        known = self.stats.get(language)
        self.stats[language] = result.stats if known is None else known.merge(result.stats)
        return result.texts, result.flags

    def add_partition_metadata(self, language: str, frame: pd.DataFrame, **extra: Any) -> None:
        """The metadata of one language partition: rows, schema, preview, translation statistics."""
        meta = {**frame_metadata(frame, language_column=None), **extra}
        stats = self.stats.get(language)
        if stats is not None:
            meta.update({"translation": dg.MetadataValue.json(stats.as_dict()), "memory hits": stats.memory_hits,
                         "model-translated strings": stats.model_translated, "tokens/s": round(stats.tokens_per_s, 1),
                         "padding fraction": round(stats.padding_fraction, 4),
                         "flagged outputs": counts_metadata(stats.flagged),
                         "translator backend": self.translator.backend_name,
                         "translator identity": self.translator.identity,
                         "translator device": self.translator.loads_on})
        if self.context.run.tags.get(GPU_TAG) is not None:  # one of the runs a multi-GPU build split the range into
            meta["pinned GPU"] = int(self.context.run.tags[GPU_TAG])
        meta["translator"] = self.translator.model
        if self.translator.is_tiny:
            meta["note"] = TINY_MODEL_NOTE
        self.context.add_asset_metadata(meta, partition_key=language)

    def flagged_shares(self) -> dict[str, float]:
        """Per language translated in this step: the share of its distinct strings the gate flagged."""
        return {lang: sum(s.flagged.values()) / s.distinct for lang, s in self.stats.items() if s.distinct}

    def refuse_over_threshold(self, task: str) -> None:
        """Fail the language partitions over the gate's threshold, each alone (``partitions_failed``:
        ``mmassets build`` builds the others again, served by the translation memory), when the gate
        is enforced; nothing is stored for them, so nothing is built from them."""
        threshold, shares = self.translator.max_flagged_share, self.flagged_shares()
        over = {lang: share for lang, share in shares.items() if share > threshold}
        if not over or not self.translator.enforcing:
            return
        failures = {}
        for lang, share in over.items():
            stats = self.stats[lang]
            reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.flagged.items(), key=lambda kv: -kv[1]))
            failures[lang] = (f"the translation gate flagged {sum(stats.flagged.values())} of {stats.distinct} distinct "
                              f"strings ({share:.1%}; {reasons}), over the threshold of {threshold:.0%}")
        raise partitions_failed(f"translated/{task}", failures, [
            f"Check the translator ({self.translator.model}): flagged outputs are empty, unchanged, looping, of the "
            "wrong length, script or language; MMASSETS_TRANSLATION_MAX_FLAGGED sets the threshold (a share, "
            f"now {threshold})."])

    def gate_result(self, *, advisory: bool = False) -> dg.AssetCheckResult:
        """The gate's numbers per language; ``advisory`` (instruction lists) only warns."""
        threshold, shares = self.translator.max_flagged_share, self.flagged_shares()
        over = {lang: round(share, 4) for lang, share in shares.items() if share > threshold}
        enforcing = self.translator.enforcing and not advisory
        worst = sorted(shares, key=lambda lang: -shares[lang])[:20]
        rows = [{"language": lang, "distinct strings": self.stats[lang].distinct,
                 "flagged": sum(self.stats[lang].flagged.values()), "share": f"{shares[lang]:.1%}"} for lang in worst]
        return dg.AssetCheckResult(
            check_name=GATE, passed=not over or not enforcing,
            severity=dg.AssetCheckSeverity.ERROR if enforcing else dg.AssetCheckSeverity.WARN,
            metadata={"threshold": threshold, "languages over threshold": dg.MetadataValue.json(over),
                      "worst languages": dg.MetadataValue.md(
                          markdown_table(rows, ["language", "distinct strings", "flagged", "share"])),
                      "enforced": enforcing,
                      **({} if enforcing else {"why not enforced": "an instruction list: flagged instructions are "
                                               "dropped" if advisory else "tiny random sample model: " + TINY_MODEL_NOTE})})


def translate_task(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix,
                   english: pd.DataFrame, task: str, fields: Sequence[str]):
    """The partitions of ``context`` for an English task: each language's slice of the seeded
    assignment with ``fields`` translated; ``<field>_en`` keeps the source, ``<field>_flag`` the
    gate's verdict, ``source_index`` the English row."""
    english = english.reset_index(drop=True).assign(
        source_index=range(len(english)), language=mix.assignment(len(english), task))
    run, parts = Run(context, translator, mix), {}
    for language in context.partition_keys:
        part = english[english["language"] == language].reset_index(drop=True)
        for field in fields:
            part[f"{field}_en"] = part[field]
            flags = [None] * len(part)
            if language != SOURCE_LANGUAGE and len(part):
                part[field], flags = run.translate(part[field].tolist(), language, f"{task}.{field}")
            # one string type in every partition (an all-None column would be typed null in Parquet)
            part[field] = part[field].astype("string")
            part[f"{field}_flag"] = pd.array(flags, dtype="string")
        parts[language] = part
    run.refuse_over_threshold(task)  # before anything is stored
    for language, part in parts.items():
        run.add_partition_metadata(language, part)
    yield dg.Output(parts)
    yield run.gate_result()


def translated_asset(name: str, fields: Sequence[str], description: str, code_version: str = "1"):
    """``translated/<name>``: the language partitions of ``english/<name>`` with ``fields`` translated."""

    @translated_dg_asset(name=name, ins={"english": dg.AssetIn(key=["english", name])}, code_version=code_version,
                          check_specs=[gate_spec(name)], description=description)
    def _asset(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix,
               english: pd.DataFrame):
        yield from translate_task(context, translator, mix, english, name, fields)

    return _asset
