"""llm-jp's Japanese VILA, Step-1 (interleaved pre-training): every dataset a folder of VILA pickle
shards with ``.count`` files under ``exports/vila/<VILA name>/``, registered by the recipe
`vila_ja_step1`:

- llm-jp's Japanese pairs (`llm_jp/alt_pair_ja/*.jsonl`, a URL and a text a line) → images
  downloaded → coyo-type shards `llm_jp_mm_pair_step1_6m`;
- llm-jp's Japanese interleaved documents (`llm_jp/interleaved_ja/*.jsonl`, mmc4's format) →
  images downloaded → mmc4-type shards `llm_jp_mm_interleaved_step1_6m`;
- COYO-700M's rows named by llm-jp's id list (`llm_jp/ids/coyo_6m_ids.txt.gz` over `coyo/*.parquet`)
  → images downloaded → coyo-type shards `coyo_6m`;
- mmc4-core's documents named by llm-jp's id list (`llm_jp/ids/mmc4_6m_ids.csv.gz` over mmc4's
  `mmc4/docs_shard_<N>_v3.jsonl[.zip]` or `mmc4/docs_no_face_shard_<N>_v3.jsonl[.zip]`) → images
  downloaded → mmc4-type shards `mmc4core_6m`, a document kept only when every image downloaded
  (as NVlabs' mmc4 preparation).
"""

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.accounting import refuse_empty
from mmassets.defs.common.downloads import DOWNLOAD_ASSET, DownloadConfig, download_images
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, ImageDownloader
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN
from mmassets.files import safe_name
from mmassets.images.opener import read_image_bytes
from mmassets.sources import coyo, interleaved, llm_jp_ids, llm_jp_pairs
from mmassets.sources.validation import RawFileMissing
from mmassets.text_limits import STRIPPED, limit_document, limit_text
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
    kept, text = limit_text(kept, ["text"], folders.max_text_chars)  # the text rules of every export
    kept = kept.reset_index(drop=True)
    sims = kept["clip_sim"] if "clip_sim" in kept.columns else pd.Series(None, index=kept.index, dtype=object)
    records = (pair_record(i.item() if hasattr(i, "item") else i, u, t, read_image_bytes(root / image),
                           None if pd.isna(sim) else float(sim))  # plain Python values: a shard holds nothing else
               for i, u, t, image, sim in zip(kept["id"], kept["url"], kept["text"], kept["image_id"], sims))
    without = len(pairs) - int(have.sum())
    refuse_empty(context.asset_key.to_user_string(), len(kept), {"pairs without an image": without, **text},
                 read=len(pairs))
    folder = folders.exports / "vila" / vila_name
    results, verify = checked_shards(context, images_of=lambda record: [record["image"]])
    written = shards.write_shards(records, folder, shard_size=config.shard_size, keep_last=config.keep_last,
                                  verify=verify)
    frame = kept.iloc[:written.records].assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="coyo", vila_folder=str(folder),
        image_root=image_root, dataset=dataset, source_id=kept["id"].iloc[:written.records].astype(str))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(folder)),
        **checks.withheld(checks.blocking_failures(results), [folder]),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "pairs without an image": without, "text": counts_metadata(text), **checks.config_metadata(context)})
    yield from results


def checked_shards(context: dg.AssetExecutionContext, images_of: Callable[[dict], list[str]]):
    """The checks of a folder of VILA shards, computed on the shards before they replace the
    folder (``shards.write_shards``' ``verify``): the list they fill, and the verifier, which lets
    the shards in only when no blocking check failed (the last good folder stays)."""
    results: list[dg.AssetCheckResult] = []

    def verify(staging, written) -> bool:
        results[:] = [checks.row_count_stable(context, written.records),  # before this materialization is stored
                      checks.vila_shards(staging, images_of=images_of)]
        return not checks.blocking_failures(results)

    return results, verify


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
    downloaded = _Downloaded(folders.image_root("llm_jp_interleaved"), images)
    dropped: Counter = Counter()

    def chosen() -> Iterator[tuple[str, int, dict]]:
        for file, line, text in zip(documents["file"], documents["line"], documents["document"]):
            doc = json.loads(text)
            yield from _shard_document(downloaded, file, int(line), doc, dropped, keep_partial=True)

    yield from document_shards(context, config, folders, chosen(), len(documents), dropped,
                               vila_name=STEP1_INTERLEAVED, image_root="llm_jp_interleaved", dataset="llm_jp",
                               folder=interleaved.FOLDER)


