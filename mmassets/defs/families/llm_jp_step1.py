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
from mmassets.defs.common.downloads import DOWNLOAD_ASSET, DownloadConfig, download_images
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
    """NVlabs VILA's download of COYO and mmc4 images: RGB, the short side to 336 when larger, JPEG at
    Pillow's default quality."""

    resize_mode: str = Field(default="vila", description="vila (short side to image_size) | rgb | mblip | ...")
    image_size: int = Field(default=336, ge=1)
    jpeg_quality: int = Field(default=75, ge=1, le=100)


class LlmJpImagesConfig(VilaImagesConfig):
    """llm-jp's download of its Japanese pairs and documents (data_prepare/README.md): RGB, saved as
    JPEG at Pillow's default quality, not resized (`vila` resizes as NVlabs does)."""

    resize_mode: str = Field(default="rgb", description="rgb (as llm-jp: no resize) | vila (short side to image_size) | ...")


@dg.asset(name="llm_jp_pair_step1", **DOWNLOAD_ASSET, code_version="1",
          ins={"pairs": dg.AssetIn(key=["raw", "llm_jp_pair_step1"])},
          check_specs=checks.specs(["images", "llm_jp_pair_step1"], checks.DOWNLOADS))
def llm_jp_pair_step1_images(context: dg.AssetExecutionContext, config: LlmJpImagesConfig, folders: DataFolders,
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


SIMILARITY_ROWS = "similarity_rows"


def similarity_spec(name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(SIMILARITY_ROWS, asset=dg.AssetKey(["raw", name]), blocking=False, description=(
        "Every image has its row in similarity_matrix (VILA silently drops an image without one; so do the "
        "shards, counted)."))


def similarity_check(missing: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name=SIMILARITY_ROWS, passed=not missing, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"images without a similarity row": missing})


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("llm_jp_interleaved")],
          check_specs=[similarity_spec("llm_jp_interleaved")])
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
    yield similarity_check(missing)


