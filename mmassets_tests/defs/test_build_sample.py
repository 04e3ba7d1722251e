"""End to end: `mmassets build` on the sample profile, in a temporary DAGSTER_HOME and data folder."""

import re
import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from pycocotools.coco import COCO

from builds import finish, run_build, start_build, wait_for_pool_slot
from mmassets.recipes import SHIPPED_DIR, load_recipe
from mmassets.languages import LanguageTable, largest_remainder_counts
from mmassets.sample.coco import CAPTIONS_PER_IMAGE, SPLIT_COUNTS
from mmassets.translation.backend import resolve_backend
from mmassets.sources.coco import image_path

MBLIP_V2 = load_recipe(SHIPPED_DIR / "mblip_v2.yaml", known_assets=None)
TRAIN_TASKS = [entry.asset.split("/", 1)[1] for entry in MBLIP_V2.stages[0].entries]
"""Every train task, in mBLIP's task-mix order."""
TRAIN_EXPORTS = [f"train/{task}.json" for task in TRAIN_TASKS]
EXPORTS = [*TRAIN_EXPORTS, "train/task_mix.json", "train/task_mix.llava.json",
           "eval/coco_karpathy/val/en.json", "eval/coco_karpathy/val/en.coco.json",
           "eval/coco_karpathy/test/en.json", "eval/coco_karpathy/test/en.coco.json",
           *(f"mixtures/{name}/train.{kind}.json" for name in ("mblip_v1", "mblip_v2")
             for kind in ("mblip", "llava", "image_roots")),
           *(f"mixtures/convllava_stage{n}/train.{kind}.json" for n in (1, 2, 3) for kind in ("llava", "image_roots")),
           *(f"dataoptim/{source}.json" for source in ("coco", "vqav2", "ref3rec", "ref3reg", "svit")),
           "dataoptim/submissions/sample-standard.json", "mixtures/dataoptim_all/train.llava.json"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("build") / "data"
    return (*run_build(data_dir), data_dir)


def test_build_succeeds_and_writes_every_export(built):
    code, out, data_dir = built
    assert code == 0, out
    assert re.search(r"(\d+)/\1 assets materialized in \d+ runs; 0 failed checks", out), out
    for rel in EXPORTS:
        assert (data_dir / "exports" / rel).is_file(), rel


def test_the_summary_times_every_run_and_every_asset(built):
    code, out, _ = built
    assert code == 0, out
    n_runs = int(re.search(r"assets materialized in (\d+) runs", out).group(1))
    runs = re.findall(r"^  (run (\d+) \(.*\)|observe \(\d+ raw inputs\)): ([\d.]+) s, ([\d.]+) s in steps$", out, re.M)
    assert [int(n) for _, n, _, _ in runs if n] == list(range(1, n_runs + 1)), out  # each run once, in order
    assert len(runs) == n_runs + 1  # and the observation of the raw inputs
    run_seconds = [float(s) for _, _, s, _ in runs]
    assert all(float(steps) <= float(wall) + 0.01 for _, _, wall, steps in runs), out
    assert re.search(r"^  run \d+ \(translated/caption_instructions, translated/web_caption_instructions; 96 "
                     r"partitions\): ", out, re.M), out
    total = float(re.search(r"^build: ([\d.]+) s: ([\d.]+) s in \d+ runs", out, re.M).group(1))
    assert sum(run_seconds) <= total * 1.01 + 0.05
    table = out[out.index("asset "):out.index("\nruns:")]
    times = {line.split()[0]: line for line in table.splitlines()[1:] if not line.startswith("* ")}
    assert len(times) >= 135 and all(re.search(r"\s\d+\.\d+ s\*?\s+ok", line) for line in times.values()), table
    step_of = {key: step for step, keys in re.findall(r"^\* one step builds these together, the time is that "
                                                      r"step's: (\S+) \((.*)\)$", out, re.M)
               for key in keys.split(", ")}
    assert step_of["train/imagenet_classify"] == step_of["train/imagenet_decide"] == "imagenet_tasks"
    per_step = {step_of.get(key, key): float(re.search(r"\s(\d+\.\d+) s\*?\s", line).group(1))
                for key, line in times.items()}  # a step that builds several assets counts once
    assert sum(per_step.values()) <= sum(run_seconds) + 0.005 * len(per_step)  # printed rounded


def test_train_export_is_the_mblip_format_with_every_language_slice(built):
    _, _, data_dir = built
    records = json.loads((data_dir / "exports/train/coco_captions.json").read_text(encoding="utf-8"))
    assert records and all(list(r) == ["context", "label", "image_id"] for r in records)
    assert all(r["context"].strip() and r["label"].strip() for r in records)
    raw = data_dir / "sample" / "raw"
    assert all(image_path(raw, r["image_id"]).is_file() for r in records)

    import pandas as pd

    translated = pd.read_parquet(data_dir / "assets/translated/coco_captions")
    n_english = (SPLIT_COUNTS["train"] + SPLIT_COUNTS["restval"]) * CAPTIONS_PER_IMAGE
    expected = largest_remainder_counts(n_english, LanguageTable.load().shares())
    actual = Counter(translated["language"])
    assert {k: v for k, v in expected.items() if v} == dict(actual)
    assert sorted(translated["source_index"]) == list(range(n_english))
    # every record of the train file is one of the translated ones, with non-English contexts rotated
    train = pd.read_parquet(data_dir / "assets/train/coco_captions.parquet")
    assert len(train) == len(records)
    assert set(train["language"]) <= set(actual)


def test_task_mix_merges_the_tasks_and_has_a_llava_view(built):
    _, _, data_dir = built
    mix = json.loads((data_dir / "exports/train/task_mix.json").read_text(encoding="utf-8"))
    tasks = [json.loads((data_dir / "exports" / rel).read_text(encoding="utf-8")) for rel in TRAIN_EXPORTS]
    assert all(tasks), "every train task has records on the sample"
    assert mix == [record for task in tasks for record in task]  # every task once, in mBLIP's order
    mixture = (data_dir / "exports/mixtures/mblip_v2/train.mblip.json").read_bytes()
    assert mixture == (data_dir / "exports/train/task_mix.json").read_bytes()  # the former task mix is mblip_v2
    llava = json.loads((data_dir / "exports/train/task_mix.llava.json").read_text(encoding="utf-8"))
    assert len(llava) == len(mix)
    first = llava[0]
    assert first["image"] == mix[0]["image_id"]
    assert first["conversations"][0] == {"from": "human", "value": "<image>\n" + mix[0]["context"]}
    assert first["conversations"][1] == {"from": "gpt", "value": mix[0]["label"]}


@pytest.mark.parametrize("split", ["val", "test"])
def test_eval_references_load_in_pycocotools_and_accept_predictions(built, split):
    _, _, data_dir = built
    folder = data_dir / "exports/eval/coco_karpathy" / split
    records = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    assert len(records) == SPLIT_COUNTS[split]
    assert all(r["label"] == "" and r["text_label"] == "en" for r in records)
    coco = COCO(str(folder / "en.coco.json"))
    assert sorted(coco.getImgIds()) == sorted(r["image_id"] for r in records)
    assert len(coco.getAnnIds()) == SPLIT_COUNTS[split] * CAPTIONS_PER_IMAGE
    results = coco.loadRes([{"image_id": r["image_id"], "caption": "a photo"} for r in records])
    assert len(results.getAnnIds()) == len(records)


def test_translated_partitions_are_recorded_in_the_instance(built):
    import dagster as dg

    _, _, data_dir = built
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    for name in ("coco_captions", "caption_instructions"):
        done = instance.get_materialized_partitions(dg.AssetKey(["translated", name]))
        assert done == set(LanguageTable.load().codes)


def test_a_build_killed_mid_translation_leaves_a_folder_the_next_build_finishes_identically(built):
    """kill -9 during translation leaves a run STARTED holding the only slot of the gpu pool; the next
    build fails that run, frees the slot and finishes, and (same inputs, same seed) every export is
    byte-identical to an uninterrupted build's."""
    import signal

    import dagster as dg

    _, _, data_dir = built
    again = data_dir.parent / "killed_then_rebuilt"
    killed = start_build(again)
    wait_for_pool_slot(again, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    killed.stdout.close()
    instance = dg.DagsterInstance.from_config(str(again / "dagster_home"))
    assert instance.event_log_storage.get_concurrency_info("gpu").claimed_slots  # the dead run holds it

    rebuild = start_build(again)
    out = finish(rebuild, 400, "the build after a killed one hung")
    assert rebuild.returncode == 0, out
    assert re.search(r"recovered 1 run\(s\) left in flight by a process that is gone: \w+ \(pid "
                     rf"{killed.pid}, STARTED\); marked failed, pool slots freed", out), out
    assert not instance.event_log_storage.get_concurrency_info("gpu").claimed_slots
    assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    for rel in EXPORTS:
        ours, theirs = (again / "exports" / rel).read_bytes(), (data_dir / "exports" / rel).read_bytes()
        if rel.endswith(".image_roots.json"):  # absolute folders: the same up to the data folder's name
            ours = ours.replace(str(again).encode(), str(data_dir).encode())
        assert ours == theirs, rel


def latest_metadata(instance, key: list[str], partition: str) -> dict:
    import dagster as dg

    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[partition]), limit=1).records
    return records[0].asset_materialization.metadata


