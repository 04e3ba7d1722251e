"""Recipe files: the shipped ones load, and every malformed recipe fails naming file, line and field."""

import re

import pandas as pd
import pytest

from mmassets.recipes import SHIPPED_DIR, Entry, RecipeError, load_recipe, load_recipes, recipe_files
from mmassets.tasks.mix import mix_stage

KNOWN = {"train/coco_captions", "train/vqav2_vqa", "train/vqav2_vqg", "train/llava_detail"}

GOOD = """\
name: two
description: Two stages.
stages:
  - name: pretrain
    seed: 3
    shuffle: true
    formats: [llava_jsonl]
    entries:
      - asset: train/coco_captions
        weight: 0.5
  - name: finetune
    missing: skip
    entries:
      - asset: train/vqav2_vqa
        budget: 10
      - asset: train/vqav2_vqg
        repeat: 2
      - asset: train/sharegpt4v_captions
        optional: true
"""


def write(tmp_path, text, name="two"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_recipe_loads_with_its_stages_and_entries(tmp_path):
    recipe = load_recipe(write(tmp_path, GOOD), KNOWN)
    assert recipe.name == "two" and [s.name for s in recipe.stages] == ["pretrain", "finetune"]
    pretrain, finetune = recipe.stages
    assert (pretrain.seed, pretrain.shuffle, pretrain.formats, pretrain.missing) == (3, True, ("llava_jsonl",), "error")
    assert pretrain.entries == (Entry("train/coco_captions", weight=0.5),)
    assert finetune.entries[2] == Entry("train/sharegpt4v_captions", optional=True)
    assert recipe.asset_name(finetune) == "two__finetune"
    assert len(recipe.sha256) == 64


def test_the_shipped_mblip_recipes_are_mblips_order():
    order = ["web_captions", "coco_captions", "llava_detail", "llava_conversation", "aokvqa_cot", "aokvqa_explain",
             "vqav2_vqa", "vqav2_vqg", "caption_matching", "imagenet_classify", "imagenet_decide"]
    known = {f"train/{name}" for name in order}
    recipes = {name: load_recipe(SHIPPED_DIR / f"{name}.yaml", known) for name in ("mblip_v1", "mblip_v2")}
    for name, tasks in (("mblip_v2", order), ("mblip_v1", order[:8])):
        (stage,) = recipes[name].stages
        assert [e.asset for e in stage.entries] == [f"train/{t}" for t in tasks]
        assert not any(e.optional for e in stage.entries)  # web captions are built now
        assert stage.missing == "skip" and not stage.shuffle and recipes[name].asset_name(stage) == name
        assert "first 500 rows" in recipes[name].description


@pytest.mark.parametrize("change, line, field, problem", [
    (("    seed: 3\n", "    seed: 3\n    colour: red\n"), 6, "stages[0].colour", "unknown key 'colour'"),
    (("        weight: 0.5\n", "        weight: 0.5\n        budget: 4\n"), 11, "stages[0].entries[0].budget",
     "give one of weight, budget, repeat and sample_size"),
    (("        weight: 0.5\n", "        weight: -1\n"), 10, "stages[0].entries[0].weight", "must be >= 0"),
    (("        budget: 10\n", "        budget: -3\n"), 15, "stages[1].entries[0].budget", "must be >= 0"),
    (("        repeat: 2\n", "        repeat: 0\n"), 17, "stages[1].entries[1].repeat", "must be >= 1"),
    (("        budget: 10\n", "        budget: ten\n"), 15, "stages[1].entries[0].budget", "expected int"),
    (("train/vqav2_vqg", "train/vqav2_vgq"), 16, "stages[1].entries[1].asset", "unknown asset 'train/vqav2_vgq'"),
    (("[llava_jsonl]", "[parquet]"), 7, "stages[0].formats", "unknown format 'parquet'"),
    (("missing: skip", "missing: maybe"), 12, "stages[1].missing", "expected one of error, skip"),
    (("shuffle: true", "shuffle: yes please"), 6, "stages[0].shuffle", "expected bool"),
    (("  - name: finetune", "  - name: pretrain"), 11, "stages[1].name", "two stages are named 'pretrain'"),
    (("name: two\n", "name: other\n"), 1, "name", "must be in a file named other.yaml"),
    (("    entries:\n      - asset: train/coco_captions\n        weight: 0.5\n", "    entries: []\n"), 8,
     "stages[0].entries", "at least one entry"),
])
def test_a_malformed_recipe_names_file_line_and_field(tmp_path, change, line, field, problem):
    text = GOOD.replace(*change)
    assert text != GOOD
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as error:
        load_recipe(path, KNOWN)
    message = str(error.value)
    assert message.startswith(f"recipe {path}, line {line}, field {field!r}: "), message
    assert problem in message


@pytest.mark.parametrize("change, line, field, problem", [
    (("        budget: 10\n", f"        budget: {10**30}\n"), 15, "stages[1].entries[0].budget",
     "must be <= 1,000,000,000,000, got an integer of 31 digits"),
    (("        budget: 10\n", "        budget: 0x" + "f" * 5000 + "\n"), 15, "stages[1].entries[0].budget",
     "must be <= 1,000,000,000,000, got an integer of over 4,000 digits"),
    (("        weight: 0.5\n", "        weight: 1.0e+300\n"), 10, "stages[0].entries[0].weight",
     "must be <= 1,000,000, got 1e+300"),
    (("        weight: 0.5\n", "        weight: .inf\n"), 10, "stages[0].entries[0].weight",
     "expected a finite number, got inf"),
    (("        weight: 0.5\n", "        weight: 1e300\n"), 10, "stages[0].entries[0].weight",
     "expected int/float, got str '1e300'"),  # YAML 1.1 reads 1e300 (no dot) as a string
    (("        repeat: 2\n", f"        repeat: {10**30}\n"), 17, "stages[1].entries[1].repeat",
     "must be <= 1,000,000, got an integer of 31 digits"),
    (("        budget: 10\n", f"        sample_size: {10**13}\n"), 15, "stages[1].entries[0].sample_size",
     "must be <= 1,000,000,000,000, got 10,000,000,000,000"),
])
def test_numbers_past_their_bounds_name_recipe_line_and_field(tmp_path, change, line, field, problem):
    """Issue 30: ``budget: 10**30`` and ``weight: 1e300`` failed later with an OverflowError naming
    neither recipe nor field."""
    test_a_malformed_recipe_names_file_line_and_field(tmp_path, change, line, field, problem)


def _alias_bomb(levels: int = 9) -> str:
    lines = ["x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["stages: *x9\n", "stages:\n  - entries:\n      - asset: *x9\n",
                                   "description: *x9\nstages: []\n"])
