"""DataOptim's visual-instruction datasets, rebuilt from their upstream releases (``mmassets.dataoptim``):
the raw files DataOptim's sources need beyond the ones other families read (COCO Karpathy, VQAv2,
A-OKVQA), then one ``dataoptim/<source>`` asset per DataOptim file, exported as
``exports/dataoptim/<source>.json`` with DataOptim's ids, prompts and image paths, and an image folder
``exports/dataoptim/<source>.images/`` of links that resolves those paths (DataOptim's ``images/``); a
source whose raw rows make no record fails, saying why. The submissions folder's files: a standard
submission (``.txt``, ids) is a partition of ``dataoptim/submission``, built from the 14 sources; a
BYOD file (``.json``) is a partition of ``dataoptim/byod``, which needs none of them. Each partition
is built or fails on its own."""

import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets import storage
from mmassets.dataoptim import boxes, convert
from mmassets.dataoptim.folders import locate
from mmassets.dataoptim.submissions import check_byod, select, source_of
from mmassets.defs.common import checks
from mmassets.defs.common.blocking import refuse_if_inputs_blocked
from mmassets.defs.common.io import stored_path
from mmassets.defs.common.metadata import counts_metadata, frame_metadata
from mmassets.defs.common.partitions import file_partitions, partitions_failed
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import NO_IMAGE_FOLDER, DataFolders, LanguageMix
from mmassets.defs.common.sources import source_key
from mmassets.text_limits import limit_conversations
from mmassets.files import PLAIN_NAME
from mmassets.images.image_folder import link_image_folder
from mmassets.images.opener import UnsafeImageFile, image_size
from mmassets.records import write_conversations
from mmassets.sources import aokvqa, coco, flickr, gqa_questions, ocrvqa, okvqa, refcoco, shikra_rd, svit, textvqa
from mmassets.sources.conversation_files import read_conversation_file, records_frame

GROUP = "dataoptim"
LLAVA_150K = "llava/llava_instruct_150k.json"
HOW_TO_GET_LLAVA_150K = ("Download llava_instruct_150k.json from huggingface.co/datasets/liuhaotian/LLaVA-Instruct-150K "
                         "into <raw root>/llava/.")
SVIT_DIR = "svit"
HOW_TO_GET_SVIT = ("Download SVIT's conversation.zip, complex_reasoning.zip, detail_description.zip and referring_qa.zip "
                   "from huggingface.co/datasets/BAAI/SVIT and unpack their JSON files into <raw root>/svit/.")
COLUMNS = ["id", "id_is_int", "record", "images", "turns", "language", "image_root", "image", "image_id", "box_space",
           "dataset", "source_file", "source_id"]
"""A DataOptim asset's stored columns: the record as DataOptim writes it (``record``), its image as
mmassets finds it (``image_root``, ``images``/``image`` under it), and the space of its boxes."""


def _raw(name: str, dataset: str, description: str, read: Callable[[DataFolders], tuple[pd.DataFrame, list]]):
    @dg.asset(name=name, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
              deps=[source_key(dataset)], description=description)
    def _asset(context: dg.AssetExecutionContext, folders: DataFolders):
        frame, paths = read(folders)
        context.log.info(f"read {len(frame):,} rows from {', '.join(map(str, paths))}")
        yield raw_output(frame, *paths)

    return _asset


def _one(reader: Callable, file: str):
    return lambda folders: (reader(folders.raw / file), [folders.raw / file])


def _okvqa(folders: DataFolders):
    questions, annotations = folders.raw / okvqa.QUESTIONS_FILE, folders.raw / okvqa.ANNOTATIONS_FILE
    joined, _ = okvqa.read_okvqa(questions, annotations)
    return joined, [questions, annotations]


def _refcoco(folders: DataFolders):
    parts, paths = [], []
    for dataset, split_by in convert.REFCOCO_DATASETS:
        refs_path, instances_path = folders.raw / refcoco.refs_file(dataset, split_by), folders.raw / refcoco.instances_file(dataset)
        images, annotations = refcoco.read_instances(instances_path)
        parts.append((dataset, refcoco.read_refs(refs_path), images, annotations))
        paths += [refs_path, instances_path]
    return convert.refcoco_frame(parts), paths


