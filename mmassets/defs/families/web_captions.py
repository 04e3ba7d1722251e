"""BLIP's web captions (mBLIP's largest task), raw to train:

- ``raw/blip_web_captions``: mBLIP's released sample (``blip/ccs_synthetic_filtered_large_2273005_raw.json``)
  when it is there, else BLIP's caption file (``blip/ccs_synthetic_filtered_large.json``);
- ``english/web_caption_concepts``: the concept-balanced draw (phrase → chosen captions), exported
  to ``exports/web_captions/concept_manifest.json``; empty for the released sample;
- ``english/web_caption_sample``: the sampled captions with their URL and image file name;
- ``images/web_captions``: the images downloaded, resized and stored under the ``web_captions``
  image root, a status table per shard (resumable per URL);
- ``english/web_captions``: a record per caption whose image exists; ``translated/web_captions``,
  ``translated/web_caption_instructions`` and ``train/web_captions`` with mBLIP's instruction slots.

On the sample profile the images asset starts a local web server for the sample's URLs.
"""

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.english import ENGLISH, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, ImageDownloader, LanguageMix, NLLBTranslator, PhraseExtractor
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import TRANSLATED, Run, gate_spec, translated_asset
from mmassets.files import atomic_path
from mmassets.images import shards
from mmassets.images.download import OK, download
from mmassets.images.resize import ResizeSettings
from mmassets.languages import SOURCE_LANGUAGE
from mmassets.progress import Progress
from mmassets.records import write_json
from mmassets.seeding import derive_seed
from mmassets.sources import blip
from mmassets.tasks.concepts import draw, english_stopwords, phrase_index
from mmassets.tasks.instructions import rotate
from mmassets.tasks.web_captions import (WEB_CAPTION_INSTRUCTIONS, WEB_CAPTION_INSTRUCTIONS_NAMING_LANGUAGE,
                                         instruction_list, select_sample, web_caption_records)

NAME = "web_captions"
ROOT = "web_captions"


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("blip")])
def blip_web_captions(context: dg.AssetExecutionContext, folders: DataFolders):
    """BLIP's Web CapFilt captions as published, one row per entry in file order (url, caption; and
    image_id, the base name of `jpg`, for mBLIP's released sample, which is then the sample as is).
    Read as a stream; fails naming the file, entry and field when an entry is malformed."""
    path = folders.raw / blip.input_file(folders.raw)
    frame = blip.read_blip(path)
    released = "image_id" in frame.columns
    context.log.info(f"read {len(frame):,} web captions from {path}")
    yield raw_output(frame, path, **{"mBLIP's released sample": released})


class ConceptsConfig(dg.Config):
    min_per_phrase: int = Field(default=10, ge=1, description="a phrase with fewer captions is skipped (mBLIP: 10)")
    max_per_phrase: int = Field(default=30, ge=1, description="a phrase with more keeps this many, drawn (mBLIP: 30)")


@dg.asset(name="web_caption_concepts", code_version="1", ins={"captions": dg.AssetIn(key=["raw", "blip_web_captions"])},
          **ENGLISH)
