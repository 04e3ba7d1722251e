"""Profiles and where settings come from: environment variables, overridden by CLI flags.

``sample`` (default): a generated raw root under the data folder and the tiny local translator.
``production``: the user's raw root (``MMASSETS_RAW_DIR``) and a real NLLB-200 checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mmassets.translation.tiny_model import TINY_MODEL_NAME

PROFILES = ("sample", "production")
DEFAULT_MODEL = "facebook/nllb-200-distilled-1.3B"


@dataclass(frozen=True)
class Settings:
    profile: str
    data_dir: Path
    raw_dir: Path
    translator_model: str
    seed: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``MMASSETS_*`` variables; keyword overrides (CLI flags) win when not None."""
        env = os.environ if env is None else env
        given = {k: v for k, v in overrides.items() if v is not None}
        profile = str(given.get("profile") or env.get("MMASSETS_PROFILE") or "sample")
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
        data_dir = Path(str(given.get("data_dir") or env.get("MMASSETS_DATA_DIR") or "data")).resolve()
        default_raw = data_dir / "sample" / "raw" if profile == "sample" else Path("raw")
        raw_dir = Path(str(given.get("raw_dir") or env.get("MMASSETS_RAW_DIR") or default_raw)).resolve()
        default_model = TINY_MODEL_NAME if profile == "sample" else DEFAULT_MODEL
        model = str(given.get("translator_model") or env.get("MMASSETS_TRANSLATOR_MODEL") or default_model)
        seed = int(given.get("seed") or env.get("MMASSETS_SEED") or 0)
        return cls(profile=profile, data_dir=data_dir, raw_dir=raw_dir, translator_model=model, seed=seed)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables (for `dagster dev` and step subprocesses)."""
        return {"MMASSETS_PROFILE": self.profile, "MMASSETS_DATA_DIR": str(self.data_dir),
                "MMASSETS_RAW_DIR": str(self.raw_dir), "MMASSETS_TRANSLATOR_MODEL": self.translator_model,
                "MMASSETS_SEED": str(self.seed)}