def _image_name(file: str, line: int, i: int) -> str:
    """``<stem>/<line:08d>_<i:02d>.jpg``, the stem without ``.jsonl`` / ``.jsonl.zip`` (a shard's zip
    and its unzipped file share their images)."""
    return f"{interleaved.shard_stem(file)}/{line:08d}_{i:02d}.jpg"


class _Downloaded:
    """``(file, line, image count) -> positions of the document's images that were downloaded`` (their
    status ok and the file there); ``root`` the image root."""

    def __init__(self, root: Path, images: pd.DataFrame):
        self.root, self.ok = root, set(images.loc[images["status"] == "ok", "image_id"])

    def __call__(self, file: str, line: int, count: int) -> set[int]:
        return {i for i in range(count)
                if (name := _image_name(file, line, i)) in self.ok and (self.root / name).is_file()}


def _shard_document(downloaded: _Downloaded, file: str, line: int, doc: dict, dropped: Counter, *,
                    keep_partial: bool) -> Iterator[tuple[str, int, dict]]:
    """``(file, line, the document with its downloaded images)`` when it goes in the shards; else
    nothing, its reason counted in ``dropped``."""
    have = downloaded(file, line, len(doc["image_info"]))
    reason = interleaved.drop_reason(doc, have, keep_partial=keep_partial)
    if reason:
        dropped[reason] += 1
        return
    jpegs = {i: read_image_bytes(downloaded.root / _image_name(file, line, i)) for i in sorted(have)}
    yield file, line, interleaved.with_images(doc, jpegs)


def document_shards(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                    chosen: Iterator[tuple[str, int, dict]], read: int, dropped: Counter, *, vila_name: str,
                    image_root: str, dataset: str, folder: str, read_as: str = "documents read",
                    metadata: dict | None = None) -> Iterator:
    """VILA mmc4-type shards of the ``chosen`` documents (``(file, line, document with its images)``)
    in ``exports/vila/<vila_name>/``; ``read`` documents (or list entries) came in and ``dropped``
    (reason -> count, filled while ``chosen`` runs) were left out. Yields the documents (without image
    bytes) with their shard, then the row-count and shard checks."""
    kept, text = [], Counter()

    def limited(documents: Iterator[tuple[str, int, dict]]) -> Iterator[tuple[str, int, dict]]:
        for file, line, doc in documents:  # the text rules of every export
            doc, done = limit_document(doc, "text_list", folders.max_text_chars)
            (text if done == STRIPPED else dropped).update([done] if done else [])
            if doc is not None:
                yield file, line, doc

    chosen = limited(chosen)
    first = next(chosen, None)  # before anything is written: no document of a non-empty input is a failure
    if first is None:
        refuse_empty(context.asset_key.to_user_string(), 0, dict(sorted(dropped.items())), read=read,
                     hint="The shards of its last good materialization (if any) are kept.")

    def documents():
        for file, line, doc in itertools.chain([first] if first else [], chosen):
            kept.append((file, int(line), len(doc["image_info"])))
            yield doc

    target = folders.exports / "vila" / vila_name
    results, verify = checked_shards(context, images_of=lambda doc: [i["image_base64"] for i in doc["image_info"]])
    written = shards.write_shards(documents(), target, shard_size=config.shard_size, keep_last=config.keep_last,
                                  verify=verify)
    kept = kept[:written.records]
    frame = pd.DataFrame(kept, columns=["file", "line", "images"]).assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="mmc4", vila_folder=str(target),
        image_root=image_root, dataset=dataset, source_file=[f"{folder}/{f}" for f, _, _ in kept],
        source_id=[str(line) for _, line, _ in kept])
    if sum(dropped.values()):
        context.log.warning(f"{vila_name}: {sum(dropped.values()):,} of {read:,} left out: "
                            + ", ".join(f"{n:,} {reason}" for reason, n in sorted(dropped.items())))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(target)),
        **checks.withheld(checks.blocking_failures(results), [target]),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        read_as: read, "documents dropped": counts_metadata(dict(sorted(dropped.items()))),
        "text": counts_metadata(dict(text)), **(metadata or {}), **checks.config_metadata(context)})
    yield from results


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
NAMES_SHOWN = 20
"""File names listed in a metadata entry before the rest is only counted."""


