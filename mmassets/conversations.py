"""Conversation records (the LLaVA schema) and the conversions between them and mBLIP records.

A conversation record is ``{"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}``:
``image`` a path relative to the record's image root, a list of paths, or absent for a text-only
record; ``<image>`` marks where the image goes in a human turn. This is the native shape of
LLaVA-Instruct, LLaVA-1.5, ShareGPT4V, ALLaVA, the llm-jp sets and DataOptim.

Both directions are pure functions and lossless on what the two shapes share:

- ``from_mblip``: an mBLIP record ``{"context", "label", "image_id"}`` becomes a one-turn
  conversation, ``<image>\\n`` + context → label;
- ``to_mblip``: a conversation becomes one mBLIP record per human→gpt pair, the ``<image>`` marker
  (with the newline that joins it to the text) taken out. ``to_mblip(from_mblip(r)) == [r]``.
  ``mblip_cleaning=True`` also turns newlines and runs of spaces into single spaces, as mBLIP does
  when it splits ``conversation_58k``.

Every record also carries its lineage — ``dataset``, ``source_file`` and ``source_id`` (upstream id
or record index) — in columns that exports may leave out (``LINEAGE_FIELDS``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

IMAGE_TOKEN = "<image>"
SPEAKERS = ("human", "gpt")
CONVERSATION_FIELDS = ("id", "image", "conversations")
LINEAGE_FIELDS = ("dataset", "source_file", "source_id")

_SPACES = re.compile(r"\s+")


class ConversationError(ValueError):
    """A conversation record that is not in the LLaVA schema; the message names the record and field."""


def validate(record: Mapping[str, Any], where: str = "record") -> None:
    """Raise ConversationError unless ``record`` is a well-formed conversation record."""
    if not isinstance(record, Mapping):
        raise ConversationError(f"{where}: expected an object, got {type(record).__name__}")
    if not isinstance(record.get("id"), (str, int)) or isinstance(record.get("id"), bool):
        raise ConversationError(f"{where}, field 'id': expected a string or integer id")
    image = record.get("image")
    if image is not None and not (isinstance(image, str) and image) and not (
            isinstance(image, list) and image and all(isinstance(p, str) and p for p in image)):
        raise ConversationError(f"{where}, field 'image': expected a path, a list of paths, or no image")
    turns = record.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ConversationError(f"{where}, field 'conversations': expected a non-empty list of turns")
    for i, turn in enumerate(turns):
        if not isinstance(turn, Mapping) or turn.get("from") not in SPEAKERS or not isinstance(turn.get("value"), str):
            raise ConversationError(f"{where}, field 'conversations[{i}]': expected "
                                    "{\"from\": \"human\" | \"gpt\", \"value\": str}")


def image_paths(record: Mapping[str, Any]) -> list[str]:
    """The record's image paths: none for a text-only record, one, or several."""
    image = record.get("image")
    return [] if image is None else [image] if isinstance(image, str) else list(image)


def from_mblip(record: Mapping[str, Any], id: str | int) -> dict[str, Any]:
    """The one-turn conversation of an mBLIP record: ``<image>\\n`` + context, then the label."""
    return {"id": id, "image": record["image_id"], "conversations": [
        {"from": "human", "value": f"{IMAGE_TOKEN}\n{record['context']}"},
        {"from": "gpt", "value": record["label"]}]}


def strip_image_token(text: str, *, mblip_cleaning: bool = False) -> str:
    """A human turn without its ``<image>`` marker and the newline that joined it to the text."""
    text = text.replace(f"{IMAGE_TOKEN}\n", "").replace(f"\n{IMAGE_TOKEN}", "").replace(IMAGE_TOKEN, "")
    return _SPACES.sub(" ", text).strip() if mblip_cleaning else text


def to_mblip(record: Mapping[str, Any], *, mblip_cleaning: bool = False) -> list[dict[str, Any]]:
    """One mBLIP record per human turn directly followed by a gpt turn, in dialogue order. A record
    without an image or with several cannot become mBLIP records (one image each): ConversationError."""
    paths = image_paths(record)
    if len(paths) != 1:
        raise ConversationError(f"record {record.get('id')!r}: {len(paths) or 'no'} images; mBLIP records need "
                                "exactly one image")
    turns = record["conversations"]
    out = []
    for human, gpt in zip(turns, turns[1:]):
        if human["from"] == "human" and gpt["from"] == "gpt":
            out.append({"context": strip_image_token(human["value"], mblip_cleaning=mblip_cleaning),
                        "label": gpt["value"], "image_id": paths[0]})
    return out