def test_each_language_partition_records_its_translation_statistics(built):
    import dagster as dg

    _, _, data_dir = built
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    meta = latest_metadata(instance, ["translated", "caption_instructions"], "de")
    stats = meta["translation"].value
    assert stats["strings"] == 6 and stats["distinct strings"] == 6
    assert stats["model-translated strings"] + stats["memory hits"] == 6
    assert {"tokens/s", "padding fraction", "flagged"} <= set(stats)
    backend = resolve_backend("auto")  # the default: CTranslate2, which `make install` installs
    assert meta["translator backend"].value == backend
    assert meta["translator identity"].value.startswith("ct2:int8") == (backend == "ctranslate2")
    assert meta["dagster/row_count"].value >= 3  # at least the instructions naming the language
    assert "NOT meaningful" in meta["note"].value
    english = latest_metadata(instance, ["translated", "coco_captions"], "en")
    assert "translation" not in english  # English passes through


def test_rebuilding_in_the_same_folder_costs_no_model_time(built):
    import dagster as dg

    code, out, data_dir = built
    code, out = run_build(data_dir, "--select", "group:translated")
    assert code == 0, out
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    for language in ("de", "ru", "zh"):
        stats = latest_metadata(instance, ["translated", "caption_instructions"], language)["translation"].value
        assert stats["model-translated strings"] == 0 and stats["memory hits"] == 6, (language, stats)
    assert (data_dir / "translation_memory.sqlite").is_file()