def _names(names: list[str]) -> dg.MetadataValue:
    shown = names[:NAMES_SHOWN] + ([f"... and {len(names) - NAMES_SHOWN:,} more"] if len(names) > NAMES_SHOWN else [])
    return dg.MetadataValue.json(shown)


class Mmc4SubsetConfig(dg.Config):
    index_reading: str = Field(default="line", description=(
        "what `index` of mmc4_6m_ids.csv.gz counts (unverified upstream): line — the 0-based line of the "
        "shard's file; kept — the position among the shard's documents NVlabs' preparation keeps (every "
        "image downloaded)"))
    variant: str = Field(default="core", description=(
        "the mmc4-core file a shard is read from when both are there: core — docs_shard_<N>_v3 (with faces; "
        "what llm-jp used) | no_face — docs_no_face_shard_<N>_v3 (fewer faces); a shard with one of them is "
        "read from that one"))


@dg.asset(name=MMC4, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="2",
          deps=[source_key("mmc4"), source_key("llm_jp_ids")], check_specs=[similarity_spec(MMC4)])
def raw_mmc4core_6m(context: dg.AssetExecutionContext, config: Mmc4SubsetConfig, folders: DataFolders):
    """The mmc4-core documents llm-jp's list names (`llm_jp/ids/mmc4_6m_ids.csv.gz`: `shard,index`),
    read from the shard files as mmc4 publishes them under `mmc4/`: `docs_shard_<N>_v3.jsonl`
    (core, with faces) or `docs_no_face_shard_<N>_v3.jsonl` (fewer faces), each unzipped or as the
    published `.jsonl.zip` (`variant` chooses where both are there; an unzipped file is read before
    its zip). One row per candidate document (shard, line, the document, its image URLs, whether the
    list names its line, the file read). With the `kept` reading every document of a listed shard is
    a candidate, since which are named depends on which images download. Listed shards without a
    file and listed ids beyond their shard's length are counted."""
    for setting, value, allowed in (("index_reading", config.index_reading, llm_jp_ids.READINGS),
                                    ("variant", config.variant, tuple(interleaved.MMC4_VARIANTS))):
        if value not in allowed:
            raise ValueError(f"raw/{MMC4} config: {setting} {value!r} is not one of {', '.join(allowed)}")
    listed = llm_jp_ids.read_mmc4_ids(folders.raw / llm_jp_ids.MMC4_IDS)
    folder = folders.raw / interleaved.MMC4_FOLDER
    rows, absent, read, missing, beyond = [], [], [], 0, 0
    for shard, indices in listed.items():
        found = interleaved.mmc4_shard_file(folder, shard, config.variant)
        if found is None:
            absent.append(shard)
            continue
        read.append(found)
        wanted = set(int(i) for i in indices)
        count = 0
        for line, (_, doc) in enumerate(interleaved.read_documents(found.path, interleaved.MMC4_HOW_TO_GET)):
            count += 1
            if config.index_reading == "kept" or line in wanted:
                missing += interleaved.rows_missing(doc)
                rows.append((shard, line, line in wanted, json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                             [image["raw_url"] for image in doc["image_info"]], found.path.name, found.variant))
        beyond += int((indices >= count).sum())
    invented = interleaved.invented_names(folder)
    if not read:
        hint = (f" The folder holds {len(invented):,} file(s) named docs_<N>_v3.jsonl ({', '.join(invented[:3])}"
                f"{', ...' if len(invented) > 3 else ''}), a name mmc4 never published and mmassets no longer "
                "reads: rename each docs_shard_<N>_v3.jsonl (core) or docs_no_face_shard_<N>_v3.jsonl (fewer "
                "faces), as the file it came from was named." if invented else "")
        raise RawFileMissing(folder / "docs_shard_<N>_v3.jsonl.zip", (
            f"None of the {len(listed):,} shards llm-jp's list names has a file under mmc4's names "
            f"({interleaved.MMC4_NAMES}).{hint} {interleaved.MMC4_HOW_TO_GET}"))
    present = sum(len(listed[s]) for s in listed if s not in absent)
    if not rows:
        raise ValueError(f"raw/{MMC4}: none of the {present:,} ids listed in the {len(read):,} shards present is "
                         f"a line of its shard: {beyond:,} are beyond their shard's length")
    frame = pd.DataFrame(rows, columns=["shard", "line", "listed_line", "document", "urls", "file", "variant"]).assign(
        reading=config.index_reading)
    other = [f.path.name for f in read if f.variant != config.variant]
    zips_passed = [name for f in read for name in f.passed_over
                   if name.endswith(".zip") and interleaved.shard_stem(name) == f.stem]
    variants_passed = [name for f in read for name in f.passed_over if interleaved.shard_stem(name) != f.stem]
    context.log.info(f"{len(frame):,} candidate documents from {len(read):,} of {len(listed):,} listed shards "
                     f"({sum(f.zipped for f in read):,} read from their zip)")
    if other:
        context.log.warning(f"raw/{MMC4}: {len(other):,} shards have no {config.variant} file and were read from the "
                            f"other variant ({', '.join(other[:3])}{', ...' if len(other) > 3 else ''}); llm-jp's "
                            "list indexes the core files (docs_shard_<N>_v3)")
    if beyond:
        context.log.warning(f"raw/{MMC4}: {beyond:,} listed ids are beyond their shard's length")
    if invented:
        context.log.warning(f"raw/{MMC4}: {len(invented):,} files named docs_<N>_v3.jsonl, a name mmc4 never "
                            f"published, are not read ({', '.join(invented[:3])}{', ...' if len(invented) > 3 else ''})")
    yield raw_output(frame, folders.raw / llm_jp_ids.MMC4_IDS, *(f.path for f in read), **{
        "index reading": config.index_reading, "variant": config.variant,
        "shards listed": len(listed), "shards absent": len(absent),
        "ids in absent shards": int(sum(len(listed[s]) for s in absent)),
        "ids listed in the present shards": int(present),
        "ids beyond their shard's length": beyond,
        **({"documents the list names by line": len(frame)} if config.index_reading == "line" else
           {"candidate documents (every document of a listed shard)": len(frame)}),
        "files read per variant": counts_metadata({v: sum(f.variant == v for f in read)
                                                   for v in interleaved.MMC4_VARIANTS}),
        "files read from their zip": sum(f.zipped for f in read),
        f"shards read from the other variant (no {config.variant} file)": _names(other),
        "zips not read (their unzipped .jsonl was)": _names(zips_passed),
        "other-variant files not read": _names(variants_passed),
        "absent shards": _names([str(s) for s in absent]),
        "files under a name mmc4 never published (not read)": _names(invented)})
    yield similarity_check(missing)


