"""llm-jp's Japanese VILA, Step-1 (interleaved pre-training): every dataset a folder of VILA pickle
shards with ``.count`` files under ``exports/vila/<VILA name>/``, registered by the recipe
`vila_ja_step1`:

- llm-jp's Japanese pairs (`llm_jp/alt_pair_ja/*.jsonl`, a URL and a text a line) → images
  downloaded → coyo-type shards `llm_jp_mm_pair_step1_6m`;
- llm-jp's Japanese interleaved documents (`llm_jp/interleaved_ja/*.jsonl`, mmc4's format) →
  images downloaded → mmc4-type shards `llm_jp_mm_interleaved_step1_6m`;
- COYO-700M's rows named by llm-jp's id list (`llm_jp/ids/coyo_6m_ids.txt.gz` over `coyo/*.parquet`)
  → images downloaded → coyo-type shards `coyo_6m`.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.downloads import DownloadConfig, download_images
from mmassets.defs.common.metadata import frame_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, ImageDownloader
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN
from mmassets.files import safe_name
from mmassets.sources import coyo, interleaved, llm_jp_ids, llm_jp_pairs
from mmassets.vila import shards
from mmassets.vila.records import pair_record


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("llm_jp_pairs")])
def llm_jp_pair_step1(context: dg.AssetExecutionContext, folders: DataFolders):
    """llm-jp's Japanese image–text pairs for Step-1 (`llm_jp/alt_pair_ja/*.jsonl`): one row per pair
    (file, record, id, url, text) and where its image goes (`image_id`, under the `llm_jp_step1` root)."""
    files = llm_jp_pairs.pair_files(folders.raw)
    frame = llm_jp_pairs.read_pairs(folders.raw)
    context.log.info(f"read {len(frame):,} pairs from {len(files)} files")
    yield raw_output(frame, *files, **{"files": len(files)})


class VilaImagesConfig(DownloadConfig):
    """VILA's download of images for its shards: RGB, the short side to 336 when larger, JPEG at Pillow's default quality."""

    resize_mode: str = Field(default="vila", description="vila (short side to image_size) | no | mblip | ...")
    image_size: int = Field(default=336, ge=1)
    jpeg_quality: int = Field(default=75, ge=1, le=100)


@dg.asset(name="llm_jp_pair_step1", key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"pairs": dg.AssetIn(key=["raw", "llm_jp_pair_step1"])},
          check_specs=checks.specs(["images", "llm_jp_pair_step1"], checks.DOWNLOADS))
def llm_jp_pair_step1_images(context: dg.AssetExecutionContext, config: VilaImagesConfig, folders: DataFolders,
                             downloader: ImageDownloader, pairs: pd.DataFrame):
    """The Step-1 pairs' images, downloaded (resumable per URL) into the `llm_jp_step1` image root."""
    yield from download_images(context, config, folders, downloader, pairs["url"].tolist(), pairs["image_id"].tolist(),
                               image_root="llm_jp_step1", name="llm_jp_pair_step1")


class ShardConfig(dg.Config):
    shard_size: int = Field(default=shards.SHARD_SIZE, ge=1, description="records per pickle shard (VILA: 12,440)")
    keep_last: bool = Field(default=True, description="write the short last shard (VILA's splitter drops it)")


STEP1_PAIRS = "llm_jp_mm_pair_step1_6m"


@dg.asset(name="llm_jp_pair_step1", code_version="1",
          check_specs=checks.specs(["train", "llm_jp_pair_step1"], checks.ROW_COUNT, checks.SHARDS),
          ins={"pairs": dg.AssetIn(key=["raw", "llm_jp_pair_step1"]),
               "images": dg.AssetIn(key=["images", "llm_jp_pair_step1"])}, **TRAIN)
def train_llm_jp_pair_step1(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                            pairs: pd.DataFrame, images: pd.DataFrame):
    """VILA's coyo-type shards of the Step-1 pairs whose image was downloaded, in
    `exports/vila/llm_jp_mm_pair_step1_6m/`: `{"id", "url", "text", "image": base64 JPEG}` per record,
    `part-NNNNN.pkl` with its `.count`. The value lists the records (without the image bytes) and
    the shard each is in."""
    yield from pair_shards(context, config, folders, pairs, images, image_root="llm_jp_step1", vila_name=STEP1_PAIRS,
                           dataset="llm_jp", source_file=pairs["file"].map(lambda f: f"{llm_jp_pairs.FOLDER}/{f}"))