def test_a_yaml_alias_bomb_fails_fast_with_a_short_message(tmp_path, where):
    """Issue 30: ten lines of aliases (10^10 values expanded) gave a 722 MB error line."""
    path = write(tmp_path, _alias_bomb() + "name: two\n" + where)
    with pytest.raises(RecipeError) as error:
        load_recipe(path, KNOWN)
    message = str(error.value)
    assert len(message) < 1000, len(message)
    assert message.startswith(f"recipe {path}, line "), message
    assert "holds more than 1,000,000 values once its aliases are expanded" in message


def test_a_small_alias_bomb_is_quoted_short_and_a_recipe_may_not_contain_itself(tmp_path):
    levels = ["&x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"&x{i} [{', '.join([f'*x{i - 1}'] * 10)}]" for i in range(1, 5)]
    path = write(tmp_path, f"name: two\nstages:\n  - entries:\n      - asset: [{', '.join(levels)}]\n")
    with pytest.raises(RecipeError) as error:  # 10^5 values: under the bound, but not a string
        load_recipe(path, KNOWN)
    message = str(error.value)
    assert len(message) < 1000 and "field 'stages[0].entries[0].asset': expected str, got list [['lol', 'lol'" in message
    path = write(tmp_path, "name: two\nstages: &s\n  - entries: *s\n")
    with pytest.raises(RecipeError, match="line 2: an alias refers to a value that contains it"):
        load_recipe(path, KNOWN)


def test_long_values_are_quoted_short(tmp_path):
    path = write(tmp_path, GOOD.replace("train/vqav2_vqg", "train/" + "x" * 1_000_000))
    with pytest.raises(RecipeError) as error:
        load_recipe(path, KNOWN)
    assert len(str(error.value)) < 1000 and "unknown asset 'train/xxx" in str(error.value)


def test_anchors_and_merge_keys_still_work(tmp_path):
    text = GOOD.replace("      - asset: train/vqav2_vqa\n        budget: 10\n",
                        "      - &vqa {asset: train/vqav2_vqa, budget: 10}\n      - <<: *vqa\n        name: vqa_again\n")
    entries = load_recipe(write(tmp_path, text), KNOWN).stages[1].entries
    assert [(e.asset, e.budget, e.name) for e in entries[:2]] == [("train/vqav2_vqa", 10, None),
                                                                   ("train/vqav2_vqa", 10, "vqa_again")]


def test_a_yaml_error_names_its_line(tmp_path):
    path = write(tmp_path, GOOD.replace("    seed: 3\n", "    seed: [3\n"))
    with pytest.raises(RecipeError, match=re.escape(f"recipe {path}, line ") + r"\d+: not valid YAML"):
        load_recipe(path, KNOWN)


def test_a_missing_field_and_a_duplicate_key_are_errors(tmp_path):
    with pytest.raises(RecipeError, match=r"line 1: field 'stages' missing"):
        load_recipe(write(tmp_path, "name: two\n"), KNOWN)
    with pytest.raises(RecipeError, match="duplicate key 'seed'"):
        load_recipe(write(tmp_path, GOOD.replace("    seed: 3\n", "    seed: 3\n    seed: 4\n")), KNOWN)


def test_a_user_recipe_may_not_silently_replace_a_shipped_one(tmp_path):
    write(tmp_path, GOOD.replace("name: two", "name: mblip_v2"), name="mblip_v2")
    with pytest.raises(RecipeError, match="already in"):
        recipe_files([tmp_path])
    with pytest.raises(RecipeError, match="does not exist"):
        recipe_files([tmp_path / "nowhere"])


def test_weights_budgets_and_repeats_are_exact_and_kept_in_order():
    frame = pd.DataFrame({"context": [f"c{i}" for i in range(10)]})
    rows = {"half": Entry("a", weight=0.5).rows(10), "budget": Entry("a", budget=13).rows(10),
            "twice": Entry("a", repeat=2).rows(10), "all": Entry("a").rows(10)}
    assert rows == {"half": 5, "budget": 13, "twice": 20, "all": 10}
    stage = mix_stage([(name, frame, n) for name, n in rows.items()], seed=1)
    assert stage["task"].value_counts(sort=False).to_dict() == rows
    half = stage[stage["task"] == "half"]["context"].tolist()
    assert half == sorted(half, key=lambda c: int(c[1:]))  # a seeded sample, in the entry's order
    budget = stage[stage["task"] == "budget"]["context"].tolist()
    assert budget[:10] == frame["context"].tolist()  # one whole copy, then 3 sampled
    assert mix_stage([("half", frame, 5)], seed=1).equals(mix_stage([("half", frame, 5)], seed=1))
    shuffled = mix_stage([(name, frame, n) for name, n in rows.items()], seed=1, shuffle=True)
    assert sorted(shuffled["context"]) == sorted(stage["context"]) and not shuffled.equals(stage)


def test_a_malformed_user_recipe_fails_definitions_loading_and_the_build_names_it(tmp_path, capsys):
    from builds import run_build
    from mmassets.definitions import build_definitions
    from mmassets.settings import Settings

    recipes = tmp_path / "recipes"
    recipes.mkdir()
    path = write(recipes, GOOD.replace("train/vqav2_vqg", "train/nonexistent"))
    with pytest.raises(RecipeError, match=re.escape(f"recipe {path}, line 16, field 'stages[1].entries[1].asset'")):
        build_definitions(Settings.from_env({}, data_dir=str(tmp_path), recipes_dir=str(recipes)))
    code, _ = run_build(tmp_path / "data", "--recipes-dir", str(recipes), "--select", "key:mixture/*")
    assert code == 2
    assert f"recipe {path}, line 16, field 'stages[1].entries[1].asset': unknown asset" in capsys.readouterr().err


def test_each_stage_of_a_user_recipe_is_an_asset_whose_deps_are_its_entries(tmp_path):
    import dagster as dg

    from mmassets.definitions import build_definitions
    from mmassets.settings import Settings

    write(tmp_path, GOOD)
    graph = build_definitions(Settings.from_env({}, data_dir=str(tmp_path), recipes_dir=str(tmp_path))).resolve_asset_graph()
    pretrain = graph.get(dg.AssetKey(["mixture", "two__pretrain"]))
    finetune = graph.get(dg.AssetKey(["mixture", "two__finetune"]))
    assert pretrain.parent_keys == {dg.AssetKey(["train", "coco_captions"])}
    assert finetune.parent_keys == {dg.AssetKey(["train", "vqav2_vqa"]), dg.AssetKey(["train", "vqav2_vqg"])}
    assert finetune.tags.get("mmassets/merges_present") == "true" and "mmassets/merges_present" not in pretrain.tags


def test_an_entry_can_name_its_dataset_for_the_vila_export(tmp_path):
    path = write(tmp_path, GOOD.replace("      - asset: train/vqav2_vqa\n", "      - asset: train/vqav2_vqa\n        name: vqav2_en\n"))
    (_, finetune) = load_recipe(path, None).stages
    assert [e.dataset_name for e in finetune.entries] == ["vqav2_en", "vqav2_vqg", "sharegpt4v_captions"]
    write(tmp_path, GOOD.replace("      - asset: train/vqav2_vqa\n", "      - asset: train/vqav2_vqa\n        name: a+b\n"))
    with pytest.raises(RecipeError, match=r"line 15, field 'stages\[1\].entries\[0\].name': 'a\+b' is not a plain name"):
        load_recipe(path, None)


def test_the_shipped_vila_recipes_name_llm_jps_datasets_in_order():
    recipes = {r.name: r for r in load_recipes([], None)}
    (step0,) = recipes["vila_ja_step0"].stages
    assert "+".join(e.dataset_name for e in step0.entries) == "llava_1_5_mm_align_en+llm_jp_mm_pair_step0_558k"
    (step2,) = recipes["vila_ja_step2"].stages
    assert "+".join(e.dataset_name for e in step2.entries) == (
        "llava_instruct_v1_5_en_subset+llava_instruct_ja+japanese_photos_conv+ja_vg_vqa+synthdog_ja_subset")
    assert "vila" in step0.formats and "vila" in step2.formats
    (step1,) = recipes["vila_ja_step1"].stages
    assert "+".join(e.dataset_name for e in step1.entries) == (
        "coyo_6m+mmc4core_6m+llm_jp_mm_pair_step1_6m+llm_jp_mm_interleaved_step1_6m")


def test_sample_size_and_a_seeded_entry_shuffle_as_convllava_samples(tmp_path):
    text = GOOD.replace("        budget: 10\n", "        shuffle: true\n        sample_size: 4\n")
    entry = load_recipe(write(tmp_path, text), KNOWN).stages[1].entries[0]
    assert (entry.shuffle, entry.sample_size) == (True, 4)
    assert [Entry("a", sample_size=4).rows(n) for n in (10, 3)] == [4, 3] and Entry("a", sample_size=0).rows(10) == 10
    frame = pd.DataFrame({"context": [f"c{i}" for i in range(10)]})

    def stage(seed, shuffle=True, size=4):
        return mix_stage([("vflan", frame, Entry("a", sample_size=size).rows(10),
                           {"shuffle": shuffle, "head": bool(size)})], seed=seed)["context"].tolist()

    assert stage(1, shuffle=False) == ["c0", "c1", "c2", "c3"]  # no shuffle: the first rows, as upstream
    assert stage(1) == stage(1) and stage(1) != stage(2)  # seeded: the same for the same seed
    assert len(set(stage(1))) == 4 and stage(1) != ["c0", "c1", "c2", "c3"]
    assert stage(1, size=0)[:4] != ["c0", "c1", "c2", "c3"] and sorted(stage(1, size=0)) == sorted(frame["context"])
    with pytest.raises(RecipeError, match="not budget and sample_size"):
        load_recipe(write(tmp_path, GOOD.replace("        budget: 10\n", "        budget: 10\n        sample_size: 3\n")),
                    KNOWN)


def test_the_shipped_convllava_stages_use_its_dataset_names():
    known = {f"train/{name}" for name in ("sharegpt4v_pt", "sharegpt4v_cap100k", "allava_laion_caption",
                                         "allava_vflan_caption", "allava_laion_instruct", "allava_vflan_instruct",
                                         "vision_flan", "llava_v1_5_mix665k")}
    names = {stage: [e.dataset_name for e in load_recipe(SHIPPED_DIR / f"convllava_{stage}.yaml", known).stages[0].entries]
             for stage in ("stage1", "stage2", "stage3")}
    assert names == {"stage1": ["sharegpt4vpretrain", "sharegpt4v100k", "allava_laion_caption", "allava_vflan_caption"],
                     "stage2": ["sharegpt4vpretrain", "sharegpt4v100k", "allava_laion_caption", "allava_vflan_caption",
                                "allava_laion_instruct", "allava_vflan_instruct", "vflan"],
                     "stage3": ["llava665k"]}
    vflan = load_recipe(SHIPPED_DIR / "convllava_stage2.yaml", known).stages[0].entries[-1]
    assert (vflan.shuffle, vflan.sample_size) == (True, 100_000)