def _svit(folders: DataFolders):
    frames, paths = [], []
    for kind in convert.SVIT_KINDS:
        path = folders.raw / SVIT_DIR / f"{kind}.json"
        frames.append(svit.read_svit(path, kind).assign(kind=kind))
        paths.append(path)
    return pd.concat(frames, ignore_index=True), paths


raw_assets = [
    _raw("flickr30k_karpathy", "flickr30k_karpathy", "Flickr30K in Karpathy's splits (`flickr30k/dataset_flickr30k.json`).",
         _one(flickr.read_karpathy_flickr, "flickr30k/dataset_flickr30k.json")),
    _raw("textcaps", "textcaps", "TextCaps train captions (`textcaps/TextCaps_0.1_train.json`).",
         _one(textvqa.read_textcaps, textvqa.TEXTCAPS_FILE)),
    _raw("textvqa", "textvqa", "TextVQA train questions (`textvqa/TextVQA_0.5.1_train.json`).",
         _one(textvqa.read_textvqa, textvqa.TEXTVQA_FILE)),
    _raw("okvqa", "okvqa", "OK-VQA train questions joined with their annotations on `question_id`.", _okvqa),
    _raw("ocrvqa", "ocrvqa", "OCR-VQA (`ocr_vqa/dataset.json`): one row per question, with its book's split.",
         _one(ocrvqa.read_ocrvqa, ocrvqa.DATASET_FILE)),
    _raw("gqa_balanced", "gqa_balanced", "GQA's balanced train questions (`gqa/train_balanced_questions.json`, streamed).",
         _one(gqa_questions.read_gqa_questions, gqa_questions.QUESTIONS_FILE)),
    _raw("refcoco", "refcoco", "RefCOCO (unc), RefCOCO+ (unc) and RefCOCOg (umd): every ref with its box and image size "
         "(`refcoco/<dataset>/refs(<split_by>).p`, read by an unpickler that refuses code, and `instances.json`).",
         _refcoco),
    _raw("shikra_rd", "shikra", "Shikra-RD (`shikra/GPT4GEN_RD_BoxCoT_train.jsonl`).",
         _one(shikra_rd.read_shikra_rd, shikra_rd.RD_FILE)),
    _raw("svit", "svit", "SVIT's four files (`svit/{conversation,complex_reasoning,detail_description,referring_qa}.json`), "
         "one row per conversation.", _svit),
    _raw("llava_instruct_150k", "llava", "LLaVA-Instruct-150K (`llava/llava_instruct_150k.json`) as published.",
         lambda folders: (read_conversation_file(folders.raw / LLAVA_150K, HOW_TO_GET_LLAVA_150K), [folders.raw / LLAVA_150K])),
]


class GroundingConfig(dg.Config):
    box_space: str = Field(default="original", description="original (DataOptim's files: boxes relative to the image) | "
                                                           "square (relative to the image padded to a square, as LLaVA-1.5 trains)")


def _size_of(folders: DataFolders, source: str) -> Callable[[str], tuple[int, int]]:
    """An image's (width, height) from its header, by its DataOptim path (``opener.image_size``)."""
    within = folders.trusted_roots()

    def size(path: str) -> tuple[int, int]:
        root, under = locate(source, path, lambda r, p: (folders.image_root(r) / p).is_file())
        file = folders.image_root(root) / under
        try:  # a FIFO, device or folder named like the image is refused unopened, a bomb from its header
            return image_size(file, within=within)
        except UnsafeImageFile as exc:
            raise ValueError(f"dataoptim/{source}: image {path!r} has no readable size, which its boxes "
                             f"need: {exc}") from None

    return size


