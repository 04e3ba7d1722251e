"""Caption matching, raw to train: COCO captions — or, as mBLIP does, rows 1000–601000 of the
English web captions (the setting ``captions_from``) — become yes/no questions ("does this caption
describe the image?"), half positives and half negatives, the negatives a mix of random captions
and hard ones (most similar under the caption-similarity resource) → the caption translated per
language → `exports/train/caption_matching.json`."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets import storage
from mmassets.defs.common.io import stored_path
from mmassets.defs.common.english import ENGLISH, check_splits, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.resources import CaptionSimilarity, DataFolders, LanguageMix
from mmassets.defs.common.tags import MERGES_PRESENT
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import translated_asset
from mmassets.progress import Progress
from mmassets.seeding import derive_seed
from mmassets.sources import blip, coco
from mmassets.tasks.captions import sample_captions
from mmassets.tasks.matching import matching_records, render_matching

NAME = "caption_matching"
WEB_CAPTIONS = dg.AssetKey(["english", "web_captions"])


class MatchingConfig(dg.Config):
    splits: list[str] = Field(default=["train", "restval"], description="Karpathy splits whose captions are used")
    captions_per_image: int = Field(default=1, ge=1,
                                    description="captions per image (a seeded choice) that become records")
    hard_share: float = Field(default=0.5, ge=0.0, le=1.0, description="share of negatives that are hard ones")
    captions_from: str = Field(default="coco", description=(
        "coco (Karpathy captions), or web_captions: rows web_caption_rows of english/web_captions, as mBLIP"))
    web_caption_rows: list[int] = Field(default=[1000, 601000], min_length=2, max_length=2,
                                        description="[start, stop) rows of english/web_captions (mBLIP: 1000–601000)")


def _captions(config: MatchingConfig, folders: DataFolders, mix: LanguageMix,
              images: pd.DataFrame) -> tuple[pd.DataFrame, str, Callable[[str], Path]]:
    """The captions to match (image_id, caption), their image root and each image's path."""
    if config.captions_from == "coco":
        check_splits(f"english/{NAME}", config.splits)
        captions = sample_captions(images, config.splits, config.captions_per_image,
                                   derive_seed(mix.seed, NAME, "pick"))
        return captions, "coco", lambda image_id: coco.image_path(folders.raw, image_id)
    if config.captions_from != "web_captions":
        raise ValueError(f"english/{NAME} config: captions_from {config.captions_from!r} is not coco or web_captions")
    path = stored_path(folders.storage_root, WEB_CAPTIONS)
    if not path.is_file():
        raise FileNotFoundError(f"english/{NAME} config: captions_from web_captions, but {WEB_CAPTIONS.to_user_string()} "
                                f"is not materialized (no {path}); build it first")
    start, stop = config.web_caption_rows
    web = storage.read_parquet(path, columns=["image_id", "label"]).iloc[start:stop]
    if web.empty:
        raise ValueError(f"english/{NAME} config: web_caption_rows {config.web_caption_rows} selects none of the "
                         f"{len(storage.read_parquet(path, columns=['image_id'])):,} web-caption records")
    root = folders.image_root("web_captions")
    return (web.rename(columns={"label": "caption"}).reset_index(drop=True), "web_captions",
            lambda image_id: root / image_id)


def _matches(frame: pd.DataFrame) -> dg.MetadataValue:
    return counts_metadata(frame["match"].map({True: "yes", False: "no"}).value_counts().to_dict())


@dg.asset(name=NAME, code_version="1", ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          deps=[WEB_CAPTIONS], tags={MERGES_PRESENT: "true"}, check_specs=english_specs(NAME), **ENGLISH)
def english_matching(context: dg.AssetExecutionContext, config: MatchingConfig, mix: LanguageMix,
                     folders: DataFolders, similarity: CaptionSimilarity, images: pd.DataFrame):
    """Caption-matching records from COCO captions (or the web captions, `captions_from`): one per
    chosen caption, exactly half positives (the image's own caption, a yes answer) and half
    negatives (another image's caption, a no answer), negatives random or hard (most similar under
    the similarity resource); the question wraps the caption in one of many yes/no forms. Runs when
    either of its inputs is there: COCO's by default, the web captions when asked."""
    captions, root, image_path = _captions(config, folders, mix, images)
    index = similarity.index(image_path)
    context.log.info(f"{len(captions):,} captions from {config.captions_from}; hard negatives by {index.name}")
    lines: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal lines
        lines = lines or Progress(total, context.log.info, f"hard negatives by {index.name}", unit="captions")
        lines.update(done)

    built = matching_records(captions, index, derive_seed(mix.seed, NAME), hard_share=config.hard_share,
                             progress=progress)
    frame = built.frame
    frame["image_root"] = root
    yield from publish_english(context, folders, built, {
        "captions from": config.captions_from, "similarity": index.name, "matches": _matches(frame),
        "negatives": counts_metadata(frame["negative"].fillna("none (positive)").value_counts().to_dict())},
        image_root=root, relative_image=coco.relative_image if root == "coco" else str)


translated_matching = translated_asset(NAME, ["caption"], "`english/caption_matching` records of each language: "
                                       "the caption translated.")


@dg.asset(name=NAME, code_version="1", check_specs=train_specs(NAME),
          ins={"translated": dg.AssetIn(key=["translated", NAME]), "english": dg.AssetIn(key=["english", NAME])},
          **TRAIN)
def train_matching(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix,
                   translated: pd.DataFrame, english: pd.DataFrame):
    """The multilingual caption-matching file, `exports/train/caption_matching.json`: each question
    re-rendered around the translated caption (answers unchanged); records whose caption translation
    was dropped are left out and counted."""
    frame, dropped = usable_translations(translated, ["caption"])
    frame["context"] = render_matching(frame)
    web = "image_root" in frame.columns and len(frame) and frame["image_root"].iloc[0] == "web_captions"
    where = dict(image_root="web_captions", relative_image=str, source=("blip", blip.input_file(folders.raw))) if web else \
        dict(source=("coco", coco.KARPATHY_FILE))
    yield from publish(context, folders, NAME, frame.drop(columns=["image_root"], errors="ignore"),
                       translated=translated, n_english=len(english), mix=mix, **where,
                       metadata={"dropped translations": counts_metadata(dropped),
                                 "matches": _matches(frame)})
