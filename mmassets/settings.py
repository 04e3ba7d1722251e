"""Profiles and where settings come from: environment variables, overridden by CLI flags.

``sample`` (default): a generated raw root under the data folder and the tiny local translator.
``production``: the user's raw root (``MMASSETS_RAW_DIR``) and a real NLLB-200 checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mmassets.image_roots import ENV_PREFIX as IMAGE_ROOT_PREFIX, roots_from_env
from mmassets.translation.tiny_model import TINY_MODEL_NAME

PROFILES = ("sample", "production")
DEFAULT_MODEL = "facebook/nllb-200-distilled-1.3B"
DEFAULT_REFRESH_CRON = "0 4 * * 1"


@dataclass(frozen=True)
class Settings:
    profile: str
    data_dir: Path
    raw_dir: Path
    translator_model: str
    seed: int = 0
    recipes_dir: Path | None = None
    """A folder of the user's own recipe YAML files, beside the shipped ones (MMASSETS_RECIPES_DIR)."""
    image_roots: dict[str, str] = field(default_factory=dict)
    """Image roots moved from their default folder under the raw root (MMASSETS_IMAGE_ROOT_<NAME>)."""
    languages: Path | None = None
    """The language table (MMASSETS_LANGUAGES); None: the packaged mBLIP table."""
    refresh_cron: str = DEFAULT_REFRESH_CRON
    """When the schedule observes the raw inputs (MMASSETS_REFRESH_CRON)."""
    image_check_limit: int = 50_000
    """Distinct images the images-resolve check looks at, above which it samples (MMASSETS_IMAGE_CHECK_LIMIT)."""
    download_allow_private: bool = False
    """Let the image downloader fetch from loopback/private addresses (MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1)."""
    submissions_dir: Path | None = None
    """DataOptim submission files (MMASSETS_SUBMISSIONS_DIR); None: ``<raw root>/dataoptim/submissions``."""

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
        recipes = given.get("recipes_dir") or env.get("MMASSETS_RECIPES_DIR")
        return cls(profile=profile, data_dir=data_dir, raw_dir=raw_dir, translator_model=model, seed=seed,
                   recipes_dir=Path(str(recipes)).resolve() if recipes else None, image_roots=roots_from_env(env),
                   languages=Path(env["MMASSETS_LANGUAGES"]).resolve() if env.get("MMASSETS_LANGUAGES") else None,
                   refresh_cron=env.get("MMASSETS_REFRESH_CRON") or DEFAULT_REFRESH_CRON,
                   image_check_limit=int(env.get("MMASSETS_IMAGE_CHECK_LIMIT") or 50_000),
                   download_allow_private=env.get("MMASSETS_DOWNLOAD_ALLOW_PRIVATE", "") in ("1", "true", "yes"),
                   submissions_dir=Path(env["MMASSETS_SUBMISSIONS_DIR"]).resolve()
                   if env.get("MMASSETS_SUBMISSIONS_DIR") else None)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables (for `dagster dev` and step subprocesses)."""
        return {"MMASSETS_PROFILE": self.profile, "MMASSETS_DATA_DIR": str(self.data_dir),
                "MMASSETS_RAW_DIR": str(self.raw_dir), "MMASSETS_TRANSLATOR_MODEL": self.translator_model,
                "MMASSETS_SEED": str(self.seed),
                "MMASSETS_REFRESH_CRON": self.refresh_cron, "MMASSETS_IMAGE_CHECK_LIMIT": str(self.image_check_limit),
                **({"MMASSETS_DOWNLOAD_ALLOW_PRIVATE": "1"} if self.download_allow_private else {}),
                **({"MMASSETS_RECIPES_DIR": str(self.recipes_dir)} if self.recipes_dir else {}),
                **({"MMASSETS_LANGUAGES": str(self.languages)} if self.languages else {}),
                **({"MMASSETS_SUBMISSIONS_DIR": str(self.submissions_dir)} if self.submissions_dir else {}),
                **{IMAGE_ROOT_PREFIX + name.upper(): folder for name, folder in self.image_roots.items()}}
