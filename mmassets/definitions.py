"""The Dagster Definitions of mmassets, assembled from ``mmassets.defs``; settings from the
environment (see ``mmassets.settings``). ``dagster dev -w workspace.yaml`` loads ``defs``."""

from __future__ import annotations

import dagster as dg

from mmassets.defs import (aokvqa, automation, english, eval, imagenet, llava, matching, raw, sources, task_mix, train,
                           translated, vqav2)
from mmassets.defs.io import ParquetIOManager
from mmassets.defs.resources import CaptionSimilarity, DataFolders, LanguageMix, NLLBTranslator
from mmassets.settings import Settings

LAYERS = (sources, raw, english, translated, train, eval)
DATASET_FAMILIES = (vqav2, aokvqa, llava, imagenet, matching)
"""Modules holding one dataset's whole path, raw to train."""


def build_definitions(settings: Settings) -> dg.Definitions:
    data_dir = str(settings.data_dir)
    return dg.Definitions(
        assets=[a for module in (*LAYERS, *DATASET_FAMILIES, task_mix) for a in dg.load_assets_from_modules([module])],
        jobs=[automation.observe_raw],
        schedules=[automation.weekly_refresh],
        sensors=[automation.raw_folder_sensor, automation.automation_sensor],
        resources={
            "folders": DataFolders(profile=settings.profile, raw_dir=str(settings.raw_dir), data_dir=data_dir),
            "translator": NLLBTranslator(model=settings.translator_model, cache_dir=data_dir),
            "mix": LanguageMix(seed=settings.seed),
            "similarity": CaptionSimilarity(),
            "io_manager": ParquetIOManager(base_dir=data_dir),
        },
    )


defs = build_definitions(Settings.from_env())