def web_caption_concepts(context: dg.AssetExecutionContext, config: ConceptsConfig, extractor: PhraseExtractor,
                         mix: LanguageMix, folders: DataFolders, captions: pd.DataFrame):
    """mBLIP's concept-balanced draw over the web captions, seeded: per phrase (a noun chunk,
    lower-cased, stopwords removed), the captions chosen for it — all of them up to
    `max_per_phrase`, a seeded draw above; phrases under `min_per_phrase` skipped. Exported as
    `exports/web_captions/concept_manifest.json` (phrase → rows of the raw file). Empty when the
    input is mBLIP's released sample, which is used as published."""
    export = folders.exports / "web_captions" / "concept_manifest.json"
    if "image_id" in captions.columns:
        write_json(export, {})
        yield dg.Output(pd.DataFrame({"phrase": pd.Series(dtype=str), "captions": pd.Series(dtype="int64"),
                                      "chosen": pd.Series(dtype=object)}),
                        metadata={"dagster/row_count": 0, "note": "mBLIP's released sample is used as published: "
                                                                  "no sampling", "export": dg.MetadataValue.path(str(export))})
        return
    stopwords, stopword_list = english_stopwords()
    progress = Progress(len(captions), context.log.info, "noun chunks", unit="captions")

    def chunk_lists() -> Iterator[list[str]]:
        for i, chunks in enumerate(extractor.chunk_lists(iter(captions["caption"])), 1):
            if i % 1000 == 0:
                progress.update(i)
            yield chunks
        progress.update(len(captions))

    index = phrase_index(chunk_lists(), stopwords)
    sample = draw(index, min_per_phrase=config.min_per_phrase, max_per_phrase=config.max_per_phrase,
                  seed=derive_seed(mix.seed, NAME, "concepts"))
    found = {phrase: len(index[phrase]) for phrase in sample.manifest}
    del index
    frame = pd.DataFrame({"phrase": list(sample.manifest), "captions": [found[p] for p in sample.manifest],
                          "chosen": list(sample.manifest.values())})
    write_json(export, sample.manifest)
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "export": dg.MetadataValue.path(str(export)),
        "phrase extractor": extractor.name(), "stopwords": stopword_list, "phrases seen": sample.phrases,
        "phrases kept": len(sample.manifest), "input captions": len(captions), "sampled captions": len(sample.indices),
        **checks.config_metadata(context)})


@dg.asset(name="web_caption_sample", code_version="1", **ENGLISH,
          ins={"captions": dg.AssetIn(key=["raw", "blip_web_captions"]),
               "concepts": dg.AssetIn(key=["english", "web_caption_concepts"])})
def web_caption_sample(context: dg.AssetExecutionContext, captions: pd.DataFrame, concepts: pd.DataFrame):
    """The web captions to download and train on, in source order: source_index (row of the raw
    file), url, caption, image_id (`{position:08d}.jpg` as mBLIP names them, or the released
    sample's own name)."""
    sample = select_sample(captions, None if "image_id" in captions.columns else concepts["chosen"])
    yield dg.Output(sample, metadata={**frame_metadata(sample, language_column=None),
                                      "of raw captions": len(captions), "released sample": "image_id" in captions})


class WebImagesConfig(dg.Config):
    shard_size: int = Field(default=shards.DEFAULT_SHARD_SIZE, ge=1, description="URLs per shard (one status table each)")
    resize_mode: str = Field(default="mblip", description="mblip | border | keep_ratio | center_crop | no")
    image_size: int = Field(default=256, ge=1)
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
    from mmassets.sample.web_captions import SERVER_FOLDER
    from mmassets.sample.web_server import SAMPLE_HOST, serve

    with serve(folders.raw / SERVER_FOLDER) as base:
        yield {"mirrors": ((SAMPLE_HOST, base),), "allow_private": True, "backoff_s": 0.2}


def _status_dir(folders: DataFolders) -> Path:
    return Path(folders.data_dir) / "downloads" / NAME


def _previous_status(folder: Path) -> pd.DataFrame:
    tables = [pd.read_parquet(path) for path in sorted(folder.glob("shard-*.parquet"))]
    tables = [t for t in tables if len(t)]
    return pd.concat(tables, ignore_index=True) if tables else shards.empty_status()


@dg.asset(name=NAME, key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"sample": dg.AssetIn(key=["english", "web_caption_sample"])},
          check_specs=checks.specs(["images", NAME], checks.DOWNLOADS))
def web_caption_images(context: dg.AssetExecutionContext, config: WebImagesConfig, folders: DataFolders,
                       downloader: ImageDownloader, sample: pd.DataFrame):
    """The sample's images, fetched (httpx), resized as mBLIP does (or an img2dataset mode) and
    stored as JPEG under the `web_captions` image root, named by `image_id`. The value is the status
    table (index, url, status, http_status, error, bytes, sha256, width, height, attempts, image_id),
    also kept per shard under `<data dir>/downloads/web_captions/`: a rerun fetches only URLs never
    tried, transient failures and files gone or changed."""
    resize = ResizeSettings(mode=config.resize_mode, size=config.image_size, max_pixels=config.max_pixels)
    root, folder = folders.image_root(ROOT), _status_dir(folders)
    urls, names = sample["url"].tolist(), sample["image_id"].tolist()
    previous = _previous_status(folder)
    ranges = shards.shard_ranges(len(sample), config.shard_size)
    progress = Progress(len(sample), context.log.info, "web caption images", unit="URLs")
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
        progress.update(len(sample))
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