def publish(context: dg.AssetExecutionContext, folders: DataFolders, source: str, records: list[dict], *,
            box_space: str = "", dataset: str, source_file: str, metadata: dict | None = None):
    """Check, store and export (``exports/dataoptim/<source>.json`` and its image folder, only when no
    blocking check failed) one source."""
    frame, text = limit_conversations(records_frame(records), folders.max_text_chars)
    root = folders.image_root
    published = list(frame["images"])  # DataOptim's paths, as the records name them
    located = [[locate(source, p, lambda r, q: (root(r) / q).is_file()) for p in paths] for paths in published]
    first = [row[0] if row else ("", "") for row in located]
    frame = frame.assign(language="en", image_root=[r for r, _ in first], images=[[p for _, p in row] for row in located],
                         image=[p for _, p in first], image_id=[p for _, p in first], box_space=box_space,
                         dataset=dataset, source_file=source_file, source_id=frame["id"])
    folder = folders.exports / "dataoptim"
    files = {path: str(root(r) / under) for paths, row in zip(published, located) for path, (r, under) in zip(paths, row)}
    results = [checks.schema(frame, ["id", "record"]),
               checks.images(pd.DataFrame({"file": list(files.values())}), Path, columns=("file",),
                             within=folders.trusted_roots(), limit=folders.image_check_limit),
               checks.row_count_stable(context, len(frame)),  # before this materialization is stored
               checks.duplicates(frame, ["id"])]
    blocking = checks.blocking_failures(results)
    export, image_folder = None, NO_IMAGE_FOLDER
    if not blocking:
        if folders.exports_local:
            image_folder = dg.MetadataValue.path(str(link_image_folder(folder / f"{source}.images", files)))
        export = write_conversations(folder / f"{source}.json", frame["record"])
    yield dg.Output(frame[COLUMNS], metadata={
        **frame_metadata(frame[["id", "images", "turns"]], export=export, language_column=None),
        **checks.withheld(blocking, [folder / f"{source}.json"]),
        **({} if blocking else {"image folder": image_folder}), "distinct images": len(files),
        **({"box space": box_space} if box_space else {}), "text": counts_metadata(text),
        **checks.config_metadata(context), **(metadata or {})})
    yield from results


def _source(source: str, upstream: list[str], build: Callable, description: str, *, grounding: bool = False):
    """``dataoptim/<source>`` from the raw asset ``upstream``: ``build(frame, folders, seed)`` (with
    the box space too, for a source with boxes) gives its records and extra metadata."""
    specs = checks.specs([GROUP, source], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT, checks.DUPLICATES)
    common = dict(name=source, key_prefix=GROUP, group_name=GROUP, kinds={"pandas", "json"}, code_version="1",
                  ins={"upstream": dg.AssetIn(key=upstream)}, check_specs=specs, description=description)
    dataset, key = upstream[-1], upstream

    if grounding:
        @dg.asset(**common)
        def _asset(context: dg.AssetExecutionContext, config: GroundingConfig, folders: DataFolders, mix: LanguageMix,
                   upstream: pd.DataFrame):
            boxes.place([0, 0, 1, 1], 1, 1, config.box_space)  # an unknown space fails here, named
            records, meta = build(upstream, folders, mix.seed, config.box_space)
            _require_records(source, key, upstream, records, meta)
            yield from publish(context, folders, source, records, box_space=config.box_space, dataset=dataset,
                               source_file=dataset, metadata=meta)
    else:
        @dg.asset(**common)
        def _asset(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix, upstream: pd.DataFrame):
            records, meta = build(upstream, folders, mix.seed)
            _require_records(source, key, upstream, records, meta)
            yield from publish(context, folders, source, records, dataset=dataset, source_file=dataset, metadata=meta)

    return _asset


def _require_records(source: str, upstream: list[str], frame: pd.DataFrame, records: list, meta: dict) -> None:
    """A non-empty input that makes no record fails ``dataoptim/<source>``, naming what its
    conversion keeps (and the drops it counted, in ``meta``)."""
    if len(frame) and not records:
        keeps = KEEPS.get(source, "the rows that make a record")
        raise _no_records(source, upstream, len(frame), f"DataOptim's conversion keeps {keeps}, and it holds none", meta)


KEEPS = {"coco": "the captions of Karpathy's train split", "flickr30k": "the captions of Karpathy's train split",
         "ocrvqa": "the questions of the books of the train split",
         "ref3rec": "the expressions of train refs whose image is in no val or test split",
         "ref3reg": "the expressions of train refs whose image is in no val or test split",
         "svit": "the conversations that are not empty (SVIT issue #5)"}
"""What a source's conversion keeps of its raw rows, where it leaves some out: the message of a
conversion that kept none."""


