"""Nothing silent: an asset that keeps no records of an input that had some fails, with the drops
counted by reason (or the word that none was counted); an empty recipe entry is listed as such."""

import dagster as dg
import pandas as pd
import pytest

from builds import run_build
from mmassets.defs.common.accounting import counted_drops, refuse_empty
from mmassets.defs.common.io import stored_path
from mmassets.storage import write_parquet


def test_an_asset_that_keeps_nothing_fails_with_its_counted_drops():
    with pytest.raises(dg.Failure) as failed:
        refuse_empty("english/aokvqa_cot", 0, {"no rationales (a test split?)": 25, "unused": 0}, read=25)
    assert failed.value.description == ("english/aokvqa_cot: no records out of 25 read; every record was dropped: "
                                        "no rationales (a test split?) 25.")


def test_an_asset_that_keeps_nothing_without_a_counted_drop_says_so():
    with pytest.raises(dg.Failure, match="no record was dropped for a counted reason, so its input holds nothing "
                                         "this asset can use. Look at the file"):
        refuse_empty("train/x", 0, {}, hint="Look at the file.")


def test_records_kept_or_an_empty_input_pass():
    refuse_empty("train/x", 3, {"gate": 1})
    refuse_empty("train/x", 0, {}, read=0)


def test_drops_are_read_from_the_metadata_that_counts_them():
    metadata = {"dropped translations": dg.MetadataValue.json({"label: empty": 2, "label: unchanged": 0}),
                "records dropped": {"missing image": 1}, "rows": 3, "skipped": {"note": "text"}}
    assert counted_drops(metadata) == {"dropped translations: label: empty": 2, "records dropped: missing image": 1}


def test_an_empty_entry_is_listed_as_empty_not_left_out_silently(tmp_path, sample_raw):
    """A shard entry that holds no records (stored so by an earlier build) is not dropped from the
    stage without a word: it is in `skipped entries` as empty, and the others are registered."""
    data = tmp_path / "data"
    select = ["--raw-dir", str(sample_raw), "--select"]
    code, out = run_build(data, *select, '+key:"mixture/vila_ja_step1"')
    assert code == 0, out
    path = stored_path(data, dg.AssetKey(["train", "llm_jp_interleaved"]))
    write_parquet(pd.read_parquet(path).head(0), path)

    code, out = run_build(data, *select, 'key:"mixture/vila_ja_step1"')

    assert code == 0, out
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    metadata = instance.get_latest_materialization_event(
        dg.AssetKey(["mixture", "vila_ja_step1"])).asset_materialization.metadata
    assert metadata["skipped entries"].value == {"train/llm_jp_interleaved": "empty: materialized with no records"}
    registered = (data / "exports" / "mixtures" / "vila_ja_step1" / "step1.vila" / "datasets_mixture.py").read_text()
    assert "llm_jp_mm_interleaved_step1_6m" not in registered and "coyo_6m" in registered
