"""The configuration files the README's "Scaling out" shows are the ones the tests run: the
deployment's dagster.yaml (``defs/test_distributed_build.py``) and the Kubernetes executor's config
(``defs/test_kubernetes_executor.py``)."""

from pathlib import Path

import yaml
from servers import DEPLOYMENT_INSTANCE
from test_kubernetes_executor import CONFIG

README = Path(__file__).parents[2] / "README.md"


def scaling_out_blocks() -> list[str]:
    """The YAML blocks of the README's "Scaling out" section, in order, dedented."""
    section = README.read_text(encoding="utf-8").split("\n## Scaling out\n", 1)[1].split("\n## ", 1)[0]
    blocks, current = [], None
    for line in section.splitlines():
        stripped = line.strip()
        if current is None and stripped == "```yaml":
            current, indent = [], len(line) - len(line.lstrip())
        elif current is not None and stripped == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line[indent:])
    return blocks


def test_the_readme_dagster_yaml_is_the_deployment_the_distributed_test_runs():
    (instance,) = [block for block in scaling_out_blocks() if block.startswith("storage:")]
    assert instance == DEPLOYMENT_INSTANCE


def test_the_readme_kubernetes_config_is_the_one_the_job_snapshot_comes_from():
    (kubernetes,) = [yaml.safe_load(block) for block in scaling_out_blocks() if "job_image" in block]
    assert kubernetes == {key: value for key, value in CONFIG.items() if key != "load_incluster_config"}


def test_the_readme_celery_config_names_the_executors_fields():
    (celery,) = [yaml.safe_load(block) for block in scaling_out_blocks() if block.startswith("broker:")]
    assert set(celery) == {"broker", "backend"}