def _no_records(source: str, upstream: list[str], rows: int, why: str, metadata: dict) -> dg.Failure:
    """The failure of ``dataoptim/<source>`` whose non-empty input made no record."""
    return dg.Failure(description=f"dataoptim/{source}: no records from the {rows:,} rows of {'/'.join(upstream)}: {why}",
                      metadata=metadata, allow_retries=False)


def _plain(convert_one: Callable) -> Callable:
    return lambda frame, folders, seed: (convert_one(frame, folders, seed), {})


def _svit_records(frame, folders, seed, space):
    records, empty = [], {}
    for kind in convert.SVIT_KINDS:
        part, empty[kind] = convert.svit(kind, frame[frame["kind"] == kind], _size_of(folders, "svit"), space)
        records += part
    return records, {"empty descriptions dropped (SVIT issue #5)": counts_metadata(empty)}


def _aokvqa(frame, folders, _):
    """Questions whose COCO image is absent, then those without a correct choice, left out and
    counted (``skipped``); where that leaves none, a failure that says why (a test-split file?)."""
    names = {cocoid: coco.find_image(folders.raw, int(cocoid)) for cocoid in set(frame["image_id"])}
    found = frame["image_id"].map(names).notna()
    records, skipped = convert.aokvqa(frame[found], lambda cocoid: names[cocoid])
    meta = {"skipped": counts_metadata({"image absent": int((~found).sum()), **skipped})}
    if len(frame) and not records:
        counts = ", ".join(f"{reason}: {n:,}" for reason, n in meta["skipped"].value.items() if n)
        why = ("none of their COCO images is under the raw root (coco/train2014/, coco/val2014/)" if not found.any()
               else aokvqa.answers_held(frame, rationales=False))
        raise _no_records("aokvqa", ["raw", "aokvqa"], len(frame), f"skipped {counts}; {why}", meta)
    return records, meta


def _grounded(kind: str) -> Callable:
    return lambda frame, _, seed, space: (convert.refcoco(convert.refcoco_samples(frame), kind, seed, space), {})


source_assets = [
    _source("coco", ["raw", "coco_karpathy"], _plain(lambda f, _, seed: convert.karpathy_captions("coco", f, "coco", seed)),
            "COCO captions (Karpathy train): one record per caption, a caption prompt each."),
    _source("flickr30k", ["raw", "flickr30k_karpathy"],
            _plain(lambda f, _, seed: convert.karpathy_captions("flickr30k", f, "flickr30k", seed)),
            "Flickr30K captions (Karpathy train), as COCO's."),
    _source("textcaps", ["raw", "textcaps"], _plain(lambda f, _, seed: convert.textcaps(f, seed)),
            "TextCaps captions of Open Images pictures."),
    _source("vqav2", ["raw", "vqav2_train"], _plain(lambda f, _, __: convert.vqav2(f)),
            "VQAv2 train: the question with DataOptim's short-answer prompt → `multiple_choice_answer`."),
    _source("okvqa", ["raw", "okvqa"], _plain(lambda f, _, __: convert.vqav2(f, source="okvqa")),
            "OK-VQA train: the most given answer (unverified upstream)."),
    _source("ocrvqa", ["raw", "ocrvqa"], _plain(lambda f, _, __: convert.ocrvqa(f)), "OCR-VQA train questions, a running id."),
    _source("gqa", ["raw", "gqa_balanced"], _plain(lambda f, _, __: convert.gqa(f)),
            "GQA balanced train: the answer is the full sentence (`fullAnswer`)."),
    _source("textvqa", ["raw", "textvqa"], _plain(lambda f, _, __: convert.textvqa(f)),
            "TextVQA train: the most given of the ten answers (unverified upstream)."),
    _source("aokvqa", ["raw", "aokvqa"], _aokvqa,
            "A-OKVQA train as a four-way choice → `The correct option is X.`; questions whose COCO image is in "
            "neither 2014 folder, or without a correct choice (the test split), are left out and counted."),
    _source("ref3rec", ["raw", "refcoco"], _grounded("REC"),
            "RefCOCO/+/g comprehension: a Shikra REC template with the expression → its box.", grounding=True),
    _source("ref3reg", ["raw", "refcoco"], _grounded("REG"),
            "RefCOCO/+/g generation: a Shikra REG template with the box → the expression.", grounding=True),
    _source("shikra", ["raw", "shikra_rd"],
            lambda f, folders, _, space: (convert.shikra_rd(f, _size_of(folders, "shikra"), space), {}),
            "Shikra-RD: questions and their chains of thought, boxes after their phrases.", grounding=True),
    _source("llava", ["raw", "llava_instruct_150k"], _plain(lambda f, _, __: convert.llava(json.loads(r) for r in f["record"])),
            "LLaVA-Instruct-150K as it is, ids `llava_<n>`."),
    _source("svit", ["raw", "svit"], _svit_records,
            "SVIT's four sets as they are; its empty detail descriptions dropped and counted.", grounding=True),
]


