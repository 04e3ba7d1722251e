"""Stable seeds: one user-facing seed, derived per task so that tasks shuffle independently."""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, *names: str) -> int:
    """A 63-bit seed from ``seed`` and names, the same on every machine and Python version."""
    digest = hashlib.sha256(":".join([str(seed), *names]).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1
