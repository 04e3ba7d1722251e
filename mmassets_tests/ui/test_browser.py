"""End-to-end test of the Dagster UI that `mmassets ui` serves, driven by headless Chromium.

One `mmassets ui` (i.e. `dagster dev`) per module, on a free port of 127.0.0.1 and a temporary
data folder (profile sample, which generates its own raw data). The tests open the lineage graph
and check the six asset groups, then materialize `raw/coco_karpathy` by clicking "Materialize" on
its asset page and read the row count the UI shows (`dagster/row_count`: 40 on the sample).

Needs the `playwright` python package (dev extra) and /usr/bin/chromium; when Chromium is missing
the module tries `apt-get install -y chromium` and skips if that fails. Never `playwright install`.
Screenshots go to $MMASSETS_TEST_ARTIFACTS, else to a pytest temp folder (printed at the end).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                 "--disable-dev-shm-usage"]
GROUPS = ("raw", "english", "translated", "train", "mixture", "eval")
ASSET = "raw/coco_karpathy"
SAMPLE_ROWS = 40
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 180
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


# --- setup helpers -----------------------------------------------------------------------------

def ensure_chromium() -> None:
    """/usr/bin/chromium, installed with apt-get when missing; skips the module when that fails."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and there is no apt-get to install it")
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing and installing it with apt-get needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command, timeout in ((["apt-get", "update"], 180), (["apt-get", "install", "-y", "chromium"], 300)):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as error:
            pytest.skip(f"{CHROMIUM} is missing and `{' '.join(command)}` failed: {error}")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-500:]
            pytest.skip(f"{CHROMIUM} is missing and `{' '.join(command)}` exited {done.returncode}: {tail}")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"`apt-get install -y chromium` succeeded but {CHROMIUM} is still missing")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise AssertionError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


WORKSPACE_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
RUNS_QUERY = "{ runsOrError { ... on Runs { results { runId status tags { key value } assetSelection { path } } } } }"
RUN_QUERY = "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { runId status assetSelection { path } } } }"