TASKS = {"coco": "captioning", "flickr30k": "captioning", "textcaps": "captioning", "vqav2": "vqa", "okvqa": "vqa",
         "ocrvqa": "vqa", "gqa": "vqa", "textvqa": "vqa", "aokvqa": "multiple choice", "ref3rec": "grounding",
         "ref3reg": "grounding", "shikra": "grounding", "llava": "gpt-4 generated", "svit": "gpt-4 generated"}
"""DataOptim's README categories of its sources."""


STANDARD_SUFFIX, BYOD_SUFFIX = ".txt", ".json"
"""A standard submission (an id list) and a BYOD file (its own LLaVA records), by their suffix."""


def submission_files(folders: DataFolders, suffix: str | None = None) -> list[str]:
    """The submission files (``*.txt``: standard, ``*.json``: BYOD; only those of ``suffix`` where
    given) of the submissions folder (``MMASSETS_SUBMISSIONS_DIR``, default
    ``<raw root>/dataoptim/submissions``) whose names can be partition keys, sorted."""
    return sorted(p.name for p in _candidates(folders.submissions)
                  if PLAIN_NAME.fullmatch(p.name) and suffix in (None, p.suffix))


def _candidates(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix in (STANDARD_SUFFIX, BYOD_SUFFIX)] if folder.is_dir() else []


def unusable_submission_files(folders: DataFolders) -> list[str]:
    """Submission files whose names cannot be partition keys (not plain names): reported, not taken."""
    return sorted(p.name for p in _candidates(folders.submissions) if not PLAIN_NAME.fullmatch(p.name))


SUBMISSIONS = file_partitions("dataoptim_submissions", lambda folders: submission_files(folders, STANDARD_SUFFIX))
"""The partitions of ``dataoptim/submission``: the standard submissions (``.txt``) of the folder."""
BYOD_FILES = file_partitions("dataoptim_byod", lambda folders: submission_files(folders, BYOD_SUFFIX))
"""The partitions of ``dataoptim/byod``: the BYOD files (``.json``) of the folder."""
SUBMISSION_KEY, BYOD_KEY = dg.AssetKey([GROUP, "submission"]), dg.AssetKey([GROUP, "byod"])
STORED = ((SUBMISSION_KEY, STANDARD_SUFFIX), (BYOD_KEY, BYOD_SUFFIX))


def _lookup(folders: DataFolders) -> Callable[[str], dict[str, str]]:
    def table(source: str) -> dict[str, str]:
        path = stored_path(folders.storage_root, dg.AssetKey([GROUP, source]))
        if not path.is_file():
            raise FileNotFoundError(f"dataoptim/{source} is not materialized (no {path}); build it first: "
                                    f"mmassets build --select 'key:\"dataoptim/{source}\"'")
        frame = storage.read_parquet(path, columns=["id", "record"])
        return dict(zip(frame["id"], frame["record"]))

    return table


def _image_exists(folders: DataFolders) -> Callable[[str, str], bool]:
    def exists(record_id: str, path: str) -> bool:
        source = source_of(record_id) or ""
        try:
            candidates = [locate(source, path, lambda r, p: (folders.image_root(r) / p).is_file())]
            if path.startswith("visual_genome/") and source not in ("gqa", "svit"):
                candidates.append(locate("gqa", path))
        except ValueError:
            return False
        return any((folders.image_root(root) / under).is_file() for root, under in candidates)

    return exists


