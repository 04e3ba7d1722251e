"""Profiles and where settings come from: environment variables, overridden by CLI flags.

``sample`` (default): a generated raw root under the data folder and the tiny local translator.
``production``: the user's raw root (``MMASSETS_RAW_DIR``) and a real NLLB-200 checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from mmassets.image_roots import DEFAULT_ROOTS, DERIVED_ROOTS, roots_from_env
from mmassets.image_roots import ENV_PREFIX as IMAGE_ROOT_PREFIX
from mmassets.translation.tiny_model import TINY_MODEL_NAME

PROFILES = ("sample", "production")
DEFAULT_MODEL = "facebook/nllb-200-distilled-1.3B"
DEFAULT_REFRESH_CRON = "0 4 * * 1"
EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")
"""What MMASSETS_EXECUTOR may name (``defs.common.executors``)."""
DEFAULT_MAX_TEXT_CHARS = 20_000
"""Records with a longer text are dropped (``text_limits``): a broken record, not a caption."""
DEFAULT_MAX_FLAGGED_SHARE = 0.05
"""A language partition whose translations fail the quality gate more often than this fails."""
MAX_IMAGE_SLICES = 1024
"""The most partitions an image download is split into (MMASSETS_IMAGE_SLICES): each is a run of a
submitted backfill, and planning costs per partition (100,000 hung a build's planning)."""


class SettingError(ValueError):
    """A setting (environment variable or CLI flag) that cannot be used: one line naming it, its
    value (or the file it names) and what is allowed."""


def _invalid(name: str, value: object, problem: str) -> SettingError:
    return SettingError(f"{name}={value!r}: {problem}")


@dataclass(frozen=True)
class Settings:
    profile: str
    data_dir: Path
    """The local work folder: the Dagster instance (SQLite), caches, models, the sample raw root, the
    image downloads and their status tables; also the stored values and exports unless ``store``."""
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
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    """Records with a text longer than this are dropped and counted (MMASSETS_MAX_TEXT_CHARS)."""
    max_flagged_share: float = DEFAULT_MAX_FLAGGED_SHARE
    """The translation gate: a language partition with a larger share of flagged distinct strings
    fails, and nothing is built from it (MMASSETS_TRANSLATION_MAX_FLAGGED, a share from 0 to 1)."""
    download_allow_private: bool = False
    """Let the image downloader fetch from loopback/private addresses (MMASSETS_DOWNLOAD_ALLOW_PRIVATE=1)."""
    submissions_dir: Path | None = None
    """DataOptim submission files (MMASSETS_SUBMISSIONS_DIR); None: ``<raw root>/dataoptim/submissions``."""
    translation_memory: str | None = None
    """The translation memory: a SQLite file or a ``postgresql://`` URL shared by every machine
    (MMASSETS_TRANSLATION_MEMORY); None: ``<data folder>/translation_memory.sqlite``."""
    languages_per_run: int = 24
    """Language partitions a run of a submitted backfill translates (MMASSETS_LANGUAGES_PER_RUN): the
    translation assets' ``BackfillPolicy.multi_run``; one model load serves them."""
    image_slices: int = 1
    """Partitions of each image download (MMASSETS_IMAGE_SLICES): slice k of K fetches the shards whose
    number is k modulo K, so that a submitted backfill spreads a download over K runs (workers) that
    share the work folder; 1: the download assets are not partitioned."""
    gpus: int | None = None
    """GPUs to plan for (MMASSETS_GPUS: fewer than the machine has, or a count to test with); None: detected."""
    executor: str | None = None
    """What runs the steps of submitted runs (MMASSETS_EXECUTOR: multiprocess, celery, k8s, in_process);
    None: Dagster's default (multiprocess). ``defs.common.executors``."""
    executor_config: dict = field(default_factory=dict)
    """That executor's Dagster config, read from the YAML file MMASSETS_EXECUTOR_CONFIG."""
    executor_config_file: Path | None = None
    store: str | None = None
    """An object store URL (``s3://bucket/prefix``, ``gs://…``) given as the data folder
    (MMASSETS_DATA_DIR, ``--data-dir``): the stored values (``assets/``) and the exports go there, the
    rest to the local work folder ``data_dir`` (MMASSETS_WORK_DIR, default ./data). None: all local."""

    @property
    def storage_root(self) -> str:
        """Where the stored values and exports live: the object store URL, else the data folder."""
        return self.store or str(self.data_dir)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``MMASSETS_*`` variables; keyword overrides (CLI flags) win when not None.
        A value that cannot be used is a ``SettingError`` naming the variable (or flag) and the value."""
        env = os.environ if env is None else env
        given = {k: v for k, v in overrides.items() if v is not None}

        def setting(key: str, variable: str) -> tuple[str, str | None]:
            """(the name to report, the value) of a setting: the flag's when given, else the variable's."""
            if given.get(key, "") != "":
                return "--" + key.replace("_", "-"), str(given[key])
            return variable, env.get(variable) or None

        name, profile = setting("profile", "MMASSETS_PROFILE")
        if (profile or "sample") not in PROFILES:
            raise _invalid(name, profile, f"unknown profile; expected one of {', '.join(PROFILES)}")
        profile = profile or "sample"
        data_name, data = setting("data_dir", "MMASSETS_DATA_DIR")
        store = None
        if data and "://" in data:
            from mmassets.storage import is_url

            if not is_url(data):
                raise _invalid(data_name, data, "not a folder or an object store URL (s3://bucket/prefix, gs://…)")
            store, data = data.rstrip("/"), setting("work_dir", "MMASSETS_WORK_DIR")[1]
            data_name = "MMASSETS_WORK_DIR"
        data_dir = Path(data or "data").resolve()
        if data_dir.exists() and not data_dir.is_dir():
            raise _invalid(data_name, data or "data",
                           f"{data_dir} is not a folder; expected a folder (made if missing)")
        raw_name, raw = setting("raw_dir", "MMASSETS_RAW_DIR")
        raw_dir = Path(raw or (data_dir / "sample" / "raw" if profile == "sample" else "raw")).resolve()
        if profile == "production" and not raw_dir.is_dir():
            shown = f"{raw_name}={raw!r}" if raw else f"{raw_name} not set (default ./raw)"
            raise SettingError(f"{shown}: the raw folder {raw_dir} does not exist; the production profile reads "
                               "your raw files from it (layout: README, Running on real data), the sample profile "
                               "(--profile sample) generates one")
        default_model = TINY_MODEL_NAME if profile == "sample" else DEFAULT_MODEL
        model = setting("translator_model", "MMASSETS_TRANSLATOR_MODEL")[1] or default_model
        recipes_name, recipes = setting("recipes_dir", "MMASSETS_RECIPES_DIR")
        languages = env.get("MMASSETS_LANGUAGES") or None
        cron = env.get("MMASSETS_REFRESH_CRON") or DEFAULT_REFRESH_CRON
        if cron != DEFAULT_REFRESH_CRON and not _valid_cron(cron):
            raise _invalid("MMASSETS_REFRESH_CRON", cron, "not a cron string; expected five fields (minute hour "
                           "day-of-month month day-of-week), e.g. '0 4 * * 1' (Mondays 04:00)")
        settings = cls(profile=profile, data_dir=data_dir, raw_dir=raw_dir, translator_model=model,
                       seed=_whole(*setting("seed", "MMASSETS_SEED"), default=0, minimum=0),
                       recipes_dir=Path(recipes).resolve() if recipes else None,
                       image_roots=_image_roots(env), languages=Path(languages).resolve() if languages else None,
                       refresh_cron=cron,
                       image_check_limit=_whole("MMASSETS_IMAGE_CHECK_LIMIT", env.get("MMASSETS_IMAGE_CHECK_LIMIT"),
                                                default=50_000, minimum=1),
                       max_text_chars=_whole("MMASSETS_MAX_TEXT_CHARS", env.get("MMASSETS_MAX_TEXT_CHARS"),
                                             default=DEFAULT_MAX_TEXT_CHARS, minimum=1),
                       max_flagged_share=_share("MMASSETS_TRANSLATION_MAX_FLAGGED",
                                                env.get("MMASSETS_TRANSLATION_MAX_FLAGGED"),
                                                default=DEFAULT_MAX_FLAGGED_SHARE),
                       download_allow_private=_flag("MMASSETS_DOWNLOAD_ALLOW_PRIVATE",
                                                    env.get("MMASSETS_DOWNLOAD_ALLOW_PRIVATE")),
                       submissions_dir=Path(env["MMASSETS_SUBMISSIONS_DIR"]).resolve()
                       if env.get("MMASSETS_SUBMISSIONS_DIR") else None,
                       translation_memory=_memory_location(env.get("MMASSETS_TRANSLATION_MEMORY")),
                       languages_per_run=_whole("MMASSETS_LANGUAGES_PER_RUN", env.get("MMASSETS_LANGUAGES_PER_RUN"),
                                                default=24, minimum=1),
                       image_slices=_whole("MMASSETS_IMAGE_SLICES", env.get("MMASSETS_IMAGE_SLICES"),
                                           default=1, minimum=1, maximum=MAX_IMAGE_SLICES),
                       gpus=_whole("MMASSETS_GPUS", env.get("MMASSETS_GPUS"), default=None, minimum=0),
                       store=store, **_executor(env.get("MMASSETS_EXECUTOR"), env.get("MMASSETS_EXECUTOR_CONFIG")))
        _check_files(settings, recipes_name)
        return settings

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables (for `dagster dev` and step subprocesses)."""
        return {"MMASSETS_PROFILE": self.profile, "MMASSETS_DATA_DIR": self.storage_root,
                **({"MMASSETS_WORK_DIR": str(self.data_dir)} if self.store else {}),
                "MMASSETS_RAW_DIR": str(self.raw_dir), "MMASSETS_TRANSLATOR_MODEL": self.translator_model,
                "MMASSETS_SEED": str(self.seed),
                "MMASSETS_REFRESH_CRON": self.refresh_cron, "MMASSETS_IMAGE_CHECK_LIMIT": str(self.image_check_limit),
                "MMASSETS_MAX_TEXT_CHARS": str(self.max_text_chars),
                **({"MMASSETS_TRANSLATION_MAX_FLAGGED": str(self.max_flagged_share)}
                   if self.max_flagged_share != DEFAULT_MAX_FLAGGED_SHARE else {}),
                **({"MMASSETS_DOWNLOAD_ALLOW_PRIVATE": "1"} if self.download_allow_private else {}),
                **({"MMASSETS_RECIPES_DIR": str(self.recipes_dir)} if self.recipes_dir else {}),
                **({"MMASSETS_LANGUAGES": str(self.languages)} if self.languages else {}),
                **({"MMASSETS_SUBMISSIONS_DIR": str(self.submissions_dir)} if self.submissions_dir else {}),
                **({"MMASSETS_TRANSLATION_MEMORY": self.translation_memory} if self.translation_memory else {}),
                "MMASSETS_LANGUAGES_PER_RUN": str(self.languages_per_run),
                **({"MMASSETS_IMAGE_SLICES": str(self.image_slices)} if self.image_slices != 1 else {}),
                **({"MMASSETS_GPUS": str(self.gpus)} if self.gpus is not None else {}),
                **({"MMASSETS_EXECUTOR": self.executor} if self.executor else {}),
                **({"MMASSETS_EXECUTOR_CONFIG": str(self.executor_config_file)} if self.executor_config_file else {}),
                **{IMAGE_ROOT_PREFIX + name.upper(): folder for name, folder in self.image_roots.items()}}


def _memory_location(value: str | None) -> str | None:
    """A PostgreSQL URL as it is, a SQLite file made absolute. A folder, a file that is not a SQLite
    database (corrupt, or another kind of file) or one that cannot be read is refused here, in one
    line; a read-only file is accepted (the memory is then used read-only: ``memory.TranslationMemory``)."""
    if not value:
        return None
    from mmassets.translation.postgres_memory import is_postgres_url

    if "://" in value:
        if not is_postgres_url(value):
            raise _invalid("MMASSETS_TRANSLATION_MEMORY", value.split("@")[-1],
                           "not a translation memory; expected a SQLite file or a postgresql:// URL")
        return value
    path = Path(value).expanduser().resolve()
    if path.is_dir():
        raise _invalid("MMASSETS_TRANSLATION_MEMORY", value, f"{path} is a folder; expected a SQLite file (made "
                                                             "when missing) or a postgresql:// URL")
    if path.exists():
        try:
            with path.open("rb") as handle:
                header = handle.read(16)
        except OSError as exc:
            raise _invalid("MMASSETS_TRANSLATION_MEMORY", value,
                           f"{path} cannot be read ({exc.strerror or exc})") from None
        if header and header != b"SQLite format 3\0":
            raise _invalid("MMASSETS_TRANSLATION_MEMORY", value, f"{path} is not a SQLite database (corrupt, or "
                                                                 "another kind of file); move it away to start an "
                                                                 "empty memory")
    return str(path)


def _executor(name: str | None, config_file: str | None) -> dict:
    """The executor's name and its config (a YAML mapping), checked."""
    name = (name or "").strip() or None
    if name is not None and name not in EXECUTORS:
        raise _invalid("MMASSETS_EXECUTOR", name, f"expected one of {', '.join(EXECUTORS)}")
    if not config_file:
        return {"executor": name}
    import yaml

    path = Path(config_file).resolve()
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise _invalid("MMASSETS_EXECUTOR_CONFIG", config_file, f"cannot read it: {exc}") from None
    if not isinstance(config, dict):
        raise _invalid("MMASSETS_EXECUTOR_CONFIG", config_file, "expected a YAML mapping (the executor's config)")
    if name is None:
        raise _invalid("MMASSETS_EXECUTOR_CONFIG", config_file, "set MMASSETS_EXECUTOR to the executor it configures")
    return {"executor": name, "executor_config": config, "executor_config_file": path}


def _whole(name: str, value: object, *, default: int | None, minimum: int,
           maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        raise _invalid(name, value, f"expected a whole number >= {minimum}" if maximum is None
                       else f"expected a whole number from {minimum} to {maximum}")
    return number


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _share(name: str, value: str | None, *, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        share = float(value.strip())
    except ValueError:
        share = None
    if share is None or not 0 <= share <= 1:
        raise _invalid(name, value, "expected a share from 0 to 1, e.g. 0.05 for 5%")
    return share


def _flag(name: str, value: str | None) -> bool:
    if (value or "").strip().lower() not in _TRUE + _FALSE:
        raise _invalid(name, value, f"expected one of {', '.join(_TRUE)} (or {', '.join(_FALSE[1:])})")
    return (value or "").strip().lower() in _TRUE


def _image_roots(env: Mapping[str, str]) -> dict[str, str]:
    roots = roots_from_env(env)
    known = {**DEFAULT_ROOTS, **DERIVED_ROOTS}
    unknown = sorted(set(roots) - set(known))
    if unknown:
        raise _invalid(IMAGE_ROOT_PREFIX + unknown[0].upper(), roots[unknown[0]],
                       f"no image root {unknown[0]!r}; the roots are {', '.join(known)}")
    return roots


def _valid_cron(cron: str) -> bool:
    """Whether Dagster's schedules accept ``cron`` (imported only for a cron other than the default)."""
    from dagster._utils.schedules import is_valid_cron_string

    return is_valid_cron_string(cron)


def _check_files(settings: Settings, recipes_name: str) -> None:
    """Read the language table and the recipe files now, so that a malformed one is reported
    with its setting before any work starts (the recipes' asset names are checked when the
    definitions are built, against the graph)."""
    from mmassets.languages import LanguageTable
    from mmassets.recipes import load_recipe, recipe_files

    _check_folders(settings)
    if settings.languages:
        try:
            LanguageTable.load(settings.languages)
        except (OSError, ValueError) as exc:
            raise SettingError(f"MMASSETS_LANGUAGES: {exc}") from None
    if settings.recipes_dir:
        try:
            for path in recipe_files([settings.recipes_dir]):
                load_recipe(path, None)
        except ValueError as exc:
            raise SettingError(f"{recipes_name}: {exc}") from None


def _check_folders(settings: Settings) -> None:
    """A submissions folder that is a file is refused by name (it was read as no submissions). A
    translation memory that is a folder is refused by ``_memory_location``."""
    folder = settings.submissions_dir
    if folder is not None and folder.exists() and not folder.is_dir():
        raise _invalid("MMASSETS_SUBMISSIONS_DIR", str(folder),
                       "not a folder; expected the folder of your DataOptim submission files")


def check_writable(settings: Settings) -> None:
    """The data (work) folder, or the folder it would be made in, must be writable: a read-only one
    is one line naming it, before any work."""
    import errno
    import tempfile

    folder = settings.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    problem = None
    if not os.access(folder, os.W_OK | os.X_OK):
        problem = os.strerror(errno.EACCES)
    else:
        try:  # os.access does not see a read-only mount, and root passes it
            with tempfile.TemporaryFile(dir=folder, prefix=".mmassets-write-check-"):
                pass
        except OSError as exc:
            problem = exc.strerror or str(exc)
    if problem is not None:
        name = "MMASSETS_WORK_DIR" if settings.store else "--data-dir/MMASSETS_DATA_DIR"
        where = (f"the data folder {folder} is not writable" if folder == settings.data_dir else
                 f"cannot make the data folder {settings.data_dir}: {folder} is not writable")
        raise SettingError(f"{name}: {where} ({problem}); give a folder you can write")
