"""The executor of the definitions, from configuration: what runs a submitted run's steps (the
daemon's runs, ``mmassets build --submit``). ``MMASSETS_EXECUTOR`` names it, ``MMASSETS_EXECUTOR_CONFIG``
is a YAML file of its Dagster config:

- ``multiprocess`` (Dagster's default): a process per step on the machine of the run;
- ``celery`` (extra ``celery``): ``celery_executor``'s config (``broker``, ``backend``, ...); every
  step goes to the queue ``dagster``, translation steps to the queue ``gpu``, whose workers run one
  task at a time (``celery -A dagster_celery.app worker -Q gpu -c 1``);
- ``k8s`` (extra ``k8s``): ``k8s_job_executor``'s config (``job_image``, ``job_namespace``, ...),
  a Kubernetes Job per step, plus mmassets' own ``gpu_step_k8s_config``: the Kubernetes config of
  every translation step (node selector, tolerations, its GPU count), merged over what the steps'
  op tags ask for (one ``nvidia.com/gpu``; ``GPU_OP_TAGS``).

Every translation step carries ``GPU_OP_TAGS`` whatever the executor, so the same definitions run
on each of them.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from mmassets.devices import DEVICE_TAG
from mmassets.settings import EXECUTORS

CELERY_QUEUE_TAG = "dagster-celery/queue"
K8S_CONFIG_TAG = "dagster-k8s/config"
GPU_QUEUE = "gpu"
ONE_GPU = {"nvidia.com/gpu": "1"}
GPU_OP_TAGS = {
    DEVICE_TAG: "gpu",
    CELERY_QUEUE_TAG: GPU_QUEUE,
    K8S_CONFIG_TAG: {"container_config": {"resources": {"requests": ONE_GPU, "limits": ONE_GPU}}},
}
"""Op tags of a step that holds a model on a GPU: one at a time per run (``runner``), the Celery
queue ``gpu``, one GPU requested and limited on Kubernetes."""
EXTRAS = {"celery": ("dagster_celery", "celery"), "k8s": ("dagster_k8s", "k8s")}


def gpu_step_names(assets: Sequence[dg.AssetsDefinition]) -> list[str]:
    """The op names of the steps that hold a model on a GPU (translation)."""
    return sorted({a.node_def.name for a in assets if isinstance(a, dg.AssetsDefinition)
                   and a.op.tags.get(DEVICE_TAG) == "gpu"})


def executor_for(name: str | None, config: Mapping[str, Any], gpu_steps: Sequence[str]) -> dg.ExecutorDefinition | None:
    """The executor ``name`` with its ``config`` (None: Dagster's default). A name without its extra
    installed, or a config the executor does not take, is a ValueError saying what to do."""
    if name is None:
        return None
    if name not in EXECUTORS:
        raise ValueError(f"executor {name!r}: expected one of {', '.join(EXECUTORS)}")
    config = dict(config)
    if name == "in_process":
        return dg.in_process_executor.configured(config, name="in_process")
    if name == "multiprocess":
        return dg.multiprocess_executor.configured(config, name="multiprocess")
    module, extra = EXTRAS[name]
    try:
        imported = __import__(module)
    except ImportError:
        raise ValueError(f"executor {name!r} needs the extra {extra!r}: pip install 'mmassets[{extra}]'") from None
    if name == "celery":
        return imported.celery_executor.configured(config, name="celery")
    gpu_config = config.pop("gpu_step_k8s_config", None)
    if gpu_config:
        per_step = dict(config.get("per_step_k8s_config") or {})
        for step in gpu_steps:  # what the user set for one step wins over what every GPU step gets
            per_step[step] = _merged(gpu_config, per_step.get(step, {}))
        config["per_step_k8s_config"] = per_step
    return imported.k8s_job_executor.configured(config, name="k8s")


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merged(merged[key], value) if isinstance(value, Mapping) and isinstance(
            merged.get(key), Mapping) else value
    return merged