class Server:
    def __init__(self, process: subprocess.Popen, base: str, log: Path):
        self.process, self.base, self.log = process, base, log

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        return graphql(self.base, query, variables)

    def runs(self) -> list[dict]:
        return self.graphql(RUNS_QUERY)["runsOrError"]["results"]

    def run_ids(self) -> set[str]:
        return {r["runId"] for r in self.runs()}

    def ui_run_for(self, asset: str, exclude: set[str]) -> str | None:
        """A run launched from the UI (tag dagster/from_ui) for exactly `asset`, not in `exclude`
        (the automation sensors of the code location launch runs of their own)."""
        for run in self.runs():
            tags = {t["key"]: t["value"] for t in run["tags"]}
            if (run["runId"] not in exclude and tags.get("dagster/from_ui") == "true"
                    and [a["path"] for a in run["assetSelection"] or []] == [asset.split("/")]):
                return run["runId"]
        return None

    def wait_until_ready(self, timeout: float) -> None:
        """Until the webserver answers and the code location `mmassets` is loaded."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"`mmassets ui` exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/server_info", timeout=5):
                    pass
                entries = self.graphql(WORKSPACE_QUERY)["workspaceOrError"].get("locationEntries") or []
                entry = next((e for e in entries if e["name"] == "mmassets"), None)
                if entry is not None and entry["loadStatus"] == "LOADED":
                    loaded = entry["locationOrLoadError"] or {}
                    if loaded.get("__typename") == "PythonError":
                        raise AssertionError(f"code location mmassets failed to load: {loaded.get('message')}")
                    return
                last = f"location entries {entries}"
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
                last = repr(error)
            time.sleep(0.5)
        raise AssertionError(f"`mmassets ui` not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        else:  # the leader is gone; make sure nothing of its group (daemon, webserver, code server) lingers
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sync_api():
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def artifacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("MMASSETS_TEST_ARTIFACTS")
    folder = Path(given) if given else tmp_path_factory.mktemp("ui-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"UI screenshots: {folder}")
    yield folder
    saved = sorted(p.name for p in folder.glob("*.png"))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and saved:
        reporter.write_line(f"\nUI screenshots in {folder}: {', '.join(saved)}")


@pytest.fixture(scope="module")
def server(sync_api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ensure_chromium()
    data_dir = tmp_path_factory.mktemp("ui-data")
    port = free_port()
    script = Path(sys.executable).with_name("mmassets")
    if not script.exists():
        pytest.fail(f"no `mmassets` script next to {sys.executable} (is the package installed?)")
    # The instance and settings come from the data folder only: drop any DAGSTER_HOME/MMASSETS_* of the caller.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    log = data_dir / "mmassets-ui.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(script), "ui", "--profile", "sample", "--data-dir", str(data_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        running.wait_until_ready(START_TIMEOUT_S)
        # The "Join the Dagster community" dialog covers every page on localhost until this is set.
        assert running.graphql("mutation { setNuxSeen }")["setNuxSeen"] is True
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser(sync_api, server: Server):
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


# --- tests -------------------------------------------------------------------------------------

def test_lineage_graph_shows_every_group(server: Server, page, artifacts: Path, sync_api) -> None:
    expect = sync_api.expect
    page.goto(f"{server.base}/asset-groups")
    expect(page.get_by_text("Global asset lineage")).to_be_visible()
    # The graph's sidebar lists one collapsible button per group (name "asset_group <g> <g>":
    # icon label + text); match the group name as a whole word.
    for group in GROUPS:
        expect(page.get_by_role("button", name=re.compile(rf"(^|\s){group}(\s|$)")).first).to_be_visible()
    # ... and the canvas draws one node per group (collapsed: its name and asset count).
    canvas_text = page.locator("svg").filter(has_text="translated").first
    for group in GROUPS:
        expect(canvas_text.get_by_text(group, exact=True).first).to_be_visible()
    try:  # let the nodes show their status counts instead of "(fetching statuses)" in the screenshot
        expect(page.get_by_text("fetching statuses")).to_have_count(0, timeout=10_000)
    except AssertionError:
        pass
    page.screenshot(path=str(artifacts / "lineage_graph.png"))


def test_materialize_from_the_ui_and_read_the_row_count(server: Server, page, artifacts: Path, sync_api) -> None:
    expect = sync_api.expect
    started = time.monotonic()
    before = server.run_ids()
    page.goto(f"{server.base}/assets/{ASSET}")
    materialize = page.get_by_role("button", name=re.compile(r"(^|\s)Materialize$"))  # not "Materialize all…"
    expect(materialize).to_be_enabled()
    materialize.click()

    # The UI answers with a toast "Launched run <id8>" whose "View" link goes to /runs/<run id>.
    # An unpartitioned asset without config launches straight away; should a dialog open (config,
    # partitions), confirm it with its launch button.
    toasts = page.get_by_role("region", name=re.compile("Notifications"))
    run_id = None
    deadline = time.monotonic() + 30
    while run_id is None and time.monotonic() < deadline:
        view = toasts.get_by_role("link", name="View")
        if view.count():
            run_id = (view.first.get_attribute("href") or "").rstrip("/").rsplit("/runs/", 1)[-1] or None
        if run_id is None:  # the toast may be gone already: the run this UI launched for the asset
            run_id = server.ui_run_for(ASSET, exclude=before)
        if run_id is None:
            dialog = page.get_by_role("dialog")
            if dialog.count() and dialog.first.is_visible():
                confirm = dialog.first.get_by_role("button", name=re.compile(r"(Materialize|Launch)"))
                if confirm.count():
                    confirm.last.click()
            time.sleep(0.5)
    if run_id is None:
        page.screenshot(path=str(artifacts / "materialize_not_launched.png"))
        pytest.fail(f"no run started within 30 s of clicking Materialize; page says:\n{page.inner_text('body')[:2000]}")

    run = None
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = server.graphql(RUN_QUERY, {"id": run_id})["runOrError"]
        if run.get("status") in TERMINAL_RUN_STATUSES:
            break
        time.sleep(1)
    assert run is not None and run.get("status") == "SUCCESS", (
        f"run {run_id} ended as {run}; see {server.base}/runs/{run_id}\n{server.log_tail()}")
    assert run["assetSelection"] == [{"path": ASSET.split("/")}]

    # The overview does not add the new materialization's metadata (row count, metadata table)
    # while it is open: reload it.
    page.reload()
    label = page.get_by_text("Row count", exact=True)
    expect(label).to_be_visible()
    # Label and value (a tag with a table_rows icon) share a parent: "Row count\n40".
    shown = label.locator("xpath=..").inner_text()
    match = re.search(r"Row count\s+([\d,]+)", shown)
    assert match, f"no number next to 'Row count': {shown!r}"
    page.screenshot(path=str(artifacts / "asset_raw_coco_karpathy.png"))
    assert int(match.group(1).replace(",", "")) == SAMPLE_ROWS

    # The Events tab lists the materialization's metadata as a table: dagster/row_count | 40.
    page.get_by_role("tab", name="Events").click()
    row = page.get_by_role("row").filter(has_text="dagster/row_count").first
    expect(row).to_be_visible()
    cells = row.get_by_role("cell")
    expect(cells.nth(0)).to_have_text("dagster/row_count")
    expect(cells.nth(1)).to_have_text(str(SAMPLE_ROWS))
    page.screenshot(path=str(artifacts / "asset_raw_coco_karpathy_events.png"))
    print(f"materialized {ASSET} from the UI in {time.monotonic() - started:.1f} s (run {run_id})")