def test_every_train_task_exports_mblip_records(built):
    _, _, data_dir = built
    for rel in TRAIN_EXPORTS:
        records = json.loads((data_dir / "exports" / rel).read_text(encoding="utf-8"))
        assert records, rel
        assert all(list(r) == ["context", "label", "image_id"] for r in records), rel
        assert all(isinstance(v, str) and v.strip() for r in records for v in r.values()), rel


def _latest(data_dir: Path, key: list[str]) -> dict:
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    return instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization.metadata


def test_vqa_records_name_the_language_of_the_answer_they_use(built):
    import pandas as pd

    _, _, data_dir = built
    names = {lang.code: lang.display_name for lang in LanguageTable.load().languages}
    for task in ("vqav2_vqa", "vqav2_vqg"):
        frame = pd.read_parquet(data_dir / f"assets/train/{task}.parquet")
        assert len(frame) == 18 and frame["language"].nunique() > 1  # the sample's 6 images x 3 questions
        for language, context in zip(frame["language"], frame["context"]):
            assert "English" in context or names[language] in context, (language, context)
        answers = _latest(data_dir, ["train", task])["answers"].value
        assert sum(answers.values()) == int((frame["language"] != "en").sum())
    joined = _latest(data_dir, ["raw", "vqav2_train"])
    assert joined["unmatched"].value == {"question without annotation": 0, "annotation without question": 0,
                                         "image_id differs": 0}


