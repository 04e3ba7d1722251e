"""Partitions: one per language of the mix (the table in ``MMASSETS_LANGUAGES``, default the
packaged mBLIP table). English is a partition too; its records pass through untranslated."""


import os

import dagster as dg

from mmassets.languages import LanguageTable

LANGUAGES = LanguageTable.load(os.environ.get("MMASSETS_LANGUAGES") or None)
language_partitions = dg.StaticPartitionsDefinition(LANGUAGES.codes)
