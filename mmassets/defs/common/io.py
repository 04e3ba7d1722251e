"""Storage of asset values: one Parquet file per asset, or per partition, published whole
(``mmassets.storage``: a local folder or an object store URL).

``<base>/assets/<asset key path>.parquet`` or ``<base>/assets/<asset key path>/<partition>.parquet``.
A partitioned asset that materializes several partitions in one step returns ``{partition: frame}``;
a downstream asset that reads several partitions gets them concatenated in partition order.
"""


from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets import storage
from mmassets.files import safe_name


def stored_path(base_dir: str | Path, key: dg.AssetKey, partition: str | None = None) -> Path:
    """Where the value of asset ``key`` (or one of its partitions) is stored under ``base_dir`` (a
    folder, or an object store URL: then a UPath)."""
    base = storage.location(base_dir).joinpath("assets", *(safe_name(part, "asset key part") for part in key.path))
    if partition is None:
        return base.with_suffix(".parquet")
    return base / f"{safe_name(partition, f'partition key of {key.to_user_string()}')}.parquet"


def _refuse_if_blocked(context: dg.InputContext) -> None:
    """An input whose latest materialization failed a blocking check is not read: the step that
    wants it fails, naming the check (``blocking``). In the run that failed the check Dagster has
    already skipped the step; this stops the runs after it."""
    from mmassets.defs.common.blocking import refuse_blocked_upstream

    try:
        step = context.step_context
    except Exception:  # noqa: BLE001 - loaded outside a step (a test, a notebook): nothing to guard
        return
    layer = step.job_def.asset_layer
    names = sorted(k.to_user_string() for k in layer.get_selected_entity_keys_for_node(step.node_handle)
                   if isinstance(k, dg.AssetKey))
    refuse_blocked_upstream(context.instance, layer.asset_graph, ", ".join(names) or step.step.key,
                            [context.asset_key])


class ParquetIOManager(dg.ConfigurableIOManager):
    base_dir: str

    def _path(self, key: dg.AssetKey, partition: str | None = None) -> Path:
        return stored_path(self.base_dir, key, partition)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | dict[str, pd.DataFrame]) -> None:
        if obj is None:
            return
        if context.has_asset_partitions:
            keys = list(context.asset_partition_keys)
            if not isinstance(obj, dict) or set(obj) != set(keys):
                raise TypeError(f"{context.asset_key.to_user_string()}: a partitioned asset must return "
                                f"{{partition: DataFrame}} for exactly the partitions {keys}")
            for key in keys:
                self._write(obj[key], self._path(context.asset_key, key))
        else:
            self._write(obj, self._path(context.asset_key))

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        key = context.asset_key
        _refuse_if_blocked(context)
        if not context.has_asset_partitions:
            return self._read(self._path(key), key)
        frames = [self._read(self._path(key, p), key, p) for p in context.asset_partition_keys]
        frames = [f for f in frames if len(f.columns)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @staticmethod
    def _write(frame: pd.DataFrame, path: Path) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{path}: expected a pandas DataFrame, got {type(frame).__name__}")
        storage.write_parquet(frame, path)

    @staticmethod
    def _read(path: Path, key: dg.AssetKey, partition: str | None = None) -> pd.DataFrame:
        if not path.exists():
            what = key.to_user_string() + (f" partition {partition!r}" if partition else "")
            raise FileNotFoundError(f"{what} has not been materialized (no {path})")
        return storage.read_parquet(path)
