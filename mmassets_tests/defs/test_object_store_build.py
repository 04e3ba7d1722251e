"""`mmassets build --data-dir s3://bucket/prefix --work-dir <folder>` on an S3-compatible server
(SeaweedFS's S3 gateway on 127.0.0.1, credentials checked): the whole sample, its stored values and
exports on the store, everything else in the local work folder. Compared with a build of the same
work folder into a local data folder: every object is there and has the same bytes, except the files
that name where things are (the VILA folders' location, and the LLaVA files that name their images
through an image folder of links, which a store cannot hold); those are checked for what they say."""

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from builds import run_build
from servers import s3_server

from mmassets import storage

pytest.importorskip("s3fs")

STORE = "s3://mmassets/sample"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(the local build's data folder, the store's root UPath, the remote build's output): the same
    work folder path for both builds, so that the local paths in values (image roots) are alike."""
    root = tmp_path_factory.mktemp("object-store")
    work, local = root / "data", root / "local"
    code, out = run_build(work)
    assert code == 0, out
    work.rename(local)
    with s3_server("mmassets") as env, pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        from s3fs import S3FileSystem

        S3FileSystem.clear_instance_cache()
        code, out = run_build(work, "--data-dir", STORE, "--work-dir", str(work), env=env)
        assert code == 0, out
        yield local, storage.location(STORE), out, work
        S3FileSystem.clear_instance_cache()
    shutil.rmtree(root, ignore_errors=True)


def _local_files(local: Path) -> dict[str, Path]:
    """The stored values and exports of the local build (not its image folders' links)."""
    return {p.relative_to(local).as_posix(): p for top in ("assets", "exports") for p in (local / top).rglob("*")
            if p.is_file() and not p.is_symlink()}


def _objects(store) -> dict[str, str]:
    return {key[len(store.path) + 1:]: key for key in store.fs.find(store.path)}


def test_the_build_puts_values_and_exports_on_the_store_and_the_rest_in_the_work_folder(builds):
    local, store, out, work = builds
    assert "136/136 assets materialized" in out and f"exports: {STORE}/exports" in out
    assert not (work / "assets").exists() and not (work / "exports").exists()
    assert (work / "dagster_home").is_dir() and (work / "sample" / "raw").is_dir()  # instance, sample raw: local
    assert (work / "downloads").is_dir()  # the downloaded images and their status files: on disk


def test_every_object_is_the_local_build_file_with_the_same_bytes(builds):
    local, store, _, _ = builds
    files, objects = _local_files(local), _objects(store)
    assert sorted(objects) == sorted(files)  # every file, and no temporary key left behind
    differ = sorted(name for name in files if store.fs.cat_file(objects[name]) != files[name].read_bytes())
    located = [name for name in differ if name.endswith(".image_roots.json") or ".vila/" in name
               or name.endswith(".llava.json") and (local / name).with_name(
                   (local / name).name.split(".llava")[0] + ".images").is_dir()
               or name.startswith("assets/train/") and "vila_folder" in pd.read_parquet(local / name).columns]
    assert differ == located, "differ, yet name no location: " + ", ".join(sorted(set(differ) - set(located)))
    assert len(files) > 200 and len(differ) < len(files) / 5


def test_what_names_a_location_names_the_store_or_the_images_as_published(builds):
    local, store, _, work = builds
    for name in ("coyo_6m", "llm_jp_pair_step1"):  # VILA shards: the same records, their folder on the store
        there = storage.read_parquet(store / "assets" / "train" / f"{name}.parquet")
        here = pd.read_parquet(local / "assets" / "train" / f"{name}.parquet")
        assert all(folder.startswith(f"{STORE}/exports/vila/") for folder in there["vila_folder"])
        pd.testing.assert_frame_equal(there.drop(columns="vila_folder"), here.drop(columns="vila_folder"))
        shards = storage.location(there["vila_folder"].iloc[0])
        assert sorted(p.name for p in shards.iterdir()) == sorted(
            p.name for p in Path(here["vila_folder"].iloc[0].replace(str(work), str(local), 1)).iterdir())
    mixture = store / "exports" / "mixtures" / "mblip_v2"
    roots = json.loads(storage.read_bytes(mixture / "train.image_roots.json"))
    assert "image_folder" not in roots and "relative to their entry's image root" in roots["note"]
    assert not (mixture / "train.images").exists()
    records = json.loads(storage.read_bytes(mixture / "train.llava.json"))
    assert records and all(any(os.path.isfile(os.path.join(root, record["image"])) for root in roots["roots"].values())
                           for record in records if "image" in record)  # each image as published, under a root