def _stored_ids(folders: DataFolders, fresh: dict) -> dict[str, set[str]]:
    """The ids of every submission, of both settings: this step's, and the stored partitions of the
    other files of the folder."""
    ids = {key: set(frame["id"]) for key, frame in fresh.items()}
    for asset, suffix in STORED:
        for key in submission_files(folders, suffix):
            path = stored_path(folders.storage_root, asset, key)
            if key not in ids and path.is_file():
                ids[key] = set(storage.read_parquet(path, columns=["id"])["id"])
    return ids


def compare(parts: dict, ids: dict[str, set[str]]) -> dict[str, dict]:
    """For each submission of ``parts``, against every other one: ids in both, only here, only
    there, and the Jaccard overlap."""
    out = {}
    for key in parts:
        out[key] = {other: {"shared ids": len(ids[key] & theirs), "only here": len(ids[key] - theirs),
                            "only there": len(theirs - ids[key]),
                            "jaccard": round(len(ids[key] & theirs) / max(len(ids[key] | theirs), 1), 4)}
                    for other, theirs in sorted(ids.items()) if other != key}
    return out


def _export_of(folders: DataFolders, path: Path) -> Path:
    """``exports/dataoptim/submissions/<file stem>.json``; a ValueError where a file of the other
    setting, of the same stem, would be exported there too."""
    other = path.with_suffix(BYOD_SUFFIX if path.suffix == STANDARD_SUFFIX else STANDARD_SUFFIX)
    if other.is_file():
        raise ValueError(f"{path.name} and {other.name} would both be exported to exports/dataoptim/submissions/"
                         f"{path.stem}.json: rename one of them")
    return folders.exports / "dataoptim" / "submissions" / f"{path.stem}.json"


def _submissions(context: dg.AssetExecutionContext, folders: DataFolders, asset: dg.AssetKey,
                 read: Callable[[Path], tuple[pd.DataFrame, dict]]) -> tuple[dict[str, pd.DataFrame], dg.AssetCheckResult]:
    """Each partition of the step (a file of the submissions folder) read by ``read(path)`` (its
    records, with a ``source`` column, and extra metadata), checked (schema), exported when the
    check passed, described; a file that cannot be read fails its partition alone
    (``partitions_failed``: nothing is written, ``mmassets build`` builds the others again without it)."""
    unusable = unusable_submission_files(folders)
    if unusable:
        context.log.warning(f"{folders.submissions}: {len(unusable)} file(s) not taken, their names are not plain "
                            f"(letters, digits, '_', '-', '.'): {', '.join(unusable)}")
    read_in, failures = {}, {}
    for key in context.partition_keys:
        path = folders.submissions / key
        try:
            read_in[key] = (_export_of(folders, path), *read(path))
        except (ValueError, OSError) as exc:
            failures[key] = f"{type(exc).__name__}: {exc}"
    if failures:
        raise partitions_failed(asset.to_user_string(), failures)
    frames = {key: frame.assign(task=frame["source"].map(TASKS).fillna("own data"))
              for key, (_, frame, _) in read_in.items()}
    schema = checks.schema(pd.concat(frames.values(), ignore_index=True), ["id", "record"])
    blocking = checks.blocking_failures([schema])
    parts = {}
    for key, (target, _, extra) in read_in.items():
        frame = frames[key]
        export = None if blocking else write_conversations(target, frame["record"])
        context.add_asset_metadata({
            **frame_metadata(frame[["id", "source", "task", "turns"]], export=export, language_column=None),
            **checks.withheld(blocking, [target]),
            "records": len(frame), "distinct ids": int(frame["id"].nunique()),
            "records per source": counts_metadata(frame["source"].value_counts().to_dict()),
            "records per task": counts_metadata(frame["task"].value_counts().to_dict()),
            "files not taken (names not plain)": dg.MetadataValue.json(unusable), **extra}, partition_key=key)
        parts[key] = frame[["source_index", "id", "record", "images", "turns", "source", "task"]]
    for key, comparison in compare(parts, _stored_ids(folders, parts)).items():
        context.add_asset_metadata({"compared with the other submissions": dg.MetadataValue.json(comparison)},
                                   partition_key=key)
    return parts, schema