def pair_shards(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders, pairs: pd.DataFrame,
                images: pd.DataFrame, *, image_root: str, vila_name: str, dataset: str, source_file: pd.Series) -> Iterator:
    """VILA coyo-type shards of the ``pairs`` (id, url, text, image_id; ``clip_sim`` when a column) whose
    image was downloaded (``images``: the status table), in ``exports/vila/<vila_name>/``; yields the
    records without their image bytes, with the shard each is in, then the row-count and shard checks."""
    root = folders.image_root(image_root)
    ok = set(images.loc[images["status"] == "ok", "image_id"])
    have = pairs["image_id"].isin(ok) & pairs["image_id"].map(lambda i: (root / i).is_file())
    kept = pairs[have].assign(source_file=source_file[have]).reset_index(drop=True)
    sims = kept["clip_sim"] if "clip_sim" in kept.columns else pd.Series(None, index=kept.index, dtype=object)
    records = (pair_record(i.item() if hasattr(i, "item") else i, u, t, (root / image).read_bytes(),
                           None if pd.isna(sim) else float(sim))  # plain Python values: a shard holds nothing else
               for i, u, t, image, sim in zip(kept["id"], kept["url"], kept["text"], kept["image_id"], sims))
    folder = folders.exports / "vila" / vila_name
    written = shards.write_shards(records, folder, shard_size=config.shard_size, keep_last=config.keep_last)
    frame = kept.iloc[:written.records].assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="coyo", vila_folder=str(folder),
        image_root=image_root, dataset=dataset, source_id=kept["id"].iloc[:written.records].astype(str))
    row_count = checks.row_count_stable(context, len(frame))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(folder)),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "pairs without an image": len(pairs) - len(kept), **checks.config_metadata(context)})
    yield row_count
    yield checks.vila_shards(folder, images_of=lambda record: [record["image"]])


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("llm_jp_interleaved")],
          check_specs=[dg.AssetCheckSpec("similarity_rows", asset=dg.AssetKey(["raw", "llm_jp_interleaved"]), blocking=False,
                                         description="Every image has its row in similarity_matrix (VILA silently "
                                                     "drops an image without one; so do the shards, counted).")])
def llm_jp_interleaved(context: dg.AssetExecutionContext, folders: DataFolders):
    """llm-jp's Japanese interleaved documents (`llm_jp/interleaved_ja/*.jsonl`, mmc4's format): one
    row per document (file, line, the document as published, its image URLs)."""
    files = interleaved.document_files(folders.raw)
    rows, missing = [], 0
    for path in files:
        safe_name(path.stem, f"document file name {path}")
        for line, doc in interleaved.read_documents(path):
            rows.append((path.name, line, json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                         [image["raw_url"] for image in doc["image_info"]]))
            missing += interleaved.rows_missing(doc)
    frame = pd.DataFrame(rows, columns=["file", "line", "document", "urls"])
    yield raw_output(frame, *files, **{"images": int(frame["urls"].map(len).sum()),
                                       "images without a similarity row": missing})
    yield dg.AssetCheckResult(check_name="similarity_rows", passed=not missing, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"images without a similarity row": missing})