def _document_images(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per image of each document: url, and image_id ``<file stem>/<line:08d>_<i:02d>.jpg``."""
    rows = [(url, _image_name(file, line, i))
            for file, line, urls in zip(documents["file"], documents["line"], documents["urls"]) for i, url in enumerate(urls)]
    return pd.DataFrame(rows, columns=["url", "image_id"])


@dg.asset(name="llm_jp_interleaved", **DOWNLOAD_ASSET, code_version="1",
          ins={"documents": dg.AssetIn(key=["raw", "llm_jp_interleaved"])},
          check_specs=checks.specs(["images", "llm_jp_interleaved"], checks.DOWNLOADS))
def llm_jp_interleaved_images(context: dg.AssetExecutionContext, config: LlmJpImagesConfig, folders: DataFolders,
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
    with_images = _with_downloaded(folders.image_root("llm_jp_interleaved"), images)
    chosen = ((file, line, with_images(file, line, json.loads(text)))
              for file, line, text in zip(documents["file"], documents["line"], documents["document"]))
    yield from document_shards(context, config, folders, chosen, len(documents), vila_name=STEP1_INTERLEAVED,
                               image_root="llm_jp_interleaved", dataset="llm_jp", folder=interleaved.FOLDER)


def _image_name(file: str, line: int, i: int) -> str:
    return f"{Path(file).stem}/{line:08d}_{i:02d}.jpg"


def _with_downloaded(root: Path, images: pd.DataFrame):
    """``(file, line, document) -> document with its downloaded images`` (None when none was)."""
    ok = set(images.loc[images["status"] == "ok", "image_id"])

    def with_images(file: str, line: int, doc: dict) -> dict | None:
        names = [_image_name(file, line, i) for i in range(len(doc["image_info"]))]
        return interleaved.with_images(doc, {i: (root / name).read_bytes() for i, name in enumerate(names)
                                             if name in ok and (root / name).is_file()})

    return with_images


def document_shards(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                    chosen: Iterator[tuple[str, int, dict | None]], candidates: int, *, vila_name: str,
                    image_root: str, dataset: str, folder: str, metadata: dict | None = None) -> Iterator:
    """VILA mmc4-type shards of the ``chosen`` documents (``(file, line, document with its images)``;
    None: no image left, left out and counted) in ``exports/vila/<vila_name>/``; yields the documents
    (without image bytes) with their shard, then the row-count and shard checks."""
    kept, left_out = [], 0

    def documents():
        nonlocal left_out
        for file, line, doc in chosen:
            if doc is None:
                left_out += 1
                continue
            kept.append((file, int(line), len(doc["image_info"])))
            yield doc

    target = folders.exports / "vila" / vila_name
    written = shards.write_shards(documents(), target, shard_size=config.shard_size, keep_last=config.keep_last)
    kept = kept[:written.records]
    frame = pd.DataFrame(kept, columns=["file", "line", "images"]).assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="mmc4", vila_folder=str(target),
        image_root=image_root, dataset=dataset, source_file=[f"{folder}/{f}" for f, _, _ in kept],
        source_id=[str(line) for _, line, _ in kept])
    row_count = checks.row_count_stable(context, len(frame))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(target)),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "candidate documents": candidates, "documents left out (no image)": left_out,
        **(metadata or {}), **checks.config_metadata(context)})
    yield row_count
    yield checks.vila_shards(target, images_of=lambda doc: [i["image_base64"] for i in doc["image_info"]])


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


@dg.asset(name=COYO, **DOWNLOAD_ASSET, code_version="1",
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


MMC4 = "mmc4core_6m"


class Mmc4SubsetConfig(dg.Config):
    index_reading: str = Field(default="line", description=(
        "what `index` of mmc4_6m_ids.csv.gz counts (unverified upstream): line — the 0-based line of "
        "docs_<shard>_v3.jsonl; kept — the position among the shard's documents with a downloaded image"))


@dg.asset(name=MMC4, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
          deps=[source_key("mmc4"), source_key("llm_jp_ids")], check_specs=[similarity_spec(MMC4)])
def raw_mmc4core_6m(context: dg.AssetExecutionContext, config: Mmc4SubsetConfig, folders: DataFolders):
    """The mmc4-core documents llm-jp's list names (`llm_jp/ids/mmc4_6m_ids.csv.gz`: `shard,index`
    over `mmc4/docs_<shard>_v3.jsonl`), for the shards the user has: one row per candidate document
    (shard, line, the document, its image URLs, and whether the list names its line). With the
    `kept` reading every document of a listed shard is a candidate, since which are named depends
    on which images download."""
    if config.index_reading not in llm_jp_ids.READINGS:
        raise ValueError(f"raw/{MMC4} config: index_reading {config.index_reading!r} is not one of "
                         f"{', '.join(llm_jp_ids.READINGS)}")
    listed = llm_jp_ids.read_mmc4_ids(folders.raw / llm_jp_ids.MMC4_IDS)
    rows, absent, files, missing = [], [], [], 0
    for shard, indices in listed.items():
        path = folders.raw / interleaved.MMC4_FOLDER / f"docs_{shard}_v3.jsonl"
        if not path.is_file():
            absent.append(shard)
            continue
        files.append(path)
        wanted = set(int(i) for i in indices)
        for line, (_, doc) in enumerate(interleaved.read_documents(path)):
            if config.index_reading == "kept" or line in wanted:
                missing += interleaved.rows_missing(doc)
                rows.append((shard, line, line in wanted, json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                             [image["raw_url"] for image in doc["image_info"]]))
    if not files:
        raise FileNotFoundError(f"raw/{MMC4}: none of the {len(listed):,} shards the list names is under "
                                f"{folders.raw / interleaved.MMC4_FOLDER} (docs_<shard>_v3.jsonl)")
    frame = pd.DataFrame(rows, columns=["shard", "line", "listed_line", "document", "urls"]).assign(
        reading=config.index_reading, file=lambda f: [f"docs_{s}_v3.jsonl" for s in f["shard"]])
    context.log.info(f"{len(frame):,} candidate documents from {len(files)} of {len(listed)} listed shards")
    yield raw_output(frame, folders.raw / llm_jp_ids.MMC4_IDS, *files, **{
        "index reading": config.index_reading, "shards listed": len(listed), "shards absent": len(absent),
        "ids listed in the present shards": int(sum(len(listed[s]) for s in listed if s not in absent))})
    yield similarity_check(missing)


@dg.asset(name=MMC4, **DOWNLOAD_ASSET, code_version="1",
          ins={"documents": dg.AssetIn(key=["raw", MMC4])}, check_specs=checks.specs(["images", MMC4], checks.DOWNLOADS))
def mmc4core_6m_images(context: dg.AssetExecutionContext, config: VilaImagesConfig, folders: DataFolders,
                       downloader: ImageDownloader, documents: pd.DataFrame):
    """The candidate documents' images, downloaded (resumable per URL) into the `mmc4` image root."""
    wanted = _document_images(documents)
    yield from download_images(context, config, folders, downloader, wanted["url"].tolist(), wanted["image_id"].tolist(),
                               image_root="mmc4", name=MMC4)


@dg.asset(name=MMC4, code_version="1", check_specs=checks.specs(["train", MMC4], checks.ROW_COUNT, checks.SHARDS),
          ins={"documents": dg.AssetIn(key=["raw", MMC4]), "images": dg.AssetIn(key=["images", MMC4])}, **TRAIN)
def train_mmc4core_6m(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                      documents: pd.DataFrame, images: pd.DataFrame):
    """VILA's mmc4-type shards of llm-jp's mmc4-core subset (`mmc4core_6m`), in `exports/vila/mmc4core_6m/`:
    the documents the list names under the raw asset's `index_reading`, each with the images that
    were downloaded (`image_base64`) and their similarity rows."""
    listed = llm_jp_ids.read_mmc4_ids(folders.raw / llm_jp_ids.MMC4_IDS)
    reading = str(documents["reading"].iloc[0]) if len(documents) else "line"
    with_images = _with_downloaded(folders.image_root("mmc4"), images)

    def chosen() -> Iterator[tuple[str, int, dict | None]]:
        for shard, part in documents.groupby("shard", sort=True):
            rows = [(file, int(line), json.loads(text)) for file, line, text in
                    zip(part["file"], part["line"], part["document"])]
            if reading == "line":  # the raw asset kept exactly the listed lines
                yield from ((file, line, with_images(file, line, doc)) for file, line, doc in rows)
                continue
            done = [(file, line, with_images(file, line, doc)) for file, line, doc in rows]
            selected = llm_jp_ids.select_documents(done, listed[int(shard)], "kept", kept=lambda r: r[2] is not None)
            yield from (row for _, row in selected)

    yield from document_shards(context, config, folders, chosen(), len(documents), vila_name=MMC4, image_root="mmc4",
                               dataset="mmc4", folder=interleaved.MMC4_FOLDER, metadata={"index reading": reading})