@dg.asset(name="submission", key_prefix=GROUP, group_name=GROUP, kinds={"pandas", "json"}, code_version="1",
          partitions_def=SUBMISSIONS, deps=[a.key for a in source_assets],
          check_specs=checks.specs([GROUP, "submission"], checks.SCHEMA))
def submission(context: dg.AssetExecutionContext, folders: DataFolders):
    """One partition per standard submission (`.txt`: ids, one a line) of the submissions folder
    (`MMASSETS_SUBMISSIONS_DIR`, default `<raw root>/dataoptim/submissions/`): the LLaVA records it
    names, taken from the 14 `dataoptim/<source>` assets, in file order with repeats. An unknown id
    fails its partition alone, with its line and the closest ids. Exported to
    `exports/dataoptim/submissions/<file>.json`; the metadata gives its size, its mix by source and
    task, and how it compares with the other submissions built so far."""
    refuse_if_inputs_blocked(context, [a.key for a in source_assets])
    lookup = _lookup(folders)

    def read(path: Path) -> tuple[pd.DataFrame, dict]:
        chosen = select(path, lookup)
        frame = records_frame(json.loads(r) for r in chosen.records).assign(source=chosen.sources)
        return frame, {"setting": "standard", "blank lines (skipped)": chosen.blank_lines}

    parts, schema = _submissions(context, folders, SUBMISSION_KEY, read)
    yield dg.Output(parts)
    yield schema


@dg.asset(name="byod", key_prefix=GROUP, group_name=GROUP, kinds={"pandas", "json"}, code_version="1",
          partitions_def=BYOD_FILES, check_specs=checks.specs([GROUP, "byod"], checks.SCHEMA))
def byod(context: dg.AssetExecutionContext, folders: DataFolders):
    """One partition per BYOD submission (`.json`: the participant's own LLaVA records) of the
    submissions folder. Self-contained: it depends on no DataOptim source and is built even when
    they fail. Each file is checked (schema: a record that breaks it fails its partition alone,
    naming record and field; every image resolves under the image roots; ids unique), its problems
    listed per record (a warning), and exported as it is to
    `exports/dataoptim/submissions/<file>.json`, with the same metadata as `dataoptim/submission`."""
    exists, problems_total = _image_exists(folders), 0

    def read(path: Path) -> tuple[pd.DataFrame, dict]:
        nonlocal problems_total
        frame, problems = check_byod(path, exists)
        problems_total += len(problems)
        return frame.assign(source=[source_of(i) or "own" for i in frame["id"]]), {
            "setting": "BYOD", "problems": dg.MetadataValue.json(problems[:50]), "problem count": len(problems)}

    parts, _ = _submissions(context, folders, BYOD_KEY, read)  # its schema: records and ids, as every file's
    yield dg.Output(parts)
    yield dg.AssetCheckResult(check_name=checks.SCHEMA, passed=problems_total == 0,
                              severity=dg.AssetCheckSeverity.WARN, metadata={"BYOD problems": problems_total})


@dg.sensor(name="dataoptim_submissions", minimum_interval_seconds=60,
           description="Adds a partition for each new file in dataoptim/submissions/ (of dataoptim/submission for a "
                       "standard .txt file, of dataoptim/byod for a BYOD .json file), removes those whose file is "
                       "gone, and asks for each new one to be built.")
def submissions_sensor(context: dg.SensorEvaluationContext, folders: DataFolders):
    requests, changes = [], []
    for partitions, asset, suffix in ((SUBMISSIONS, SUBMISSION_KEY, STANDARD_SUFFIX), (BYOD_FILES, BYOD_KEY, BYOD_SUFFIX)):
        now, known = submission_files(folders, suffix), set(context.instance.get_dynamic_partitions(partitions.name))
        added, deleted = [k for k in now if k not in known], sorted(known - set(now))
        requests += [dg.RunRequest(asset_selection=[asset], partition_key=k) for k in added]
        changes += [*([partitions.build_add_request(added)] if added else []),
                    *([partitions.build_delete_request(deleted)] if deleted else [])]
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=changes)