def _document_images(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per image of each document: url, and image_id ``<file stem>/<line:08d>_<i:02d>.jpg``."""
    rows = [(url, f"{Path(file).stem}/{line:08d}_{i:02d}.jpg")
            for file, line, urls in zip(documents["file"], documents["line"], documents["urls"]) for i, url in enumerate(urls)]
    return pd.DataFrame(rows, columns=["url", "image_id"])


@dg.asset(name="llm_jp_interleaved", key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"documents": dg.AssetIn(key=["raw", "llm_jp_interleaved"])},
          check_specs=checks.specs(["images", "llm_jp_interleaved"], checks.DOWNLOADS))
def llm_jp_interleaved_images(context: dg.AssetExecutionContext, config: VilaImagesConfig, folders: DataFolders,
                              downloader: ImageDownloader, documents: pd.DataFrame):
    """The interleaved documents' images, downloaded (resumable per URL) into the `llm_jp_interleaved` image root."""
    wanted = _document_images(documents)
    yield from download_images(context, config, folders, downloader, wanted["url"].tolist(), wanted["image_id"].tolist(),
                               image_root="llm_jp_interleaved", name="llm_jp_interleaved")


STEP1_INTERLEAVED = "llm_jp_mm_interleaved_step1_6m"


@dg.asset(name="llm_jp_interleaved", code_version="1",
          check_specs=checks.specs(["train", "llm_jp_interleaved"], checks.ROW_COUNT, checks.SHARDS),
          ins={"documents": dg.AssetIn(key=["raw", "llm_jp_interleaved"]),
               "images": dg.AssetIn(key=["images", "llm_jp_interleaved"])}, **TRAIN)
def train_llm_jp_interleaved(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                             documents: pd.DataFrame, images: pd.DataFrame):
    """VILA's mmc4-type shards of the interleaved documents, in
    `exports/vila/llm_jp_mm_interleaved_step1_6m/`: each document as published with
    `image_info[i].image_base64` for every image that was downloaded; images that were not, and
    their similarity rows, are left out together; a document with no image left is left out."""
    root = folders.image_root("llm_jp_interleaved")
    ok = set(images.loc[images["status"] == "ok", "image_id"])
    kept, dropped_images, dropped_documents = [], 0, 0

    def shard_documents():
        nonlocal dropped_images, dropped_documents
        for file, line, text in zip(documents["file"], documents["line"], documents["document"]):
            doc = json.loads(text)
            names = [f"{Path(file).stem}/{line:08d}_{i:02d}.jpg" for i in range(len(doc["image_info"]))]
            jpegs = {i: (root / name).read_bytes() for i, name in enumerate(names)
                     if name in ok and (root / name).is_file()}
            out = interleaved.with_images(doc, jpegs)
            if out is None:
                dropped_documents += 1
                continue
            dropped_images += len(doc["image_info"]) - len(out["image_info"])
            kept.append((file, line, len(out["image_info"])))
            yield out

    folder = folders.exports / "vila" / STEP1_INTERLEAVED
    written = shards.write_shards(shard_documents(), folder, shard_size=config.shard_size, keep_last=config.keep_last)
    frame = pd.DataFrame(kept[:written.records], columns=["file", "line", "images"]).assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="mmc4", vila_folder=str(folder),
        image_root="llm_jp_interleaved",
        dataset="llm_jp", source_file=[f"{interleaved.FOLDER}/{f}" for f, _, _ in kept[:written.records]],
        source_id=[str(line) for _, line, _ in kept[:written.records]])
    row_count = checks.row_count_stable(context, len(frame))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(folder)),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "images left out (not downloaded, or no similarity row)": dropped_images,
        "documents left out (no image)": dropped_documents, **checks.config_metadata(context)})
    yield row_count
    yield checks.vila_shards(folder, images_of=lambda doc: [i["image_base64"] for i in doc["image_info"]])


COYO = "coyo_6m"


@dg.asset(name=COYO, key_prefix="raw", group_name="raw", kinds={"parquet"}, code_version="1",
          deps=[source_key("coyo"), source_key("llm_jp_ids")])
def raw_coyo_6m(context: dg.AssetExecutionContext, folders: DataFolders):
    """The COYO-700M rows llm-jp's id list names (`llm_jp/ids/coyo_6m_ids.txt.gz` over `coyo/*.parquet`):
    file, id, url, text, clip_sim, and where each image goes (`image_id`). Ids of the list that none
    of the user's COYO files hold are counted."""
    ids = llm_jp_ids.read_coyo_ids(folders.raw / llm_jp_ids.COYO_IDS)
    files = coyo.parquet_files(folders.raw)
    frame = coyo.read_subset(folders.raw, ids)
    context.log.info(f"{len(frame):,} of the list's {len(ids):,} COYO ids found in {len(files)} files")
    yield raw_output(frame, folders.raw / llm_jp_ids.COYO_IDS, *files, **{
        "ids listed": len(ids), "ids not in these files": len(ids) - len(frame), "files": len(files)})


@dg.asset(name=COYO, key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"pairs": dg.AssetIn(key=["raw", COYO])}, check_specs=checks.specs(["images", COYO], checks.DOWNLOADS))
def coyo_6m_images(context: dg.AssetExecutionContext, config: VilaImagesConfig, folders: DataFolders,
                   downloader: ImageDownloader, pairs: pd.DataFrame):
    """The COYO subset's images, downloaded (resumable per URL) into the `coyo` image root."""
    yield from download_images(context, config, folders, downloader, pairs["url"].tolist(), pairs["image_id"].tolist(),
                               image_root="coyo", name=COYO)


@dg.asset(name=COYO, code_version="1", check_specs=checks.specs(["train", COYO], checks.ROW_COUNT, checks.SHARDS),
          ins={"pairs": dg.AssetIn(key=["raw", COYO]), "images": dg.AssetIn(key=["images", COYO])}, **TRAIN)
def train_coyo_6m(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                  pairs: pd.DataFrame, images: pd.DataFrame):
    """VILA's coyo-type shards of llm-jp's COYO subset (`coyo_6m`), in `exports/vila/coyo_6m/`:
    `{"id", "url", "text", "clip_sim", "image": base64 JPEG}` per record whose image was downloaded."""
    yield from pair_shards(context, config, folders, pairs, images, image_root="coyo", vila_name=COYO, dataset="coyo",
                           source_file=pairs["file"].map(lambda f: f"{coyo.FOLDER}/{f}"))
