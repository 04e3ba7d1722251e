"""Downloading a dataset's images from the web into an image root, as an asset body: shards of URLs,
each with a status table under ``<data dir>/downloads/<name>/`` (``mmassets.images.shards``), so
that a rerun fetches only what is missing; images already on disk are adopted; progress lines;
success rates, failures by kind and throughput as metadata; the advisory success-rate check. On
the sample profile a local web server stands in for the web (``mmassets.sample.web_server``)."""

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.metadata import frame_metadata
from mmassets.defs.common.resources import DataFolders, ImageDownloader
from mmassets.files import atomic_path
from mmassets.images import shards
from mmassets.images.download import download
from mmassets.images.resize import ResizeSettings
from mmassets.progress import Progress


class DownloadConfig(dg.Config):
    shard_size: int = Field(default=shards.DEFAULT_SHARD_SIZE, ge=1, description="URLs per shard (one status table each)")
    resize_mode: str = Field(default="mblip", description="mblip | border | keep_ratio | center_crop | no | vila")
    image_size: int = Field(default=256, ge=1)
    jpeg_quality: int = Field(default=95, ge=1, le=100)
    max_pixels: int = Field(default=100_000_000, ge=1, description="larger images are refused before decoding")
    retry_permanent: bool = Field(default=False, description="also refetch URLs that failed permanently (404, not an image)")
    verify_files: bool = Field(default=True, description="check every downloaded file against its sha256 on a rerun")
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
    then the advisory success-rate check."""
    resize = ResizeSettings(mode=config.resize_mode, size=config.image_size, quality=config.jpeg_quality,
                            max_pixels=config.max_pixels)
    root, folder = folders.image_root(image_root), Path(folders.data_dir) / "downloads" / name
    previous = _previous_status(folder)
    ranges = shards.shard_ranges(len(urls), config.shard_size)
    progress = Progress(len(urls), context.log.info, f"{name} images", unit="URLs")
    tables, per_shard, fetched, adopted, covered, started = [], {}, 0, 0, 0, time.monotonic()

    def path_of(index: int) -> Path:
        return root / names[index]

    with _sample_web(folders) as overrides:
        settings = downloader.settings(**overrides)
        for key, start, stop in ranges:
            indices = range(start, stop)
            known = previous[(previous["index"] >= start) & (previous["index"] < stop)] if len(previous) else None
            found = shards.adopt_existing(urls[start:stop], indices, path_of, known)
            known = shards.merge_status(known, found, indices) if found else known
            jobs = shards.jobs_to_run(urls[start:stop], indices, path_of, known,
                                      retry_permanent=config.retry_permanent, verify=config.verify_files)
            covered += (stop - start) - len(jobs)
            outcomes: list = []

            def on_done(outcome, base=covered) -> None:
                outcomes.append(outcome)
                progress.update(base + len(outcomes))

            try:
                download(jobs, settings, resize, on_done=on_done)
            finally:  # an interrupted shard keeps what it fetched
                table = shards.merge_status(known, outcomes, indices)
                with atomic_path(folder / f"shard-{key}.parquet") as tmp:
                    table.to_parquet(tmp, index=False)
            covered += len(jobs)
            fetched, adopted = fetched + len(jobs), adopted + len(found)
            tables.append(table)
            per_shard[key] = shards.summary(table)["success rate"]
        progress.update(len(urls))
    for stale in set(folder.glob("shard-*.parquet")) - {folder / f"shard-{key}.parquet" for key, _, _ in ranges}:
        stale.unlink()
    status = pd.concat(tables, ignore_index=True) if tables else shards.empty_status()
    status["image_id"] = [names[i] for i in status["index"]]
    summary = shards.summary(status)
    elapsed = max(time.monotonic() - started, 1e-9)
    context.log.info(f"{summary['ok']:,}/{summary['urls']:,} images ({summary['success rate']:.1%}); "
                     f"fetched {fetched:,} this run")
    yield dg.Output(status, metadata={
        **frame_metadata(status, language_column=None), "image root": dg.MetadataValue.path(str(root)),
        "urls": summary["urls"], "ok": summary["ok"], "success rate": summary["success rate"],
        "failed transiently": summary["failed transiently"], "failed permanently": summary["failed permanently"],
        "errors by kind": dg.MetadataValue.json(summary["errors by kind"]), "bytes": summary["bytes"],
        "success rate per shard": dg.MetadataValue.json(per_shard), "fetched this run": fetched,
        "found on disk": adopted, "images/s this run": round(fetched / elapsed, 1), "resize": config.resize_mode,
        "status tables": dg.MetadataValue.path(str(folder)), **checks.config_metadata(context)})
    yield checks.download_success(summary, config.min_success_rate)
