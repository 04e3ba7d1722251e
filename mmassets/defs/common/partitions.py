"""Partitions: one per language of the mix. English is a partition too; its records pass through
untranslated.

Assets are declared with ``language_partitions``, the packaged mBLIP table's codes; the
Definitions replace it with the codes of the table the settings name (``MMASSETS_LANGUAGES``, see
``for_table``), so that no module reads a setting when it is imported."""


from collections.abc import Callable

import dagster as dg

from mmassets.defs.common.tags import SLICED_DOWNLOAD
from mmassets.images.shards import slice_keys
from mmassets.languages import LanguageTable

language_partitions = dg.StaticPartitionsDefinition(LanguageTable.load().codes)
"""The language partitions assets declare (a placeholder the Definitions replace)."""


def for_table(table: LanguageTable) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    """A spec mapping that gives every asset declared with ``language_partitions`` the table's codes."""
    partitions = dg.StaticPartitionsDefinition(table.codes)

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(partitions_def=partitions) if spec.partitions_def is language_partitions else spec

    return apply


def for_download_slices(count: int) -> Callable[[dg.AssetSpec], dg.AssetSpec]:
    """A spec mapping that cuts every image download (tagged ``SLICED_DOWNLOAD``) into ``count``
    slices of its shards, one static partition each; with one slice the downloads stay unpartitioned.
    A submitted backfill runs each slice in a run of its own (no backfill policy: a run per
    partition), so the download spreads over the workers; what reads a download (unpartitioned)
    gets every slice's status rows (Dagster's default mapping, all partitions)."""
    slices = dg.StaticPartitionsDefinition(slice_keys(count)) if count > 1 else None

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(partitions_def=slices) if slices and SLICED_DOWNLOAD in spec.tags else spec

    return apply


FILE_PARTITIONS: dict[str, Callable[[object], list[str]]] = {}
"""Dynamic partitions that are the files of a folder: the partitions definition's name → a function
of the ``folders`` resource listing the partition keys now there. ``mmassets build`` syncs them
before it plans (``sync_file_partitions``); in the UI a sensor does (``file_partitions_sensor``)."""


def file_partitions(name: str, keys: Callable[[object], list[str]]) -> dg.DynamicPartitionsDefinition:
    """A dynamic partitions definition whose keys are ``keys(folders)``."""
    FILE_PARTITIONS[name] = keys
    return dg.DynamicPartitionsDefinition(name=name)


def sync_file_partitions(instance: dg.DagsterInstance, folders: object) -> dict[str, tuple[list[str], list[str]]]:
    """Add the keys of every ``FILE_PARTITIONS`` definition that are new, delete those whose file is
    gone; return name → (added, deleted)."""
    changes = {}
    if FILE_PARTITIONS and hasattr(folders, "prepare_raw"):
        folders.prepare_raw()  # the sample profile's raw root exists before its files are listed
    for name, keys in FILE_PARTITIONS.items():
        now, known = keys(folders), set(instance.get_dynamic_partitions(name))
        added, deleted = [k for k in now if k not in known], sorted(known - set(now))
        if added:
            instance.add_dynamic_partitions(name, added)
        for key in deleted:
            instance.delete_dynamic_partition(name, key)
        changes[name] = (added, deleted)
    return changes


FAILED_PARTITIONS = "failed partitions"
"""Metadata key of a ``partitions_failed`` failure: partition key → why it failed."""
HOW_TO_GET = "how to get the missing files"


def partitions_failed(asset: str, failures: dict[str, str], how_to_get: list[str] = ()) -> dg.Failure:
    """The failure of a step that cannot build the partitions in ``failures`` (key → message) but
    could build the others: raised before anything is written. ``mmassets build`` then runs the
    asset again over the other partitions, so that each of those still materializes."""
    listed = "; ".join(f"{key}: {message}" for key, message in failures.items())
    hints = list(dict.fromkeys(how_to_get))
    return dg.Failure(description=f"{asset} cannot build partition(s) {', '.join(failures)} (each fails alone): "
                                  f"{listed}." + "".join(f" {hint}" for hint in hints),
                      metadata={FAILED_PARTITIONS: dg.MetadataValue.json(failures),
                                **({HOW_TO_GET: dg.MetadataValue.json(hints)} if hints else {})},
                      allow_retries=False)
