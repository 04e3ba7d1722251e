"""``mmassets build``: materialize a selection of the graph with all partitions and checks."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from mmassets.devices import GPUS_VARIABLE, detected_gpus
from mmassets.settings import PROFILES, SettingError, Settings, check_writable


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mmassets", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="materialize assets (all partitions, with checks) and summarize")
    build.add_argument("--select", default="*",
                       help="Dagster asset selection, e.g. 'group:train', 'key:\"eval/coco_karpathy\"+' (default: everything)")
    build.add_argument("--profile", choices=PROFILES, help="sample (default) or production")
    build.add_argument("--raw-dir", help="raw root in the upstream layout (env MMASSETS_RAW_DIR)")
    build.add_argument("--data-dir", help="where assets, exports and the Dagster instance go (env MMASSETS_DATA_DIR, "
                                          "default ./data); an object store URL (s3://bucket/prefix, gs://…) holds the "
                                          "stored values and exports, the rest goes to --work-dir")
    build.add_argument("--work-dir", help="with an object store --data-dir: the local folder of the instance, caches, "
                                          "models and image downloads (env MMASSETS_WORK_DIR, default ./data)")
    build.add_argument("--recipes-dir", help="a folder of your own recipe YAML files (env MMASSETS_RECIPES_DIR)")
    build.add_argument("--verbose", action="store_true", help="print failures whole, with their stack traces")
    build.add_argument("--config", help="a YAML file of asset configs: asset key → its config fields, e.g. "
                                        "'english/caption_matching: {captions_from: web_captions}'")
    build.add_argument("--executor", choices=("in_process", "multiprocess"),
                       help="in_process: one step after another in this process (the default on a machine with "
                            "one GPU or none); multiprocess: independent steps side by side, each in its own "
                            "process, and translation split over the GPUs, one step per GPU (the default with "
                            f"more than one GPU; {GPUS_VARIABLE} overrides the count detected)")
    build.add_argument("--workers", type=int,
                       help="multiprocess: at most this many steps at once (default: one per CPU)")
    build.add_argument("--submit", action="store_true",
                       help="launch the selection as an asset backfill on the instance ($DAGSTER_HOME) for its daemon "
                            "to run, on the executor MMASSETS_EXECUTOR names, instead of running it here; prints "
                            "the backfill's id (follow it with `mmassets status <id>`)")
    build.add_argument("--ui-url", default="http://127.0.0.1:3000",
                       help="where the Dagster UI is, for the links printed")
    status = commands.add_parser("status", help="follow a backfill `mmassets build --submit` launched, until it ends")
    status.add_argument("backfill_id")
    status.add_argument("--once", action="store_true", help="print where it stands and return")
    status.add_argument("--interval", type=float, default=5.0, help="seconds between looks (default 5)")
    _setting_flags(status)
    ui = commands.add_parser("ui", help="the Dagster UI (dagster dev) on the instance `mmassets build` uses")
    _setting_flags(ui)
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", default="3000")
    return root


def _setting_flags(command: argparse.ArgumentParser) -> None:
    """The flags that choose the settings, for the commands that only read a build's instance."""
    for flag, help_text in (("--profile", "sample (default) or production"), ("--raw-dir", "raw root"),
                            ("--data-dir", "data folder or object store URL (default ./data)"),
                            ("--work-dir", "the local work folder beside an object store"),
                            ("--recipes-dir", "your recipes folder")):
        command.add_argument(flag, help=help_text, **({"choices": PROFILES} if flag == "--profile" else {}))


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:  # every setting checked before any work starts: one line naming the bad one, no traceback
        settings = Settings.from_env(profile=args.profile, raw_dir=args.raw_dir, data_dir=args.data_dir,
                                     work_dir=args.work_dir, recipes_dir=args.recipes_dir)
        check_writable(settings)
    except SettingError as exc:
        print(f"mmassets {args.command}: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, settings)
    except PermissionError as exc:  # a folder or file of the data folder made read-only: one line naming it
        print(f"mmassets {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """The command, once its settings are checked."""
    os.environ.update(settings.as_env())
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

    if settings.profile == "sample":
        from mmassets.sample import SampleFolderRefused, check_sample_target

        try:
            check_sample_target(settings.raw_dir)
        except SampleFolderRefused as exc:
            print(f"mmassets {args.command}: {exc}", file=sys.stderr)
            return 2
    try:
        from mmassets.definitions import build_definitions

        defs = build_definitions(settings)
    except (ValueError, OSError) as exc:  # e.g. a recipe naming an asset the graph lacks: one line, no traceback
        print(f"mmassets {args.command}: cannot load the definitions: {exc}", file=sys.stderr)
        return 2
    if args.command == "ui":
        return ui(args, settings)
    if args.command == "status":
        return status(args, settings, defs)

    from mmassets.run_guard import BuildInterrupted
    from mmassets.runner import build, instance_for

    try:
        config = asset_config(args.config, defs) if args.config else {}
    except ValueError as exc:
        print(f"mmassets build: {exc}", file=sys.stderr)
        return 2
    import dagster as dg

    from mmassets.defs import asset_selection

    try:
        asset_selection(args.select)
    except dg.DagsterError as exc:
        print(f"mmassets build: --select {args.select!r} is not an asset selection ({exc}); e.g. 'group:train', "
              "'key:\"train/coco_captions\"', '3+key:\"mixture/mblip_v2\"' (it and three layers above)", file=sys.stderr)
        return 2
    from mmassets.defs import resolve_selection

    graph = defs.resolve_asset_graph()
    if not any(graph.get(key).is_materializable for key in resolve_selection(args.select, graph)):
        print(f"mmassets build: --select {args.select!r} matches no asset to build (nothing was done); asset "
              "keys are as the UI shows them, e.g. 'group:train', 'key:\"train/coco_captions\"'", file=sys.stderr)
        return 2
    gpus = settings.gpus if settings.gpus is not None else detected_gpus()
    if args.workers is not None and args.workers < 1:
        print(f"mmassets build: --workers {args.workers}: expected a whole number >= 1", file=sys.stderr)
        return 2
    executor = args.executor or ("multiprocess" if gpus > 1 else "in_process")
    instance = instance_for(settings.data_dir)
    if args.submit:
        return submitted(args, settings, defs, instance, config)
    shown = f"{settings.executor} (MMASSETS_EXECUTOR)" if executor == "multiprocess" and settings.executor else executor
    print(f"mmassets build: profile {settings.profile}, raw {settings.raw_dir}, data {settings.storage_root}, "
          f"executor {shown}" + (f" ({args.workers} workers)" if args.workers else "")
          + (f", {gpus} GPUs" if gpus else ""))
    keep_out_of_the_collectors_way()
    try:
        report = build(defs, instance, args.select, config=config, verbose=args.verbose, executor=executor,
                       workers=args.workers, gpus=gpus)
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
    print(f"\nexports: {settings.storage_root}/exports")
    print(f"UI: `make ui` (or `mmassets ui --data-dir {settings.data_dir}`), then open http://127.0.0.1:3000")
    return 0 if report.ok else 1


def submitted(args: argparse.Namespace, settings: Settings, defs, instance, config: dict) -> int:
    """``build --submit``: the selection as one asset backfill for the instance's daemon, with the
    asset configs of ``--config``."""
    from mmassets.submit import submit, ui_link

    import dagster as dg

    try:
        backfill_id = submit(defs, instance, args.select, config=config)
    except ValueError as exc:
        print(f"mmassets build: {exc}", file=sys.stderr)
        return 2
    except dg.DagsterInvalidConfigError as exc:
        print(f"mmassets build: the config of --config {args.config} does not fit: {exc}", file=sys.stderr)
        return 2
    print(f"mmassets build --submit: backfill {backfill_id} on the instance {instance.root_directory} "
          f"(executor {settings.executor or 'multiprocess'}); the daemon runs it")
    print(f"UI: {ui_link(backfill_id, args.ui_url)}")
    print(f"follow it: mmassets status {backfill_id}")
    return 0


def status(args: argparse.Namespace, settings: Settings, defs) -> int:
    """``mmassets status <id>``: the backfill's progress until it ends; exit 0 when it succeeded."""
    from mmassets.runner import instance_for
    from mmassets.submit import backfill_status, follow

    instance = instance_for(settings.data_dir)
    try:
        if args.once:
            report = backfill_status(defs, instance, args.backfill_id)
            print(report.summary())
        else:
            report = follow(defs, instance, args.backfill_id, interval=args.interval)
    except ValueError as exc:
        print(f"mmassets status: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nstopped following backfill {args.backfill_id}; the daemon goes on with it")
        return 130
    if not report.done:
        return 3
    return 0 if report.ok else 1


_FROZEN = False


def keep_out_of_the_collectors_way() -> None:
    """Python's cyclic garbage collector walks every container object in each full collection: those
    the imports and the definitions made (a quarter of a million) live as long as the process, and at
    exit the interpreter's last collection walks everything the build made (over a million objects:
    1.5 s of a sample build). So, once per process, what is alive now is collected and then frozen
    (``gc.freeze``: still freed by reference counting, no longer walked), and at exit everything is
    frozen before that last collection (which frees nothing the exit would not)."""
    global _FROZEN
    if _FROZEN:
        return
    import atexit
    import gc

    gc.collect()
    gc.freeze()
    atexit.register(gc.freeze)
    _FROZEN = True


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


def ui(args: argparse.Namespace, settings: Settings) -> int:
    """`dagster dev` on the package's workspace, bound to --host (default 127.0.0.1), run under
    ``supervise`` so that SIGINT and SIGTERM stop all of it."""
    from mmassets.runner import prepare_home

    if not str(args.port).isdigit() or not 0 < int(args.port) < 65536:
        print(f"mmassets ui: --port {args.port!r}: expected a port number from 1 to 65535", file=sys.stderr)
        return 2
    if not _loopback(args.host):
        print(f"mmassets ui: warning: --host {args.host} makes the UI reachable from other machines, and it has "
              "no authentication: anyone who can reach it can see the data and launch or cancel runs",
              file=sys.stderr)
    home = prepare_home(settings.data_dir)
    workspace = home / "workspace.yaml"  # the repository's workspace.yaml, wherever mmassets is installed
    workspace.write_text(WORKSPACE)
    dagster = shutil.which("dagster", path=str(Path(sys.executable).parent)) or "dagster"
    return supervise([dagster, "dev", "-w", str(workspace), "--host", args.host, "--port", str(args.port)])


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any address


STOP_TIMEOUT_S = 10.0


def supervise(command: Sequence[str], stop_timeout: float = STOP_TIMEOUT_S) -> int:
    """Run ``command`` as the leader of a new session and process group (a terminal's Ctrl-C reaches
    only this process) and pass SIGINT/SIGTERM on to it; ``stop_timeout`` seconds after the first
    signal, or at a second one, kill its whole group, and whatever of the group outlives the leader.
    Returns the command's exit status, 0 when it stopped on a passed-on signal, 128 + the signal
    when it had to be killed."""
    import signal
    import subprocess
    import threading

    received: list[int] = []
    child: subprocess.Popen | None = None
    killed = threading.Event()

    def kill_group() -> None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # nothing of the group is left
            pass

    def kill() -> None:
        killed.set()
        kill_group()

    timer = threading.Timer(stop_timeout, kill)
    timer.daemon = True

    def stop(signum: int, _frame: object = None) -> None:
        received.append(signum)
        if child is None:  # not started yet: passed on once it is
            return
        if len(received) > 1:
            kill()
            return
        print(f"mmassets: stopping on {signal.Signals(signum).name}; what still runs after {stop_timeout:g} s "
              "is killed", file=sys.stderr)
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass
        timer.start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = subprocess.Popen(list(command), start_new_session=True)
        if received:
            stop(received.pop())
        code = child.wait()
    finally:
        timer.cancel()
        if child is not None:
            if child.poll() is None:
                kill()
                child.wait()
            kill_group()  # what the leader left behind: its children share its group
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        return 128 + received[0] if killed.is_set() else 0
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
