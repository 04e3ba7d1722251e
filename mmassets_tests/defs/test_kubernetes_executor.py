"""The definitions on Kubernetes (MMASSETS_EXECUTOR=k8s): no cluster can run here, so a real run of a
translation step goes through dagster-k8s's own executor against a Kubernetes API server on
127.0.0.1 that records the Job it is asked to create (and reports it failed, which ends the run).
A Job reported failed is retried by the translation steps' retry policy. The Job is compared with a snapshot: the image, namespace, GPU request and limit, node selector and
tolerations come from the configuration (MMASSETS_EXECUTOR_CONFIG) and the step's op tags."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from builds import _home, _settings_free_env

pytest.importorskip("dagster_k8s")

SNAPSHOT = Path(__file__).parent / "snapshots" / "k8s_translation_step_job.json"
CONFIG = {
    "job_image": "registry.example.com/mmassets:1.0",
    "job_namespace": "mmassets",
    "load_incluster_config": False,
    "gpu_step_k8s_config": {"pod_spec_config": {
        "node_selector": {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}},
}
RUN_LAUNCHER = {"service_account_name": "mmassets", "instance_config_map": "dagster-instance",
                "job_namespace": "mmassets", "load_incluster_config": False, "dagster_home": "/opt/dagster/dagster_home"}
RUN = """
import dagster as dg
from mmassets.execution import reconstructable_job
result = dg.execute_job(reconstructable_job("__ASSET_JOB"), dg.DagsterInstance.get(),
                        asset_selection=[dg.AssetKey(["translated", "coco_captions"])],
                        tags={"dagster/asset_partition_range_start": "ar", "dagster/asset_partition_range_end": "ar"})
print("run", result.run_id, result.success)
"""


class KubernetesApi(BaseHTTPRequestHandler):
    """Just enough of the batch/v1 API: create a Job (recorded), read its status (failed), delete it."""

    jobs: list = []

    def log_message(self, *args):  # quiet
        pass

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if re.fullmatch(r"/apis/batch/v1/namespaces/[^/]+/jobs", self.path):
            self.jobs.append({"path": self.path, "job": body})
            return self._reply(201, body)
        return self._reply(404, {"kind": "Status", "code": 404})

    def do_GET(self):
        found = re.fullmatch(r"/apis/batch/v1/namespaces/([^/]+)/jobs/([^/]+)/status", self.path)
        if found:
            return self._reply(200, {"apiVersion": "batch/v1", "kind": "Job",
                                     "metadata": {"name": found[2], "namespace": found[1]},
                                     "status": {"failed": 1}})
        return self._reply(404, {"kind": "Status", "code": 404})

    def do_DELETE(self):
        return self._reply(200, {"kind": "Status", "status": "Success"})


@pytest.fixture(scope="module")
def created_jobs(tmp_path_factory):
    root = tmp_path_factory.mktemp("k8s")
    server = ThreadingHTTPServer(("127.0.0.1", 0), KubernetesApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kubeconfig = root / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
            "users": [{"name": "test", "user": {"token": "test"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}))
        config = root / "executor.yaml"
        config.write_text(yaml.safe_dump({**CONFIG, "kubeconfig_file": str(kubeconfig)}))
        data_dir = root / "data"
        home = _home(data_dir)
        with (home / "dagster.yaml").open("a") as instance_yaml:  # what a Kubernetes deployment's instance has
            instance_yaml.write(yaml.safe_dump({"run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher",
                                                                 "config": {**RUN_LAUNCHER,
                                                                            "kubeconfig_file": str(kubeconfig)}}}))
        env = {**_settings_free_env(), "DAGSTER_HOME": str(home), "MMASSETS_DATA_DIR": str(data_dir),
               "MMASSETS_EXECUTOR": "k8s", "MMASSETS_EXECUTOR_CONFIG": str(config)}
        process = subprocess.Popen([sys.executable, "-c", RUN], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + 180
        while len(KubernetesApi.jobs) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)  # the first Job, reported failed, then its retry (the retry policy's 10 s later)
        os.killpg(process.pid, signal.SIGKILL)  # nothing runs the steps: the run would retry once more, then fail
        out = process.communicate()[0]
        return list(KubernetesApi.jobs), out
    finally:
        server.shutdown()
        server.server_close()


def _normalized(job: dict) -> dict:
    """The Job without what differs from run to run (the run id, and the step arguments, which hold it)."""
    text = json.dumps(job, sort_keys=True)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<run-id>", text)
    text = re.sub(r"dagster-step-[0-9a-f]{32}", "dagster-step-<hash>", text)
    job = json.loads(text)
    for container in job["spec"]["template"]["spec"]["containers"]:
        container["args"] = container["args"][:3]  # dagster api execute_step, then its serialized arguments
        for variable in container["env"]:
            if variable["name"] == "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS":
                variable["value"] = "<the step's arguments>"
    return job


def test_the_translation_step_becomes_a_job_with_the_gpu_node_selector_and_image(created_jobs):
    jobs, out = created_jobs
    assert jobs, out
    first = jobs[0]
    assert first["path"] == "/apis/batch/v1/namespaces/mmassets/jobs"
    pod = first["job"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/mmassets:1.0"
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"} == container["resources"]["requests"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    assert first["job"]["metadata"]["labels"]["dagster/op"] == "translated__coco_captions"


def test_a_failed_job_is_retried_as_a_new_job(created_jobs):
    jobs, out = created_jobs
    assert len(jobs) == 2, out
    first, retry = (job["job"]["metadata"]["name"] for job in jobs)
    assert retry == first + "-1"  # the retry policy's second attempt


def test_the_job_matches_the_snapshot(created_jobs):
    jobs, _ = created_jobs
    job = _normalized(jobs[0]["job"])
    if os.environ.get("MMASSETS_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(job, indent=1, sort_keys=True) + "\n")
    assert job == json.loads(SNAPSHOT.read_text()), "MMASSETS_UPDATE_SNAPSHOTS=1 writes the new snapshot"
