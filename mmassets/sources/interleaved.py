"""Interleaved image–text documents in mmc4's format (llm-jp's Japanese interleaved data under
``llm_jp/interleaved_ja/*.jsonl``; mmc4-core's shards under the names mmc4 publishes,
``docs_shard_<N>_v3.jsonl`` (core, with faces: what llm-jp used) and ``docs_no_face_shard_<N>_v3.jsonl``
(core, fewer faces), each also as mmc4 ships it, a ``.jsonl.zip`` holding that one JSON-lines file),
one document a line::

    {"url", "text_list": [sentence, ...],
     "image_info": [{"image_name", "raw_url", "matched_text_index", "matched_sim", "face_detections"}, ...],
     "similarity_matrix": [[sim per sentence] per image], "could_have_url_duplicate"}

VILA's mmc4 loader zips ``image_info`` with ``similarity_matrix`` (an image without its row is
silently dropped), keeps at most six images and puts ``<image>`` before each image's matched
sentence; the image itself is ``image_info[i].image_base64``, which the downloader adds. A
document is checked as it is read: the file, line and field of a malformed one are named.

NVlabs' mmc4 preparation (``data_prepare/mmc4/mmc4_downloader.py``, ``mmc4_filter_and_counter.py``)
keeps a document only when **every** image of its ``image_info`` downloaded (a document without
images has none to download and is not kept either); ``drop_reason`` says why a document is left
out, with ``keep_partial`` keeping one that lost some of its images.

A zip is untrusted input: it must hold exactly one member with a plain file name and a sane
uncompressed size, read as a stream, one bounded line at a time.
"""

from __future__ import annotations

import base64
import re
import zipfile
import zlib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmassets.sources.validation import (EMPTY_HINT, RawFileMissing, RawFormatError, files_matching, json_line,
                                         jsonl_records, shown)

FOLDER = "llm_jp/interleaved_ja"
MMC4_FOLDER = "mmc4"
"""mmc4-core's shards, ``mmc4/docs_shard_<N>_v3.jsonl[.zip]`` or ``mmc4/docs_no_face_shard_<N>_v3.jsonl[.zip]``."""
MMC4_VARIANTS = {"core": "docs_shard_{shard}_v3", "no_face": "docs_no_face_shard_{shard}_v3"}
"""mmc4-core's two variants and the stem of a shard's file in each (mmc4's README): ``core`` with
faces (gated; what llm-jp and NVlabs used), ``no_face`` with fewer faces (public)."""
MMC4_NAMES = "docs_shard_<N>_v3.jsonl(.zip) or docs_no_face_shard_<N>_v3.jsonl(.zip)"
MMC4_HOW_TO_GET = ("Put mmc4-core's shards under <raw root>/mmc4/ as mmc4 publishes them (github.com/allenai/mmc4): "
                   "docs_shard_<N>_v3.jsonl.zip (mmc4-core, gated: the version llm-jp used) or "
                   "docs_no_face_shard_<N>_v3.jsonl.zip (mmc4-core fewer-faces, public: data_core/ in mmc4's "
                   "README), zipped or unzipped to .jsonl.")
INVENTED_NAME = re.compile(r"docs_(\d+)_v3\.jsonl(\.zip)?")
"""``docs_<N>_v3.jsonl``: a name mmc4 never published (mmassets once read it); not read, only pointed out."""
MAX_MEMBER_BYTES = 1 << 30
"""The largest uncompressed JSON-lines member a zip may declare (mmc4's shards are a few MB)."""
MAX_LINE_BYTES = 64 << 20
"""The longest document line read from a zip."""
HOW_TO_GET = ("Download the JSON-lines files of gitlab.llm-jp.nii.ac.jp/datasets/llm-jp-japanese-interleaved-data "
              "into <raw root>/llm_jp/interleaved_ja/.")


def document_files(raw_dir: str | Path, folder: str = FOLDER) -> list[Path]:
    return files_matching(Path(raw_dir) / folder, "*.jsonl", HOW_TO_GET)