@dg.asset(name=MMC4, **DOWNLOAD_ASSET, code_version="1",
          ins={"documents": dg.AssetIn(key=["raw", MMC4])}, check_specs=checks.specs(["images", MMC4], checks.DOWNLOADS))
def mmc4core_6m_images(context: dg.AssetExecutionContext, config: VilaImagesConfig, folders: DataFolders,
                       downloader: ImageDownloader, documents: pd.DataFrame):
    """The candidate documents' images, downloaded (resumable per URL) into the `mmc4` image root."""
    wanted = _document_images(documents)
    yield from download_images(context, config, folders, downloader, wanted["url"].tolist(), wanted["image_id"].tolist(),
                               image_root="mmc4", name=MMC4)


class Mmc4ShardConfig(ShardConfig):
    keep_partial_documents: bool = Field(default=False, description=(
        "keep a document that lost some of its images, with those it has; by default a document goes in only "
        "when every image of its image_info downloaded, as NVlabs' mmc4 preparation keeps them"))


BEYOND_KEPT = "listed beyond the shard's documents NVlabs keeps"
"""Drop reason under the `kept` reading: an index past the shard's documents whose every image downloaded."""


@dg.asset(name=MMC4, code_version="2", check_specs=checks.specs(["train", MMC4], checks.ROW_COUNT, checks.SHARDS),
          ins={"documents": dg.AssetIn(key=["raw", MMC4]), "images": dg.AssetIn(key=["images", MMC4])}, **TRAIN)