def test_imagenet_tasks_use_babel_names_and_never_reuse_an_image(built):
    import pandas as pd

    from mmassets.sample.imagenet import BABEL_NAMES

    _, _, data_dir = built
    classify = pd.read_parquet(data_dir / "assets/train/imagenet_classify.parquet")
    decide = pd.read_parquet(data_dir / "assets/train/imagenet_decide.parquet")
    # the sample's Babel languages in the table's codes (HE is our iw, TL our fil), and English
    assert set(classify["language"]) == {"en", "fr", "de", "es", "ru", "zh", "ja", "iw", "fil"}
    assert set(classify.loc[classify["language"] == "iw", "label"]) == set(BABEL_NAMES["HE"].values())
    images = [*classify["image_id"], *decide["image_id"]]
    assert len(images) == len(set(images))  # the sample has images enough: none is used twice


def test_caption_matching_is_balanced_and_llava_long_answers_are_counted(built):
    import pandas as pd

    _, _, data_dir = built
    english = pd.read_parquet(data_dir / "assets/english/caption_matching.parquet")
    n = len(english)
    assert int(english["match"].sum()) == n - n // 2
    assert set(english.loc[english["negative"].notna(), "negative"]) == {"hard", "random"}
    skipped = _latest(data_dir, ["english", "llava_conversation"])["skipped"].value
    assert skipped["answer too long"] == 2  # the sample's two answers of more than 3 sentences


def test_mixture_llava_export_names_each_image_in_one_image_folder(built):
    _, _, data_dir = built
    folder = data_dir / "exports/mixtures/mblip_v2"
    roots = json.loads((folder / "train.image_roots.json").read_text(encoding="utf-8"))
    assert set(roots["roots"]) == {"coco", "imagenet", "web_captions"}
    assert roots["entries"]["train/imagenet_classify"] == ["imagenet"] and roots["entries"]["train/vqav2_vqa"] == ["coco"]
    assert roots["entries"]["train/web_captions"] == ["web_captions"]
    assert roots["image_folder"] == str(folder / "train.images")
    llava = json.loads((folder / "train.llava.json").read_text(encoding="utf-8"))
    mblip = json.loads((folder / "train.mblip.json").read_text(encoding="utf-8"))
    assert len(llava) == len(mblip)
    stored = pd.read_parquet(data_dir / "assets/mixture/mblip_v2.parquet", columns=["image_root", "image"])
    for record, root, image in zip(llava, stored["image_root"], stored["image"]):
        real = Path(roots["roots"][root]) / image
        assert real.is_file() and (folder / "train.images" / record["image"]).resolve() == real.resolve(), record
    assert any(r["image"].startswith("coco/train2014/") for r in llava)
    v1 = json.loads((data_dir / "exports/mixtures/mblip_v1/train.mblip.json").read_text(encoding="utf-8"))
    first_eight = [json.loads((data_dir / "exports/train" / f"{task}.json").read_text(encoding="utf-8"))
                   for task in TRAIN_TASKS[:8]]
    assert v1 == [record for task in first_eight for record in task]


USER_RECIPE = """\
name: mine
description: COCO captions once, then exactly seven VQA records.
stages:
  - name: train
    formats: [mblip, llava, llava_jsonl]
    entries:
      - asset: train/coco_captions
      - asset: train/vqav2_vqa
        budget: 7
"""


