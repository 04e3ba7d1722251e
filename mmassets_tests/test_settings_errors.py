"""A setting that cannot be used (an MMASSETS_* variable or a CLI flag) stops `mmassets build` and
`mmassets ui` before any work: one line naming the setting, its value (or the file it names) and
what is allowed, exit code 2, no traceback. Loading ``mmassets.definitions`` the way `dagster dev`
does fails with the same message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mmassets.cli import main

SCRIPT = Path(sys.executable).with_name("mmassets")


@pytest.fixture
def cli(tmp_path, capsys):
    """``cli(*args, **env)``: `mmassets <args> --data-dir <tmp>/data` in this process with only the
    given MMASSETS_* variables; returns (exit code, stderr). The environment is restored after."""
    saved = dict(os.environ)
    data = tmp_path / "data"

    def run(*args: str, **env: str) -> tuple[int, str]:
        os.environ.clear()
        os.environ.update({k: v for k, v in saved.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")})
        os.environ.update(env)
        try:
            code = main([*args, "--data-dir", str(data)])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return code, capsys.readouterr().err

    yield run
    assert not data.exists(), "nothing may be written before the settings are checked"


def _bad_json(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "languages.json"
    path.write_text('[{"code": "en",', encoding="utf-8")
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return path, f"not valid JSON ({exc})"
    raise AssertionError("the file was meant to be malformed")


@pytest.mark.parametrize("command", ["build", "ui"])
@pytest.mark.parametrize("env, message", [
    ({"MMASSETS_PROFILE": "foo"}, "MMASSETS_PROFILE='foo': unknown profile; expected one of sample, production"),
    ({"MMASSETS_SEED": "abc"}, "MMASSETS_SEED='abc': expected a whole number >= 0"),
    ({"MMASSETS_SEED": "-1"}, "MMASSETS_SEED='-1': expected a whole number >= 0"),
    ({"MMASSETS_IMAGE_CHECK_LIMIT": "abc"}, "MMASSETS_IMAGE_CHECK_LIMIT='abc': expected a whole number >= 1"),
    ({"MMASSETS_IMAGE_CHECK_LIMIT": "0"}, "MMASSETS_IMAGE_CHECK_LIMIT='0': expected a whole number >= 1"),
    ({"MMASSETS_MAX_TEXT_CHARS": "lots"}, "MMASSETS_MAX_TEXT_CHARS='lots': expected a whole number >= 1"),
    ({"MMASSETS_REFRESH_CRON": "every monday"}, "MMASSETS_REFRESH_CRON='every monday': not a cron string; expected "
     "five fields (minute hour day-of-month month day-of-week), e.g. '0 4 * * 1' (Mondays 04:00)"),
    ({"MMASSETS_REFRESH_CRON": "0 4 30 2 *"}, "MMASSETS_REFRESH_CRON='0 4 30 2 *': not a cron string; expected "
     "five fields (minute hour day-of-month month day-of-week), e.g. '0 4 * * 1' (Mondays 04:00)"),
    ({"MMASSETS_DOWNLOAD_ALLOW_PRIVATE": "maybe"},
     "MMASSETS_DOWNLOAD_ALLOW_PRIVATE='maybe': expected one of 1, true, yes, on (or 0, false, no, off)"),
    ({"MMASSETS_TRANSLATION_MEMORY": "mysql://me:secret@db:3306/tm"}, "MMASSETS_TRANSLATION_MEMORY='db:3306/tm': not "
     "a translation memory; expected a SQLite file or a postgresql:// URL"),  # the password is not shown
    ({"MMASSETS_EXECUTOR": "dask"}, "MMASSETS_EXECUTOR='dask': expected one of in_process, multiprocess, celery, k8s"),
    ({"MMASSETS_GPUS": "many"}, "MMASSETS_GPUS='many': expected a whole number >= 0"),
    ({"MMASSETS_IMAGE_SLICES": "0"}, "MMASSETS_IMAGE_SLICES='0': expected a whole number from 1 to 1024"),
    ({"MMASSETS_IMAGE_SLICES": "100000"}, "MMASSETS_IMAGE_SLICES='100000': expected a whole number from 1 to 1024"),
])
def test_a_bad_variable_is_one_line_naming_it(cli, command, env, message):
    code, err = cli(command, **env)
    assert code == 2
    assert err == f"mmassets {command}: {message}\n"


def test_an_executor_config_that_is_not_a_mapping_names_the_file(cli, tmp_path):
    config = tmp_path / "executor.yaml"
    config.write_text("- broker\n")
    code, err = cli("build", MMASSETS_EXECUTOR="celery", MMASSETS_EXECUTOR_CONFIG=str(config))
    assert code == 2
    assert err == (f"mmassets build: MMASSETS_EXECUTOR_CONFIG={str(config)!r}: expected a YAML mapping "
                   "(the executor's config)\n")


def test_an_unknown_image_root_names_the_variable_and_the_roots(cli):
    code, err = cli("build", MMASSETS_IMAGE_ROOT_COCOA="/datasets/coco")
    assert code == 2
    assert err.startswith("mmassets build: MMASSETS_IMAGE_ROOT_COCOA='/datasets/coco': no image root 'cocoa'; "
                          "the roots are coco, imagenet, ")
    assert err.count("\n") == 1


def test_a_malformed_language_table_names_the_variable_and_the_file(cli, tmp_path):
    path, problem = _bad_json(tmp_path)
    assert cli("build", MMASSETS_LANGUAGES=str(path)) == (2, f"mmassets build: MMASSETS_LANGUAGES: {path}: {problem}\n")

    path.write_text(json.dumps({"en": {"name": "English"}}), encoding="utf-8")
    assert cli("ui", MMASSETS_LANGUAGES=str(path)) == (
        2, f"mmassets ui: MMASSETS_LANGUAGES: {path}: expected a JSON list of languages, got dict\n")

    path.write_text(json.dumps([{"code": "en", "name": "English", "nllb": "eng_Latn", "mc4_percent": 0,
                                 "mt5_percent": 0}]), encoding="utf-8")
    assert cli("build", MMASSETS_LANGUAGES=str(path)) == (
        2, f"mmassets build: MMASSETS_LANGUAGES: {path}: the mc4_percent shares add up to 0; at least one must be "
           "positive\n")

    missing = tmp_path / "nowhere.json"
    assert cli("build", MMASSETS_LANGUAGES=str(missing)) == (
        2, f"mmassets build: MMASSETS_LANGUAGES: language table not found: {missing}\n")


def test_a_malformed_recipe_names_the_setting_the_file_and_the_problem(cli, tmp_path):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    broken = recipes / "mine.yaml"
    broken.write_text("name: mine\nstages: [\n", encoding="utf-8")
    code, err = cli("build", MMASSETS_RECIPES_DIR=str(recipes))
    assert (code, err) == (2, f"mmassets build: MMASSETS_RECIPES_DIR: recipe {broken}, line 3: not valid YAML: "
                              "expected the node content, but found '<stream end>'\n")

    broken.write_text(yaml.safe_dump({"name": "mine", "stagez": []}), encoding="utf-8")
    code, err = cli("ui", "--recipes-dir", str(recipes))
    assert (code, err) == (2, f"mmassets ui: --recipes-dir: recipe {broken}, line 2, field 'stagez': unknown key "
                              "'stagez'; expected one of description, name, stages\n")

    code, err = cli("build", "--recipes-dir", str(tmp_path / "nowhere"))
    assert (code, err) == (2, f"mmassets build: --recipes-dir: recipe {tmp_path / 'nowhere'}: the recipes folder "
                              "does not exist\n")


@pytest.mark.parametrize("text, problem", [
    ("name: mine\n? [a, b]\n: 1\n", ", line 2: not valid YAML: a key must be a plain value, not a list"),
    ("name: mine\nstages:\n  - entries:\n      - asset: train/coco_captions\n        weight: .nan\n",
     ", line 5, field 'stages[0].entries[0].weight': expected a finite number, got nan"),
    ("name: mine\nstages:\n  - entries:\n      - asset: train/coco_captions\n        weight: .inf\n",
     ", line 5, field 'stages[0].entries[0].weight': expected a finite number, got inf"),
    ("- name: mine\n", ": expected a mapping, got list"),
])
def test_recipe_values_that_used_to_escape_the_checks_are_named(cli, tmp_path, text, problem):
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "mine.yaml").write_text(text, encoding="utf-8")
    assert cli("build", MMASSETS_RECIPES_DIR=str(recipes)) == (
        2, f"mmassets build: MMASSETS_RECIPES_DIR: recipe {recipes / 'mine.yaml'}{problem}\n")


@pytest.mark.parametrize("change, problem", [
    ({"name": 3}, "language #1, field 'name': expected a non-empty string, got 3"),
    ({"nllb": ""}, "language #1, field 'nllb': expected a non-empty string, got ''"),
    ({"mt5_percent": True}, "language #1 (de) has a negative or non-numeric share"),
])
def test_language_rows_of_the_wrong_type_are_named(cli, tmp_path, change, problem):
    rows = [{"code": code, "name": code, "nllb": f"{code}_Latn", "mc4_percent": 1.0, "mt5_percent": 1.0}
            for code in ("en", "de")]
    rows[1].update(change)
    path = tmp_path / "languages.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert cli("build", MMASSETS_LANGUAGES=str(path)) == (2, f"mmassets build: MMASSETS_LANGUAGES: {path}: {problem}\n")


def test_production_without_a_raw_folder_says_the_sample_profile_makes_one(cli, tmp_path, monkeypatch):
    missing = tmp_path / "my_raw"
    hint = ("the production profile reads your raw files from it (layout: README, Running on real data), the "
            "sample profile (--profile sample) generates one")
    assert cli("build", "--profile", "production", "--raw-dir", str(missing)) == (
        2, f"mmassets build: --raw-dir={str(missing)!r}: the raw folder {missing} does not exist; {hint}\n")
    assert cli("ui", MMASSETS_PROFILE="production", MMASSETS_RAW_DIR=str(missing)) == (
        2, f"mmassets ui: MMASSETS_RAW_DIR={str(missing)!r}: the raw folder {missing} does not exist; {hint}\n")
    monkeypatch.chdir(tmp_path)
    assert cli("build", "--profile", "production") == (
        2, f"mmassets build: MMASSETS_RAW_DIR not set (default ./raw): the raw folder {tmp_path / 'raw'} does not "
           f"exist; {hint}\n")


def test_a_data_folder_that_is_a_file_is_refused(tmp_path, capsys):
    taken = tmp_path / "data"
    taken.write_text("not a folder")
    assert main(["build", "--data-dir", str(taken)]) == 2
    assert capsys.readouterr().err == (f"mmassets build: --data-dir={str(taken)!r}: {taken} is not a folder; "
                                       "expected a folder (made if missing)\n")


def test_a_data_url_that_is_no_object_store_is_refused(capsys):
    assert main(["build", "--data-dir", "http://example.com/data"]) == 2
    assert capsys.readouterr().err == ("mmassets build: --data-dir='http://example.com/data': not a folder or an "
                                       "object store URL (s3://bucket/prefix, gs://…)\n")


def test_an_object_store_data_dir_keeps_the_rest_in_the_work_folder(tmp_path):
    from mmassets.settings import Settings

    settings = Settings.from_env({"MMASSETS_DATA_DIR": "s3://bucket/mmassets/", "MMASSETS_WORK_DIR": str(tmp_path),
                                  "MMASSETS_IMAGE_SLICES": "3"})
    assert (settings.store, settings.storage_root, settings.data_dir) == (
        "s3://bucket/mmassets", "s3://bucket/mmassets", tmp_path)
    assert settings.raw_dir == tmp_path / "sample" / "raw"  # the sample's raw root is generated on disk
    env = settings.as_env()
    assert (env["MMASSETS_DATA_DIR"], env["MMASSETS_WORK_DIR"]) == ("s3://bucket/mmassets", str(tmp_path))
    assert Settings.from_env(env) == settings and settings.image_slices == 3  # what step processes and workers read
    local = Settings.from_env({"MMASSETS_DATA_DIR": str(tmp_path), "MMASSETS_WORK_DIR": "/elsewhere"})
    assert (local.store, local.storage_root, local.data_dir) == (None, str(tmp_path), tmp_path)


def _settings_free_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    return {**clean, "HF_HUB_OFFLINE": "1", **env}


@pytest.mark.parametrize("command", ["build", "ui"])
def test_the_installed_command_prints_one_line_and_no_traceback(tmp_path, command):
    if not SCRIPT.exists():
        pytest.fail(f"no `mmassets` script next to {sys.executable} (is the package installed?)")
    done = subprocess.run([str(SCRIPT), command, "--data-dir", str(tmp_path / "data")], cwd=tmp_path,
                          env=_settings_free_env(MMASSETS_SEED="abc"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"mmassets {command}: MMASSETS_SEED='abc': expected a whole number >= 0\n"
    assert done.stdout == ""
    assert not (tmp_path / "data").exists()


def test_loading_the_definitions_like_dagster_dev_names_the_variable(tmp_path):
    """`dagster dev` imports ``mmassets.definitions``: the error it shows for the code location is the
    same SettingError, naming the variable."""
    done = subprocess.run([sys.executable, "-c", "import mmassets.definitions"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env=_settings_free_env(MMASSETS_DATA_DIR=str(tmp_path / "data"),
                                                 MMASSETS_IMAGE_CHECK_LIMIT="many"))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "mmassets.settings.SettingError: MMASSETS_IMAGE_CHECK_LIMIT='many': expected a whole number >= 1")


def test_a_submissions_folder_that_is_a_file_is_refused(cli, tmp_path):
    path = tmp_path / "submissions.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    code, err = cli("build", MMASSETS_SUBMISSIONS_DIR=str(path))
    assert code == 2
    assert err == (f"mmassets build: MMASSETS_SUBMISSIONS_DIR={str(path)!r}: not a folder; expected the folder of "
                   "your DataOptim submission files\n")


def test_a_translation_memory_that_is_a_folder_is_refused(cli, tmp_path):
    folder = tmp_path / "memory"
    folder.mkdir()
    code, err = cli("build", MMASSETS_TRANSLATION_MEMORY=str(folder))
    assert code == 2
    assert err.startswith(f"mmassets build: MMASSETS_TRANSLATION_MEMORY={str(folder)!r}: ") and err.count("\n") == 1
    assert "is a folder; expected a SQLite file" in err


def _as_unprivileged() -> list[str]:
    """A command prefix under which file permissions hold (root passes them unless it drops the
    capabilities that override them)."""
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]


@pytest.mark.parametrize("where", ["data", "parent"])
def test_a_read_only_data_folder_is_one_line_naming_it(tmp_path, where):
    parent = tmp_path / "ro"
    data = parent / "data"
    data.mkdir(parents=True) if where == "data" else parent.mkdir()
    (data if where == "data" else parent).chmod(0o555)
    try:
        done = subprocess.run([*_as_unprivileged(), str(SCRIPT), "build", "--data-dir", str(data)],
                              capture_output=True, text=True, env=_settings_free_env(), timeout=120)
    finally:
        (data if where == "data" else parent).chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    expected = (f"the data folder {data} is not writable" if where == "data"
                else f"cannot make the data folder {data}: {parent} is not writable")
    assert done.stderr == (f"mmassets build: --data-dir/MMASSETS_DATA_DIR: {expected} (Permission denied); "
                           "give a folder you can write\n")


def test_a_read_only_folder_inside_the_data_folder_is_one_line_naming_it(tmp_path):
    home = tmp_path / "data" / "dagster_home"
    home.mkdir(parents=True)
    home.chmod(0o555)
    try:
        done = subprocess.run([*_as_unprivileged(), str(SCRIPT), "build", "--data-dir", str(tmp_path / "data")],
                              capture_output=True, text=True, env=_settings_free_env(), timeout=300)
    finally:
        home.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("mmassets build: Permission denied: " + str(home))