def train_mmc4core_6m(context: dg.AssetExecutionContext, config: Mmc4ShardConfig, folders: DataFolders,
                      documents: pd.DataFrame, images: pd.DataFrame):
    """VILA's mmc4-type shards of llm-jp's mmc4-core subset (`mmc4core_6m`), in `exports/vila/mmc4core_6m/`:
    the documents the list names under the raw asset's `index_reading`, as NVlabs' preparation keeps
    them: only a document whose every image downloaded (`keep_partial_documents` keeps one with some
    of them), each image with its `image_base64` and its similarity row. Under `kept`, `index` counts
    the documents NVlabs keeps. Every document (list entry, under `kept`) read is written or counted
    under its reason."""
    listed = llm_jp_ids.read_mmc4_ids(folders.raw / llm_jp_ids.MMC4_IDS)
    reading = str(documents["reading"].iloc[0]) if len(documents) else "line"
    downloaded = _Downloaded(folders.image_root("mmc4"), images)
    dropped: Counter = Counter()
    shards_read = sorted({int(s) for s in documents["shard"]})
    read = len(documents) if reading == "line" else int(sum(len(listed.get(s, ())) for s in shards_read))

    def chosen() -> Iterator[tuple[str, int, dict]]:
        for shard, part in documents.groupby("shard", sort=True):
            part = part.sort_values("line")
            rows = list(zip(part["file"], part["line"].astype(int), part["document"], part["urls"]))
            if reading == "kept":  # the index-th of the shard's documents whose every image downloaded
                indices = listed.get(int(shard), np.empty(0, dtype=np.int64))
                selected = [row for _, row in llm_jp_ids.select_documents(rows, indices, "kept", kept=lambda row: (
                    len(row[3]) > 0 and len(downloaded(row[0], row[1], len(row[3]))) == len(row[3])))]
                dropped[BEYOND_KEPT] += len(indices) - len(selected)
                rows = selected
            for file, line, text, _ in rows:
                yield from _shard_document(downloaded, file, line, json.loads(text), dropped,
                                           keep_partial=config.keep_partial_documents)

    yield from document_shards(context, config, folders, chosen(), read, dropped, vila_name=MMC4, image_root="mmc4",
                               dataset="mmc4", folder=interleaved.MMC4_FOLDER, read_as=(
                                   "documents read (the listed lines)" if reading == "line" else
                                   "ids read (the list's entries for the shards read)"), metadata={
                                   "index reading": reading,
                                   "keep_partial_documents": config.keep_partial_documents})