def test_a_user_recipe_folder_builds_its_mixture_through_mmassets_build(built, tmp_path):
    import dagster as dg
    import pandas as pd

    from mmassets.definitions import build_definitions
    from mmassets.settings import Settings

    _, _, data_dir = built
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "mine.yaml").write_text(USER_RECIPE)
    code, out = run_build(data_dir, "--recipes-dir", str(recipes), "--select", "key:mixture/*")
    assert code == 0, out
    for name in ("mine", "mblip_v1", "mblip_v2"):
        assert re.search(rf"^mixture/{name}\s+-\s+\S+\s+4 passed\s+\d+\.\d+ s\s+ok$", out, re.M), out
    mix = pd.read_parquet(data_dir / "assets/mixture/mine.parquet")
    full = len(pd.read_parquet(data_dir / "assets/train/coco_captions.parquet"))
    assert mix["task"].value_counts(sort=False).to_dict() == {"coco_captions": full, "vqav2_vqa": 7}
    folder = data_dir / "exports/mixtures/mine"
    assert len(json.loads((folder / "train.mblip.json").read_text(encoding="utf-8"))) == full + 7
    lines = (folder / "train.llava.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == json.loads((folder / "train.llava.json").read_text(encoding="utf-8"))
    defs = build_definitions(Settings.from_env({}, data_dir=str(data_dir), recipes_dir=str(recipes)))
    node = defs.resolve_asset_graph().get(dg.AssetKey(["mixture", "mine"]))
    assert node.parent_keys == {dg.AssetKey(["train", "coco_captions"]), dg.AssetKey(["train", "vqav2_vqa"])}
    metadata = _latest(data_dir, ["mixture", "mine"])
    assert metadata["rows per entry"].value == {"coco_captions": full, "vqav2_vqa": 7}
    assert len(metadata["recipe sha256"].value) == 64


def test_the_sample_downloads_its_web_captions_from_its_local_server(built):
    import pandas as pd

    from mmassets.sample.web_captions import CORRUPT, NOT_FOUND, SAMPLED, SERVER_ERROR, SLOW

    code, out, data_dir = built
    assert code == 0, out
    sample = pd.read_parquet(data_dir / "assets" / "english" / "web_caption_sample.parquet")
    status = pd.read_parquet(data_dir / "assets" / "images" / "web_captions.parquet").set_index("index")
    assert len(sample) == len(status) == SAMPLED  # the captions naming no frequent phrase fell out
    at = {raw: int(position) for position, raw in enumerate(sample["source_index"])}
    assert status.loc[at[NOT_FOUND], ["status", "http_status"]].tolist() == ["permanent", 404]
    assert status.loc[at[SERVER_ERROR], ["status", "http_status", "attempts"]].tolist() == ["transient", 500, 3]
    assert status.loc[at[SLOW], "status"] == "ok"
    assert status.loc[at[CORRUPT], "status"] == "permanent"
    images = data_dir / "sample" / "raw" / "blip" / "images"
    downloaded = sorted(p.name for p in images.iterdir() if p.name != ".mmassets-downloads")  # the download's record
    assert downloaded == sorted(status.loc[status["status"] == "ok", "image_id"])
    train = json.loads((data_dir / "exports" / "train" / "web_captions.json").read_text(encoding="utf-8"))
    assert len(train) == SAMPLED - 3 and {r["image_id"] for r in train} <= {p.name for p in images.iterdir()}
    mix = json.loads((data_dir / "exports" / "train" / "task_mix.json").read_text(encoding="utf-8"))
    assert mix[:len(train)] == train  # the first entry of mBLIP's mix
    manifest = json.loads((data_dir / "exports" / "web_captions" / "concept_manifest.json").read_text(encoding="utf-8"))
    assert sorted(i for rows in manifest.values() for i in rows) == sample["source_index"].tolist()


@pytest.mark.parametrize("recipe, stage, mixture", [
    ("vila_ja_step0", "step0", "llava_1_5_mm_align_en+llm_jp_mm_pair_step0_558k"),
    ("vila_ja_step2", "step2",
     "llava_instruct_v1_5_en_subset+llava_instruct_ja+japanese_photos_conv+ja_vg_vqa+synthdog_ja_subset")])
def test_llm_jp_stages_export_for_vila_with_every_record_as_published(built, recipe, stage, mixture):
    from mmassets.sources.conversation_files import read_conversation_file

    _, _, data_dir = built
    folder = data_dir / "exports" / "mixtures" / recipe / f"{stage}.vila"
    registry = json.loads((folder / "registry.json").read_text(encoding="utf-8"))
    assert registry["data_mixture"] == mixture
    assert f"--data_mixture {mixture}" in (folder / "datasets_mixture.py").read_text(encoding="utf-8")
    raw = data_dir / "sample" / "raw"
    everything, files = [], []
    for dataset in registry["datasets"]:
        assert dataset["dataset_type"] == "torch" and Path(dataset["data_path"]).parent == folder
        records = json.loads(Path(dataset["data_path"]).read_text(encoding="utf-8"))
        for record in records:  # every image resolves under the dataset's image_path, as VILA joins them
            images = record.get("image", [])
            paths = [Path(dataset["image_path"]) / p for p in ([images] if isinstance(images, str) else images)]
            assert all(p.is_file() for p in paths)
            files.append(paths)
        everything += records
    stage_folder = data_dir / "exports" / "mixtures" / recipe
    llava = json.loads((stage_folder / f"{stage}.llava.json").read_text(encoding="utf-8"))
    # VILA concatenates the datasets in order; the LLaVA file is the same records, each image named
    # in the stage's one image folder
    assert [{k: v for k, v in r.items() if k != "image"} for r in llava] == \
        [{k: v for k, v in r.items() if k != "image"} for r in everything]
    for record, paths in zip(llava, files):
        images = record.get("image", [])
        linked = [stage_folder / f"{stage}.images" / p for p in ([images] if isinstance(images, str) else images)]
        assert [p.resolve() for p in linked] == [p.resolve() for p in paths], record
    if recipe == "vila_ja_step2":
        published = read_conversation_file(raw / "llava" / "llava_v1_5_subset_358k.json", "")
        assert everything[:len(published)] == [json.loads(r) for r in published["record"]]  # ids' types kept
        synthdog = everything[-7:]  # the sample's two parquet files hold 4 + 3 rows
        assert [r["id"] for r in synthdog] == [f"synthdog-ja/image/{f:03d}/{r:05d}" for f, n in ((0, 4), (1, 3))
                                               for r in range(n)]
        assert all((raw / "llm_jp" / r["image"]).read_bytes()[:2] == b"\xff\xd8" for r in synthdog)  # JPEGs
        assert synthdog[0]["conversations"][0]["value"].startswith("<image>\n")
        assert synthdog[1]["conversations"][0]["value"].endswith("\n<image>")


def test_llm_jp_step1_pairs_become_vila_shards_a_loader_reads_back(built):
    import base64
    import io

    from PIL import Image

    from mmassets.sample.llm_jp import GONE_PAIR, PAIRS
    from mmassets.vila.shards import folder_problems, load_as_vila

    _, _, data_dir = built
    folder = data_dir / "exports" / "vila" / "llm_jp_mm_pair_step1_6m"
    assert folder_problems(folder) == []
    length, records = load_as_vila(folder)
    expected = [(f"pairs_{f:03d}-{n}", text) for f, texts in enumerate(PAIRS) for n, text in enumerate(texts)
                if (f, n) != GONE_PAIR]  # the pair whose URL is gone is not in the shards
    assert length == len(expected) and [(r["id"], r["text"]) for r in records] == expected
    for record in records:
        with Image.open(io.BytesIO(base64.b64decode(record["image"]))) as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            assert image.size in ((200, 150), (480, 360))  # as llm-jp downloads them: RGB, not resized


def test_llm_jp_interleaved_documents_become_mmc4_shards_with_their_images(built):
    import base64
    import io

    from PIL import Image

    from mmassets.sample.llm_jp import DOCUMENTS, GONE_IMAGE
    from mmassets.vila.shards import folder_problems, load_as_vila

    _, _, data_dir = built
    folder = data_dir / "exports" / "vila" / "llm_jp_mm_interleaved_step1_6m"
    assert folder_problems(folder) == []
    length, documents = load_as_vila(folder)
    assert length == len(DOCUMENTS) and [d["text_list"] for d in documents] == [list(t) for t, _ in DOCUMENTS]
    for d, (document, (_, matched)) in enumerate(zip(documents, DOCUMENTS)):
        kept = [i for i in range(len(matched)) if (d, i) != GONE_IMAGE]
        assert [info["matched_text_index"] for info in document["image_info"]] == [matched[i] for i in kept]
        assert len(document["similarity_matrix"]) == len(document["image_info"])  # VILA zips the two
        for info in document["image_info"]:
            with Image.open(io.BytesIO(base64.b64decode(info["image_base64"]))) as image:
                assert image.format == "JPEG" and image.size == (400, 300)


def test_llm_jp_step1_registers_its_shard_folders_for_vila(built):
    from mmassets.sample.llm_jp import COYO_IDS, COYO_LISTED
    from mmassets.vila.shards import load_as_vila

    _, _, data_dir = built
    registry = json.loads((data_dir / "exports/mixtures/vila_ja_step1/step1.vila/registry.json").read_text())
    assert registry["data_mixture"] == "coyo_6m+mmc4core_6m+llm_jp_mm_pair_step1_6m+llm_jp_mm_interleaved_step1_6m"
    assert [(d["dataset_type"], Path(d["data_path"]).name) for d in registry["datasets"]] == [
        ("coyo", "coyo_6m"), ("mmc4", "mmc4core_6m"), ("coyo", "llm_jp_mm_pair_step1_6m"),
        ("mmc4", "llm_jp_mm_interleaved_step1_6m")]
    length, records = load_as_vila(registry["datasets"][0]["data_path"])
    assert [r["id"] for r in records] == [i for i in COYO_LISTED if i in COYO_IDS] and length == len(records)
    assert all(isinstance(r["id"], int) and 0.5 < r["clip_sim"] < 0.7 for r in records)  # COYO's ids, vitb32 + vitl14


def test_the_mmc4_id_list_is_applied_under_either_reading_of_its_index(built, tmp_path):
    """Runs last: it rebuilds the mmc4 subset in the shared folder with the other reading. A document
    goes in only when every image downloaded (NVlabs' rule); `kept` counts those documents."""
    from mmassets.sample.llm_jp import MMC4_GONE, MMC4_LISTED, MMC4_SHARDS
    from mmassets.vila.shards import load_as_vila

    _, _, data_dir = built
    folder = data_dir / "exports" / "vila" / "mmc4core_6m"
    gone = {(s, i) for s, i, _ in MMC4_GONE}  # documents that lost an image
    present = [(s, i) for s, i in MMC4_LISTED if s < len(MMC4_SHARDS) and i < MMC4_SHARDS[s]]
    by_line = [f"https://example.org/{s}/{i}" for s, i in present if (s, i) not in gone]
    assert [d["url"] for d in load_as_vila(folder)[1]] == by_line  # the default: index is the line of the shard file
    config = tmp_path / "kept.yaml"
    config.write_text("raw/mmc4core_6m:\n  index_reading: kept\n")
    select = " or ".join(f'key:"{g}/mmc4core_6m"' for g in ("raw", "images", "train"))
    code, out = run_build(data_dir, "--config", str(config), "--select", select)
    assert code == 0, out
    kept = {s: [i for i in range(n) if (s, i) not in gone] for s, n in enumerate(MMC4_SHARDS)}
    by_kept = [f"https://example.org/{s}/{kept[s][i]}" for s, i in MMC4_LISTED if s in kept and i < len(kept[s])]
    assert [d["url"] for d in load_as_vila(folder)[1]] == by_kept and by_kept != by_line