def check_document(doc: Any, path: Path, where: str) -> dict:
    """``doc`` if it is an mmc4 document we can use, else a RawFormatError naming the field."""
    if not isinstance(doc, dict):
        raise RawFormatError(path, f"expected an object, got {type(doc).__name__}", record=where)
    texts = doc.get("text_list")
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise RawFormatError(path, "expected a list of strings", record=where, field="text_list")
    images = doc.get("image_info")
    if not isinstance(images, list):
        raise RawFormatError(path, "expected a list of images", record=where, field="image_info")
    for i, image in enumerate(images):
        field = f"image_info[{i}]"
        if not isinstance(image, dict) or not isinstance(image.get("raw_url"), str):
            raise RawFormatError(path, "expected an object with a string raw_url", record=where, field=field)
        index = image.get("matched_text_index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(texts):
            raise RawFormatError(path, f"matched_text_index {index!r} is not a sentence of text_list",
                                 record=where, field=f"{field}.matched_text_index")
    matrix = doc.get("similarity_matrix", [])
    if not isinstance(matrix, list):
        raise RawFormatError(path, "expected a list of rows", record=where, field="similarity_matrix")
    return doc


def read_documents(path: str | Path, how_to_get: str = HOW_TO_GET) -> Iterator[tuple[int, dict]]:
    """``(line number, document)`` of a JSON-lines file of mmc4 documents, or of the one JSON-lines
    member of a ``.zip``, streamed; blank lines skipped; a file with no document is an error (a
    broken download)."""
    path = Path(path)
    empty = True
    records = zip_jsonl_records(path) if path.name.endswith(".zip") else jsonl_records(path, how_to_get)
    for number, doc in records:
        empty = False
        yield number, check_document(doc, path, f"line {number}")
    if empty:
        raise RawFormatError(path, f"the file holds no documents; {EMPTY_HINT}")


def zip_member(archive: zipfile.ZipFile, path: Path, max_bytes: int = MAX_MEMBER_BYTES) -> zipfile.ZipInfo:
    """The one member of ``archive`` if it is a plain, unencrypted file of at most ``max_bytes``
    uncompressed; anything else is a RawFormatError naming the zip."""
    members = archive.infolist()
    if len(members) != 1:
        names = [m.filename for m in members[:5]]
        raise RawFormatError(path, f"expected a zip holding one JSON-lines file, found {len(members)} members "
                             f"({shown(names)}{', ...' if len(members) > 5 else ''})")
    member = members[0]
    name = member.filename
    if member.is_dir() or not name or name in (".", "..") or any(c in name for c in "/\\\0:") or \
            any(ord(c) < 32 for c in name):
        raise RawFormatError(path, f"the zip's member {shown(name)} is not a plain file name (a folder, a path "
                             "or a name with control characters)")
    if member.flag_bits & 0x1:
        raise RawFormatError(path, f"the zip's member {shown(name)} is encrypted")
    if member.file_size > max_bytes:
        raise RawFormatError(path, f"the zip's member {shown(name)} declares {member.file_size:,} bytes "
                             f"uncompressed, more than the {max_bytes:,} a shard can sensibly hold")
    return member


def zip_jsonl_records(path: str | Path, *, max_bytes: int = MAX_MEMBER_BYTES,
                      max_line: int = MAX_LINE_BYTES) -> Iterator[tuple[int, Any]]:
    """(line number, record) of each non-blank line of the one JSON-lines member of the zip at
    ``path``, streamed (never more than one line of at most ``max_line`` bytes in memory); a zip that
    is not one plain member of at most ``max_bytes``, a damaged or cut one, or a bad line fails naming
    the file (and the line)."""
    path = Path(path)
    if not path.is_file():
        raise RawFileMissing(path, MMC4_HOW_TO_GET)
    number = 0
    try:
        with zipfile.ZipFile(path) as archive:
            member = zip_member(archive, path, max_bytes)
            with archive.open(member) as handle:
                while True:
                    raw = handle.readline(max_line + 1)
                    if not raw:
                        break
                    number += 1
                    if len(raw) > max_line and not raw.endswith(b"\n"):
                        raise RawFormatError(path, f"a line longer than {max_line:,} bytes in member "
                                             f"{shown(member.filename)}", record=f"line {number}")
                    if raw.strip():
                        yield number, json_line(path, raw, number)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        where = f" after line {number}" if number else ""
        raise RawFormatError(path, f"not a readable zip file{where} ({type(exc).__name__}: "
                             f"{shown(str(exc), 200)}); it may be damaged or cut short") from None


@dataclass(frozen=True)
class ShardFile:
    """The file read for one mmc4 shard: its path, variant (``core`` | ``no_face``), whether zipped,
    and the names of the shard's other files that were present but not read."""

    shard: int
    path: Path
    variant: str
    passed_over: tuple[str, ...] = ()

    @property
    def zipped(self) -> bool:
        return self.path.name.endswith(".zip")

    @property
    def stem(self) -> str:
        """The publisher's name of the shard without ``.jsonl`` / ``.jsonl.zip``: the same for the
        zip and its unzipped file."""
        return shard_stem(self.path.name)


def shard_stem(name: str) -> str:
    """``docs_shard_0_v3`` of ``docs_shard_0_v3.jsonl`` or ``docs_shard_0_v3.jsonl.zip`` (any file:
    the name without ``.zip`` and ``.jsonl``)."""
    name = name[:-4] if name.endswith(".zip") else name
    return name[:-6] if name.endswith(".jsonl") else Path(name).stem


def mmc4_shard_file(folder: str | Path, shard: int, variant: str = "core") -> ShardFile | None:
    """The file to read for ``shard`` under ``folder``: the chosen ``variant``'s when it has one,
    else the other variant's; of a variant, the unzipped ``.jsonl`` before the ``.jsonl.zip``. None
    when the shard has no file under either publisher name."""
    if variant not in MMC4_VARIANTS:
        raise ValueError(f"unknown mmc4 variant {variant!r}; expected one of {', '.join(MMC4_VARIANTS)}")
    folder = Path(folder)
    order = [variant, *(v for v in MMC4_VARIANTS if v != variant)]
    present = [(v, folder / f"{MMC4_VARIANTS[v].format(shard=shard)}{ext}") for v in order
               for ext in (".jsonl", ".jsonl.zip")]
    present = [(v, p) for v, p in present if p.is_file()]
    if not present:
        return None
    (chosen, path), others = present[0], present[1:]
    return ShardFile(shard, path, chosen, tuple(p.name for _, p in others))


def invented_names(folder: str | Path) -> list[str]:
    """Files of ``folder`` named ``docs_<N>_v3.jsonl[.zip]``, a name mmc4 never published."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if INVENTED_NAME.fullmatch(p.name))


def rows_missing(doc: Mapping) -> int:
    """Images VILA would drop silently: those past the end of ``similarity_matrix``."""
    return max(0, len(doc["image_info"]) - len(doc.get("similarity_matrix", [])))


NO_IMAGES = "no image in image_info"
INCOMPLETE = "not every image downloaded"
NONE_LEFT = "no image left (none downloaded, or none with a similarity row)"
DROP_REASONS = (NO_IMAGES, INCOMPLETE, NONE_LEFT)
"""Why a document is left out of the shards."""


def complete(doc: Mapping, downloaded: Collection[int]) -> bool:
    """Whether NVlabs' preparation keeps ``doc``: it has images and every one of them downloaded
    (``downloaded``: positions in ``image_info``)."""
    count = len(doc["image_info"])
    return count > 0 and all(i in downloaded for i in range(count))


def drop_reason(doc: Mapping, downloaded: Collection[int], *, keep_partial: bool = False) -> str | None:
    """Why ``doc`` is left out of the shards (one of DROP_REASONS), or None when it goes in: as
    NVlabs, only when every image downloaded; ``keep_partial`` keeps one that lost some of them. A
    document whose every downloaded image lacks its similarity row has nothing left either."""
    count = len(doc["image_info"])
    if not count:
        return NO_IMAGES
    have = [i for i in range(count) if i in downloaded]
    if len(have) < count and not keep_partial:
        return INCOMPLETE
    if not any(i < len(doc.get("similarity_matrix", [])) for i in have):
        return NONE_LEFT
    return None


def with_images(doc: Mapping, jpegs: Mapping[int, bytes]) -> dict | None:
    """The document as VILA's shards hold it: each image that was downloaded (``jpegs``: position in
    ``image_info`` → JPEG bytes) with its ``image_base64``, and its similarity row kept beside it;
    images that were not are dropped together with their rows, so the two stay aligned. None when
    no image is left."""
    matrix = doc.get("similarity_matrix", [])
    kept = [i for i in range(len(doc["image_info"])) if i in jpegs and i < len(matrix)]
    if not kept:
        return None
    out = dict(doc)
    out["image_info"] = [{**doc["image_info"][i], "image_base64": base64.b64encode(jpegs[i]).decode("ascii")}
                         for i in kept]
    out["similarity_matrix"] = [matrix[i] for i in kept]
    return out
