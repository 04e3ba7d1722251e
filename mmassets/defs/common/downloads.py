"""Downloading a dataset's images from the web into an image root, as an asset body: shards of URLs,
each with a status table under ``<data dir>/downloads/<name>/`` (``mmassets.images.shards``), so
that a rerun fetches only what is missing; images already on disk are adopted when the image root
records them as the download of the same URL (``<image root>/.mmassets-downloads/<name>/``, written
after each shard), or, with ``adopt_unrecorded``, when nothing is recorded of them; progress lines;
success rates, failures by kind and throughput as metadata; the advisory success-rate check. A
download whose URLs all failed fails (``shards.NothingDownloaded``, the failures counted by kind),
so that nothing is built from an empty folder. URLs refused as loopback/private addresses are
fetched by the first run that allows them (``MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1``). On the sample
profile a local web server stands in for the web (``mmassets.sample.web_server``)."""

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.metadata import frame_metadata
from mmassets.defs.common.resources import DataFolders, ImageDownloader
from mmassets.defs.common.tags import SLICED_DOWNLOAD
from mmassets.files import atomic_path
from mmassets.images import shards
from mmassets.images.download import download
from mmassets.images.resize import ResizeSettings
from mmassets.progress import Progress


DOWNLOAD_ASSET = dict(key_prefix="images", group_name="images", kinds={"jpeg"}, tags={SLICED_DOWNLOAD: "true"})
"""The decorator arguments of an asset whose body is ``download_images``: under ``images/``, cut into
slices as partitions when MMASSETS_IMAGE_SLICES > 1 (``partitions.for_download_slices``)."""


class DownloadConfig(dg.Config):
    shard_size: int = Field(default=shards.DEFAULT_SHARD_SIZE, ge=1, description="URLs per shard (one status table each)")
    resize_mode: str = Field(default="mblip", description="mblip | border | keep_ratio | center_crop | no | vila")
    image_size: int = Field(default=256, ge=1)
    jpeg_quality: int = Field(default=95, ge=1, le=100)
    max_pixels: int = Field(default=100_000_000, ge=1, description="larger images are refused before decoding")
    retry_permanent: bool = Field(default=False, description=(
        "also refetch URLs that failed permanently (404, not an image); URLs refused as loopback/private "
        "addresses are refetched without it once MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1"))
    verify_files: bool = Field(default=True, description="check every downloaded file against its sha256 on a rerun")
    adopt_unrecorded: bool = Field(default=False, description=(
        "take images already on disk that no download of mmassets recorded (your own earlier download under "
        "the same names) as they are instead of fetching them again; counted as `adopted without a record "
        "(your own images)`. A file recorded for another URL is fetched again whatever this says"))
    min_success_rate: float = Field(default=checks.MIN_DOWNLOAD_SUCCESS, ge=0, le=1,
                                    description="the advisory check warns below this share of successes")


@contextlib.contextmanager
def _sample_web(folders: DataFolders) -> Iterator[dict]:
    """On the sample profile: the local server standing in for the web, and the settings that point
    the sample's URLs at it."""
    if folders.profile != "sample":
        yield {}
        return
    from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER, serve

    with serve(folders.raw / SERVER_FOLDER) as base:
        yield {"mirrors": ((SAMPLE_HOST, base),), "allow_private": True, "backoff_s": 0.2}


def _previous_status(folder: Path) -> pd.DataFrame:
    tables = [pd.read_parquet(path) for path in sorted(folder.glob("shard-*.parquet"))]
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else shards.empty_status()


