"""Partitions: one per language of the mix. English is a partition too; its records pass through
untranslated.

Assets are declared with ``language_partitions``, the packaged mBLIP table's codes; the
Definitions replace it with the codes of the table the settings name (``MMASSETS_LANGUAGES``, see
``for_table``), so that no module reads a setting when it is imported."""


from collections.abc import Callable

import dagster as dg

from mmassets.languages import LanguageTable

language_partitions = dg.StaticPartitionsDefinition(LanguageTable.load().codes)
"""The language partitions assets declare (a placeholder the Definitions replace)."""


def for_table(table: LanguageTable) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    """A spec mapping that gives every asset declared with ``language_partitions`` the table's codes."""
    partitions = dg.StaticPartitionsDefinition(table.codes)

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(partitions_def=partitions) if spec.partitions_def is language_partitions else spec

    return apply
