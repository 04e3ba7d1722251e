"""The shared asset-check functions on hand-made frames."""

import dagster as dg
import pandas as pd
from PIL import Image

from mmassets.defs.common import checks


def test_duplicate_share_is_advisory_and_counts_exact_repeats():
    frame = pd.DataFrame({"context": ["a", "a", "b"], "label": ["x", "x", "x"], "image_id": ["1.jpg"] * 3})
    result = checks.duplicates(frame, ["context", "label", "image_id"])
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["duplicate records"].value == 1
    assert checks.duplicates(frame.iloc[1:], ["context", "label", "image_id"]).passed
    spec = {s.name: s for s in checks.specs(["train", "x"], checks.DUPLICATES, checks.SCHEMA)}
    assert not spec[checks.DUPLICATES].blocking and spec[checks.SCHEMA].blocking


def test_eval_schema_takes_string_or_list_references():
    good = pd.DataFrame({"context": ["q", "q"], "label": ["", ""], "image_id": ["a.jpg", "b.jpg"],
                         "text_label": ["yes", ["cat", "dog"]]})
    assert checks.eval_schema(good).passed
    bad = good.assign(text_label=["", []])
    result = checks.eval_schema(bad)
    assert not result.passed
    assert result.metadata["problems"].value == {"text_label: not a non-empty string or list of strings": 2}


def _jpeg(path):
    Image.new("RGB", (8, 6), "red").save(path, "JPEG")
    return path


def test_images_check_resolves_every_image_column(tmp_path):
    _jpeg(tmp_path / "left.jpg")
    frame = pd.DataFrame({"left_image": ["left.jpg"], "right_image": ["right.jpg"]})
    result = checks.images(frame, lambda image: tmp_path / image, columns=("left_image", "right_image"),
                           within=[str(tmp_path)])
    assert not result.passed
    assert result.metadata["missing"].value == 1 and result.metadata["distinct images"].value == 2
    assert result.metadata["problem examples"].value == [
        {"image": "right.jpg", "file": str(tmp_path / "right.jpg"), "status": "missing", "detail": ""}]


def test_images_check_samples_above_the_limit(tmp_path):
    for i in range(10):
        _jpeg(tmp_path / f"{i}.jpg")
    frame = pd.DataFrame({"image_id": [f"{i}.jpg" for i in range(10)] + ["gone.jpg"]})
    sampled = [checks.images(frame, lambda image: tmp_path / image, within=[str(tmp_path)], limit=4) for _ in range(2)]
    assert sampled[0].metadata["checked"].value == 4 and sampled[0].metadata["distinct images"].value == 11
    assert sampled[0].metadata == sampled[1].metadata  # seeded: the same sample every time
    full = checks.images(frame, lambda image: tmp_path / image, within=[str(tmp_path)], limit=100)
    assert not full.passed and full.metadata["missing"].value == 1


def test_images_check_opens_every_image_and_refuses_hostile_files(tmp_path):
    """Zero-byte, corrupt and decompression-bomb files, and a symlink to /etc/passwd, fail the check,
    each named with its status; a real image, and a symlink to one inside the root, pass."""
    root = tmp_path / "root"
    root.mkdir()
    _jpeg(root / "good.jpg")
    (root / "inside.jpg").symlink_to(root / "good.jpg")
    (root / "empty.jpg").write_bytes(b"")
    (root / "corrupt.jpg").write_bytes(b"this is not an image at all\n" * 10)
    Image.new("1", (30_000, 30_000)).save(root / "bomb.png")  # 900M pixels, a few kilobytes
    assert (root / "bomb.png").stat().st_size < 200_000
    (root / "passwd.jpg").symlink_to("/etc/passwd")
    frame = pd.DataFrame({"image_id": ["good.jpg", "inside.jpg", "empty.jpg", "corrupt.jpg", "bomb.png", "passwd.jpg"]})
    result = checks.images(frame, lambda image: root / image, within=[str(root.resolve())])
    assert not result.passed
    statuses = {p["image"]: (p["status"], p["detail"]) for p in result.metadata["problem examples"].value}
    assert set(statuses) == {"empty.jpg", "corrupt.jpg", "bomb.png", "passwd.jpg"}
    assert statuses["empty.jpg"] == ("unreadable", "empty file")
    assert statuses["corrupt.jpg"][0] == "unreadable"
    assert statuses["bomb.png"][0] == "unreadable" and "decompression-bomb" in statuses["bomb.png"][1]
    assert statuses["passwd.jpg"] == ("unsafe", "a symlink to /etc/passwd, outside the image roots")
    assert result.metadata["problems by status"].value == {"unreadable": 3, "unsafe": 1}


def test_row_count_check_compares_runs_of_the_same_configuration_only():
    """A collapse fails the check; the same collapse after a deliberate configuration change does not."""
    import dagster as dg

    from mmassets.defs.common import checks

    class Setting(dg.Config):
        splits: str = "train"

    rows = []

    @dg.asset(check_specs=checks.specs(["toy"], checks.ROW_COUNT))
    def toy(context: dg.AssetExecutionContext, config: Setting):
        result = checks.row_count_stable(context, rows[-1])
        yield dg.Output(rows[-1], metadata={"dagster/row_count": rows[-1], **checks.config_metadata(context)})
        yield result

    instance = dg.DagsterInstance.ephemeral()

    def run(n: int, splits: str | None = None) -> dict:
        rows.append(n)
        config = {"ops": {"toy": {"config": {"splits": splits}}}} if splits else None
        result = dg.materialize([toy], instance=instance, run_config=config, raise_on_error=False)
        evaluation = result.get_asset_check_evaluations()[0]
        return {"passed": evaluation.passed, **{k: v.value for k, v in evaluation.metadata.items()}}

    assert run(10)["passed"]  # nothing to compare with
    collapsed = run(2)
    assert collapsed["compared"] and not collapsed["passed"]  # 10 → 2 under the same configuration
    changed = run(1, splits="val")
    assert changed["passed"] and not changed["compared"]
    assert changed["not compared"] == "the run configuration changed"
    assert run(1, splits="val")["compared"]
