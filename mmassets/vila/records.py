"""The records VILA's shard loaders read: a coyo-type pair ``{"id", "url", "text", "image"}`` with the
image as base64 JPEG (``clip_sim`` when known), as NVlabs' and llm-jp's downloaders write them."""

from __future__ import annotations

import base64


def pair_record(id: str | int, url: str, text: str, jpeg: bytes, clip_sim: float | None = None) -> dict:
    record = {"id": id, "url": url, "text": text, "image": base64.b64encode(jpeg).decode("ascii")}
    if clip_sim is not None:
        record["clip_sim"] = clip_sim
    return record
