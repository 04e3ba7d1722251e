"""Observable source assets: one per upstream dataset in the raw root, its data version the sha256
of its annotation files (``mmassets.sources.catalog``). Observing is cheap and changes nothing;
a new data version is what makes the assets built from the dataset stale."""


import dagster as dg

from mmassets.defs import known_beta
from mmassets.defs.common.resources import DataFolders
from mmassets.sources import catalog


def source_asset(dataset: str):
    with known_beta():
        observable = dg.observable_source_asset(name=dataset, key_prefix="source", group_name="raw",
                                                required_resource_keys={"folders"},
                                                description=f"The upstream `{dataset}` files in the raw root: "
                                                            f"{', '.join(catalog.DATASET_FILES[dataset])}.")

    @observable
    def _observe(context) -> dg.ObserveResult:
        folders: DataFolders = context.resources.folders
        version, files = catalog.version(folders.raw, dataset)
        return dg.ObserveResult(data_version=dg.DataVersion(version), metadata={
            "files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "paths": dg.MetadataValue.json([p.relative_to(folders.raw).as_posix() for p in files][:50])})

    return _observe


source_assets = [source_asset(dataset) for dataset in catalog.DATASET_FILES]


def source_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["source", dataset])
