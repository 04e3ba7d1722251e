"""``mmassets build``: materialize a selection of the graph with all partitions and checks."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from mmassets.settings import PROFILES, Settings


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mmassets", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="materialize assets (all partitions, with checks) and summarize")
    build.add_argument("--select", default="*",
                       help="Dagster asset selection, e.g. 'group:train', 'key:\"eval/coco_karpathy\"+' (default: everything)")
    build.add_argument("--profile", choices=PROFILES, help="sample (default) or production")
    build.add_argument("--raw-dir", help="raw root in the upstream layout (env MMASSETS_RAW_DIR)")
    build.add_argument("--data-dir", help="where assets, exports and the Dagster instance go (env MMASSETS_DATA_DIR, default ./data)")
    build.add_argument("--recipes-dir", help="a folder of your own recipe YAML files (env MMASSETS_RECIPES_DIR)")
    build.add_argument("--config", help="a YAML file of asset configs: asset key → its config fields, e.g. "
                                        "'english/caption_matching: {captions_from: web_captions}'")
    ui = commands.add_parser("ui", help="the Dagster UI (dagster dev) on the instance `mmassets build` uses")
    for flag, help_text in (("--profile", "sample (default) or production"), ("--raw-dir", "raw root"),
                            ("--data-dir", "data folder (default ./data)"), ("--recipes-dir", "your recipes folder")):
        ui.add_argument(flag, help=help_text, **({"choices": PROFILES} if flag == "--profile" else {}))
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", default="3000")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env(profile=args.profile, raw_dir=args.raw_dir, data_dir=args.data_dir,
                                 recipes_dir=args.recipes_dir)
    os.environ.update(settings.as_env())
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

    if settings.profile == "sample":
        from mmassets.sample import SampleFolderRefused, check_sample_target

        try:
            check_sample_target(settings.raw_dir)
        except SampleFolderRefused as exc:
            print(f"mmassets {args.command}: {exc}", file=sys.stderr)
            return 2
    if args.command == "ui":
        return ui(args)

    from mmassets.run_guard import BuildInterrupted
    from mmassets.runner import build, instance_for

    try:
        from mmassets.definitions import build_definitions

        defs = build_definitions(settings)
    except (ValueError, OSError) as exc:  # e.g. a malformed languages table: one line, no traceback
        print(f"mmassets build: cannot load the definitions: {exc}", file=sys.stderr)
        return 2
    try:
        config = asset_config(args.config, defs) if args.config else {}
    except ValueError as exc:
        print(f"mmassets build: {exc}", file=sys.stderr)
        return 2
    import dagster as dg

    try:
        dg.AssetSelection.from_string(args.select)
    except dg.DagsterError as exc:
        print(f"mmassets build: --select {args.select!r} is not an asset selection ({exc}); e.g. 'group:train', "
              "'key:\"train/coco_captions\"', '3+key:\"mixture/mblip_v2\"' (it and three layers above)", file=sys.stderr)
        return 2
    instance = instance_for(settings.data_dir)
    print(f"mmassets build: profile {settings.profile}, raw {settings.raw_dir}, data {settings.data_dir}")
    try:
        report = build(defs, instance, args.select, config=config)
    except dg.DagsterInvalidConfigError as exc:
        print(f"mmassets build: the config of --config {args.config} does not fit: {exc}", file=sys.stderr)
        return 2
    except BuildInterrupted as stop:
        print()
        print(stop.args[0].summary())
        print("\ninterrupted: the build stopped after the interrupted run and started nothing more; its runs "
              "are marked failed and their pool slots freed. Run the same command again to go on "
              "(translations done so far are kept in the translation memory).")
        return 130
    print()
    print(report.summary())
    print(f"\nexports: {settings.data_dir / 'exports'}")
    print(f"UI: `make ui` (or `mmassets ui --data-dir {settings.data_dir}`), then open http://127.0.0.1:3000")
    return 0 if report.ok else 1


def asset_config(path: str, defs) -> dict:
    """``{asset key: config}`` from a YAML file of ``<asset key>: {field: value}``; a file that is not
    such a mapping, or names an asset the graph lacks, is a ValueError naming the file."""
    import dagster as dg
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read the asset config file {path}: {exc}") from None
    if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
        raise ValueError(f"{path}: expected a mapping of asset key → mapping of config fields")
    known = defs.resolve_asset_graph().get_all_asset_keys()
    config = {}
    for name, fields in loaded.items():
        key = dg.AssetKey.from_user_string(str(name))
        if key not in known:
            raise ValueError(f"{path}: no asset {name!r} in the graph")
        config[key] = fields
    return config


WORKSPACE = """load_from:
  - python_module:
      module_name: mmassets.definitions
      attribute: defs
      location_name: mmassets
"""


def ui(args: argparse.Namespace) -> int:
    """Replace this process with `dagster dev` on the package's workspace, bound to --host."""
    from mmassets.runner import prepare_home

    home = prepare_home(Path(os.environ["MMASSETS_DATA_DIR"]))
    workspace = home / "workspace.yaml"  # the repository's workspace.yaml, wherever mmassets is installed
    workspace.write_text(WORKSPACE)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    os.execv(dagster, [dagster, "dev", "-w", str(workspace), "--host", args.host, "--port", str(args.port)])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