@dg.asset(name=NAME, code_version="1", check_specs=english_specs(NAME), **ENGLISH,
          ins={"sample": dg.AssetIn(key=["english", "web_caption_sample"]),
               "images": dg.AssetIn(key=["images", NAME])})
def english_web_captions(context: dg.AssetExecutionContext, mix: LanguageMix, folders: DataFolders,
                         sample: pd.DataFrame, images: pd.DataFrame):
    """Web-caption records: one per sampled caption whose image was downloaded and is on disk;
    context a seeded choice of mBLIP's five English caption instructions, label the caption,
    image_id the image's file name (under the `web_captions` image root)."""
    root = folders.image_root(ROOT)
    present = {name for name in images.loc[images["status"] == OK, "image_id"] if (root / name).is_file()}
    built = web_caption_records(sample, present, derive_seed(mix.seed, NAME, "context"))
    yield from publish_english(context, folders, built, {"sampled captions": len(sample)},
                               image_root=ROOT, relative_image=str)


translated_web_captions = translated_asset(
    NAME, ["label"], "Web-caption records of each language: the captions (labels) translated from English.")


@dg.asset(code_version="1", check_specs=[gate_spec("web_caption_instructions")], **TRANSLATED)
def web_caption_instructions(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix):
    """mBLIP's instruction slots for web captions, per language: six English templates naming the
    language ("Caption the image in German."), then the five English instructions translated,
    those whose translation still contains "image caption" (or fails the gate) dropped; English
    takes its five plain instructions."""
    run, parts = Run(context, translator, mix), {}
    for language in context.partition_keys:
        texts, flags = (None, []) if language == SOURCE_LANGUAGE else run.translate(
            WEB_CAPTION_INSTRUCTIONS, language, "web caption instructions")
        listed = instruction_list(mix.table[language].display_name, texts)
        named = len(WEB_CAPTION_INSTRUCTIONS_NAMING_LANGUAGE)
        rest = "english" if language == SOURCE_LANGUAGE else "translated"
        part = pd.DataFrame({"origin": ["names language"] * named + [rest] * (len(listed) - named),
                             "instruction": listed}).assign(language=language)
        parts[language] = part
        extra = {} if texts is None else {
            "kept translations": len(listed) - named,
            "dropped translations": counts_metadata({"gate": sum(1 for f in flags if f),
                                                     "still contains 'image caption'": sum(
                                                         1 for t, f in zip(texts, flags) if not f and t
                                                         and "image caption" in t)})}
        run.add_partition_metadata(language, part, **extra)
    yield dg.Output(parts)
    yield run.gate_result()


@dg.asset(name=NAME, code_version="1", **TRAIN, check_specs=train_specs(NAME),
          ins={"translated": dg.AssetIn(key=["translated", NAME]),
               "instructions": dg.AssetIn(key=["translated", "web_caption_instructions"]),
               "english": dg.AssetIn(key=["english", NAME])})
def train_web_captions(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix,
                       translated: pd.DataFrame, instructions: pd.DataFrame, english: pd.DataFrame):
    """The multilingual web-caption training file, `exports/train/web_captions.json`: each
    language's captions, record i of a language with slot i of that language's instructions
    (cycling), as mBLIP's generate_train.py; captions whose translation was dropped are left out
    and counted."""
    frame, dropped = usable_translations(translated, ["label"])
    frame["context"] = rotate(frame, instructions)
    yield from publish(context, folders, NAME, frame, translated=translated, n_english=len(english), mix=mix,
                       image_root=ROOT, relative_image=str, source=("blip", blip.input_file(folders.raw)),
                       metadata={"dropped translations": counts_metadata(dropped)})
