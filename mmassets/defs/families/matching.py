"""Caption matching, raw to train: COCO captions become yes/no questions ("does this caption
describe the image?"), half positives and half negatives, the negatives a mix of random captions
and hard ones (most similar under the caption-similarity resource) → the caption translated per
language → `exports/train/caption_matching.json`."""

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common.english import ENGLISH, check_splits, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.resources import CaptionSimilarity, DataFolders, LanguageMix
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import translated_asset
from mmassets.progress import Progress
from mmassets.seeding import derive_seed
from mmassets.sources import coco
from mmassets.tasks.captions import sample_captions
from mmassets.tasks.matching import matching_records, render_matching

NAME = "caption_matching"


class MatchingConfig(dg.Config):
    splits: list[str] = Field(default=["train", "restval"], description="Karpathy splits whose captions are used")
    captions_per_image: int = Field(default=1, ge=1,
                                    description="captions per image (a seeded choice) that become records")
    hard_share: float = Field(default=0.5, ge=0.0, le=1.0, description="share of negatives that are hard ones")


def _matches(frame: pd.DataFrame) -> dg.MetadataValue:
    return counts_metadata(frame["match"].map({True: "yes", False: "no"}).value_counts().to_dict())


@dg.asset(name=NAME, code_version="1", ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          check_specs=english_specs(NAME), **ENGLISH)
def english_matching(context: dg.AssetExecutionContext, config: MatchingConfig, mix: LanguageMix,
                     folders: DataFolders, similarity: CaptionSimilarity, images: pd.DataFrame):
    """Caption-matching records from COCO captions: one per chosen caption, exactly half positives
    (the image's own caption, a yes answer) and half negatives (another image's caption, a no
    answer), negatives random or hard (most similar under the similarity resource); the question
    wraps the caption in one of many yes/no forms."""
    check_splits(f"english/{NAME}", config.splits)
    captions = sample_captions(images, config.splits, config.captions_per_image, derive_seed(mix.seed, NAME, "pick"))
    index = similarity.index(lambda image_id: coco.image_path(folders.raw, image_id))
    context.log.info(f"{len(captions):,} captions; hard negatives by {index.name}")
    lines: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal lines
        lines = lines or Progress(total, context.log.info, f"hard negatives by {index.name}", unit="captions")
        lines.update(done)

    built = matching_records(captions, index, derive_seed(mix.seed, NAME), hard_share=config.hard_share,
                             progress=progress)
    frame = built.frame
    yield from publish_english(context, folders, built, {
        "similarity": index.name, "matches": _matches(frame),
        "negatives": counts_metadata(frame["negative"].fillna("none (positive)").value_counts().to_dict())})


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
    yield from publish(context, folders, NAME, frame,
                       translated=translated, n_english=len(english), mix=mix, source=("coco", coco.KARPATHY_FILE),
                       metadata={"dropped translations": counts_metadata(dropped),
                                 "matches": _matches(frame)})
