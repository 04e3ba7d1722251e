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

from collections.abc import Iterator

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.downloads import DOWNLOAD_ASSET, DownloadConfig, download_images
from mmassets.defs.common.english import ENGLISH, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, ImageDownloader, LanguageMix, NLLBTranslator, PhraseExtractor
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import Run, gate_spec, translated_asset, translated_dg_asset
from mmassets.images.download import OK
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


class WebImagesConfig(DownloadConfig):
    """mBLIP's download: its resize rule, JPEG quality 95 (the defaults)."""


@dg.asset(name=NAME, **DOWNLOAD_ASSET, code_version="1",
          ins={"sample": dg.AssetIn(key=["english", "web_caption_sample"])},
          check_specs=checks.specs(["images", NAME], checks.DOWNLOADS))
def web_caption_images(context: dg.AssetExecutionContext, config: WebImagesConfig, folders: DataFolders,
                       downloader: ImageDownloader, sample: pd.DataFrame):
    """The sample's images, fetched (httpx), resized as mBLIP does (or an img2dataset mode) and
    stored as JPEG under the `web_captions` image root, named by `image_id`. The value is the status
    table (index, url, status, http_status, error, bytes, sha256, width, height, attempts, image_id),
    also kept per shard under `<data dir>/downloads/web_captions/`: a rerun fetches only URLs never
    tried, transient failures and files gone or changed."""
    yield from download_images(context, config, folders, downloader, sample["url"].tolist(),
                               sample["image_id"].tolist(), image_root=ROOT, name=NAME)


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


@translated_dg_asset(code_version="1", check_specs=[gate_spec("web_caption_instructions", instructions=True)])
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
    yield run.gate_result(advisory=True)


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