def download_images(context: dg.AssetExecutionContext, config: DownloadConfig, folders: DataFolders,
                    downloader: ImageDownloader, urls: list[str], names: list[str], *, image_root: str,
                    name: str) -> Iterator:
    """Fetch ``urls`` into the image root ``image_root`` as ``names`` (paths under it, chosen by the
    caller, never from the URL), a shard at a time with its status table under
    ``<data dir>/downloads/<name>/``; yield the status table (with ``image_id``) and its metadata,
    then the advisory success-rate check. Fails (``shards.NothingDownloaded``) when there were URLs
    and none of them is downloaded, after writing the status tables.

    A download cut into slices (``DOWNLOAD_ASSET``'s partitions, MMASSETS_IMAGE_SLICES) fetches the
    shards of the slices of its run only, yields ``{slice: its status rows}`` with each slice's
    metadata, and removes stale shard tables of its own slices only: the others may be running."""
    resize = ResizeSettings(mode=config.resize_mode, size=config.image_size, quality=config.jpeg_quality,
                            max_pixels=config.max_pixels)
    root, folder = folders.image_root(image_root), Path(folders.data_dir) / "downloads" / name
    previous = _previous_status(folder)
    sliced = context.assets_def.partitions_def is not None
    ranges = shards.shard_ranges(len(urls), config.shard_size)
    slices = {key: [r for r in ranges if shards.in_slice(r[0], key)]
              for key in (context.partition_keys if sliced else [None])}
    progress = Progress(sum(stop - start for owned in slices.values() for _, start, stop in owned),
                        context.log.info, f"{name} images", unit="URLs")
    outputs, covered = {}, 0

    records = shards.DownloadRecords(root, name)

    def path_of(index: int) -> Path:
        return root / names[index]

    with _sample_web(folders) as overrides:
        settings = downloader.settings(**overrides)
        for key, owned in slices.items():
            tables, per_shard, fetched, started = [], {}, 0, time.monotonic()
            adopted = dict.fromkeys(shards.ADOPTION_KEYS, 0)
            for shard, start, stop in owned:
                indices = range(start, stop)
                known = previous[(previous["index"] >= start) & (previous["index"] < stop)] if len(previous) else None
                found = shards.adopt_existing(urls[start:stop], indices, path_of, known,
                                              lambda i, shard=shard: records.of(names[i], shard),
                                              adopt_unrecorded=config.adopt_unrecorded)
                known = found.apply(known, indices)
                jobs = shards.jobs_to_run(urls[start:stop], indices, path_of, known,
                                          retry_permanent=config.retry_permanent,
                                          allow_private=settings.allow_private, verify=config.verify_files,
                                          checked={o.index for o in found.outcomes})
                covered += (stop - start) - len(jobs)
                table = _fetch_shard(jobs, known, indices, folder / f"shard-{shard}.parquet", settings, resize,
                                     lambda done, base=covered: progress.update(base + done),
                                     lambda table, shard=shard, found=found: records.write(
                                         shard, shards.shard_records(table, names, found.recorded)))
                covered += len(jobs)
                fetched += len(jobs)
                adopted = {k: adopted[k] + found.counts[k] for k in adopted}
                tables.append(table)
                per_shard[shard] = shards.summary(table)["success rate"]
            _remove_stale(folder, key, {shard for shard, _, _ in ranges})
            status = pd.concat(tables, ignore_index=True) if tables else shards.empty_status()
            status["image_id"] = [names[i] for i in status["index"]]
            outputs[key] = (status, _metadata(context, config, status, root, folder, per_shard, fetched, adopted,
                                              records, time.monotonic() - started))
        progress.update(progress.total)
    if records.unreadable:
        context.log.warning(f"{len(records.unreadable)} download record file(s) could not be read; the files they "
                            f"recorded are fetched again: {'; '.join(records.unreadable[:3])}")
    everything = pd.concat([status for status, _ in outputs.values()], ignore_index=True)
    summary = shards.summary(everything)
    context.log.info(f"{summary['ok']:,}/{summary['urls']:,} images ({summary['success rate']:.1%}); "
                     f"fetched {sum(meta['fetched this run'] for _, meta in outputs.values()):,} this run")
    failed = shards.nothing_downloaded(everything, str(folder))
    if failed is not None:
        raise shards.NothingDownloaded(failed)
    if sliced:
        for key, (_, metadata) in outputs.items():
            context.add_asset_metadata(metadata, partition_key=key)
        yield dg.Output({key: status for key, (status, _) in outputs.items()})
    else:
        status, metadata = outputs[None]
        yield dg.Output(status, metadata=metadata)
    yield checks.download_success(summary, config.min_success_rate)


def _fetch_shard(jobs: list, known: pd.DataFrame | None, indices: range, table_path: Path, settings,
                 resize: ResizeSettings, advanced: Callable[[int], None],
                 record: Callable[[pd.DataFrame], object]) -> pd.DataFrame:
    """Run a shard's ``jobs`` (``advanced(n)`` after each), then write its status table, ``known``
    with this run's outcomes over it, and ``record`` it under the image root, even when interrupted
    (it keeps what it fetched). A build killed before that fetches the shard's new files again."""
    outcomes: list = []

    def on_done(outcome) -> None:
        outcomes.append(outcome)
        advanced(len(outcomes))

    try:
        download(jobs, settings, resize, on_done=on_done)
    finally:
        table = shards.merge_status(known, outcomes, indices)
        with atomic_path(table_path) as tmp:
            table.to_parquet(tmp, index=False)
        record(table)
    return table


def _remove_stale(folder: Path, slice_key: str | None, current: set[str]) -> None:
    """Remove the status tables of shards that no longer exist (the sample shrank, or the shard
    size changed) among those of ``slice_key``."""
    for path in folder.glob("shard-*.parquet"):
        shard = path.stem.removeprefix("shard-")
        if shard not in current and shard.isdigit() and shards.in_slice(shard, slice_key):
            path.unlink(missing_ok=True)


def _metadata(context: dg.AssetExecutionContext, config: DownloadConfig, status: pd.DataFrame, root: Path,
              folder: Path, per_shard: dict[str, float], fetched: int, adopted: dict[str, int],
              records: shards.DownloadRecords, seconds: float) -> dict:
    summary = shards.summary(status)
    return {
        **frame_metadata(status, language_column=None), "image root": dg.MetadataValue.path(str(root)),
        "urls": summary["urls"], "ok": summary["ok"], "success rate": summary["success rate"],
        "failed transiently": summary["failed transiently"], "failed permanently": summary["failed permanently"],
        "refused (private address)": summary["refused"],
        "errors by kind": dg.MetadataValue.json(summary["errors by kind"]), "bytes": summary["bytes"],
        "success rate per shard": dg.MetadataValue.json(per_shard), "fetched this run": fetched,
        "found on disk": adopted[shards.ADOPTED_RECORDED] + adopted[shards.ADOPTED_UNRECORDED], **adopted,
        "download records": dg.MetadataValue.path(str(records.folder)),
        **({"unreadable download records": dg.MetadataValue.json(records.unreadable)} if records.unreadable else {}),
        "images/s this run": round(fetched / max(seconds, 1e-9), 1),
        "resize": config.resize_mode, "status tables": dg.MetadataValue.path(str(folder)),
        **checks.config_metadata(context)}
