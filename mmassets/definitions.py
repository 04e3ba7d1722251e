"""The Dagster Definitions of mmassets, assembled from ``mmassets.defs``; settings from the
environment (see ``mmassets.settings``). ``dagster dev -w workspace.yaml`` loads ``defs``.

Every module of ``mmassets.defs.families`` (one per dataset family, its whole path raw → train)
is picked up as it is: adding a family adds a module there, not a line here."""

from __future__ import annotations

import dagster as dg

from mmassets.defs import eval, families
from mmassets.defs.common import automation, blocking, partitions, sources
from mmassets.defs.common.console import console_logger
from mmassets.defs.common.executors import executor_for, gpu_step_names
from mmassets.defs.common.io import ParquetIOManager
from mmassets.defs.common.resources import (
    CaptionSimilarity,
    DataFolders,
    ImageDownloader,
    LanguageMix,
    NLLBTranslator,
    PhraseExtractor,
)
from mmassets.defs.families import dataoptim
from mmassets.defs.mixtures import mixture_assets
from mmassets.languages import LanguageTable
from mmassets.recipes import load_recipes
from mmassets.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    data_dir = str(settings.data_dir)
    assets = [*dg.load_assets_from_package_module(families), *eval.eval_assets]
    training = {key.to_user_string() for a in assets for key in a.keys if key.path[0] in ("train", "dataoptim")
                and key.path[-1] not in ("submission", "byod")}
    recipes = load_recipes([settings.recipes_dir] if settings.recipes_dir else [], training)
    languages = str(settings.languages) if settings.languages else None
    with_languages = partitions.for_table(LanguageTable.load(languages))
    with_slices = partitions.for_download_slices(settings.image_slices)
    # one refresh policy for every built asset (the observable sources are observed, not built)
    built = dg.map_asset_specs(
        lambda spec: with_slices(with_languages(spec)).replace_attributes(automation_condition=automation.REFRESH),
        [*assets, *mixture_assets(recipes, training)])
    # a backfill translates the languages in runs of languages_per_run: one model load for each run's languages
    per_run = dg.BackfillPolicy.multi_run(settings.languages_per_run)
    built = [a.with_attributes(backfill_policy=per_run) if gpu_step_names([a]) else a
             for a in built]
    blocking.register(built)  # what a step that reads an asset checks before it does
    try:
        executor = executor_for(settings.executor, settings.executor_config, gpu_step_names(built))
    except ValueError as exc:
        raise ValueError(f"MMASSETS_EXECUTOR={settings.executor}: {exc}") from None
    return dg.Definitions(
        assets=[*sources.source_assets, *built],
        executor=executor,
        jobs=[automation.observe_raw],
        loggers={"console": console_logger},
        schedules=[automation.weekly_refresh(settings.refresh_cron)],
        sensors=[automation.raw_folder_sensor, automation.automation_sensor, dataoptim.submissions_sensor],
        resources={
            "folders": DataFolders(profile=settings.profile, raw_dir=str(settings.raw_dir), data_dir=data_dir,
                                   store=settings.store or "",
                                   image_roots=settings.image_roots, image_check_limit=settings.image_check_limit,
                                   max_text_chars=settings.max_text_chars,
                                   submissions_dir=str(settings.submissions_dir or "")),
            "translator": NLLBTranslator(model=settings.translator_model, cache_dir=data_dir, languages=languages,
                                         memory_path=settings.translation_memory,
                                         max_flagged_share=settings.max_flagged_share),
            "mix": LanguageMix(seed=settings.seed, languages=languages),
            "similarity": CaptionSimilarity(),
            "downloader": ImageDownloader(allow_private=settings.download_allow_private),
            "extractor": PhraseExtractor(),
            "io_manager": ParquetIOManager(base_dir=settings.storage_root),
        },
    )


defs = build_definitions(Settings.from_env())
