"""A training sweep on Ray: what each trial asks for, how many run at once, how the data gets
to the nodes, and the ``RayExecutor`` that runs the built-in trainer's trials there.

Resolved when the sweep starts, against the connected cluster (``ray_cluster.RaySession``):

- resources per trial: ``resources_per_trial`` (``{"cpu": 2, "gpu": 0.25}``) or, by default,
  ``threads_per_trial`` CPUs (1) and one GPU when the cluster has GPUs and ``device`` is not
  ``cpu``;
- ``max_concurrent_trials="auto"``: as many trials as the cluster's CPUs and GPUs hold;
- data: read in place when every node sees the dataset's files, otherwise carried by the
  object store (``ray_cluster.DataTransport``); the sweep directory must be on a filesystem
  every node shares (the trials write their checkpoints there and the driver reads them).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from automl_vision.executors.pool import TrialContext
from automl_vision.executors.ray_cluster import (
    DataTransport,
    RaySession,
    local_dataset,
    packed_files,
)
from automl_vision.executors.ray_executor import RayExecutor, TrialResources
from automl_vision.reporting.announce import announce
from automl_vision.tuning.training_trial import TrainingJob, run_training_trial

__all__ = ["data_transport", "describe_ray", "ray_training_executor", "trial_resources"]


def _where(address: str | None) -> str:
    return "a local Ray instance started for the sweep" if address is None else address


def trial_resources(spec: Any, session: RaySession | None) -> TrialResources:
    """What each trial asks Ray for (see the module docstring); ``session`` None: not yet
    connected (a GPU by default is then decided when the sweep starts)."""
    given = dict(spec.resources_per_trial or {})
    cpus = given.pop("cpu", float(spec.threads_per_trial or 1))
    if "gpu" in given:
        gpus = given.pop("gpu")
    elif spec.device.value == "cpu" or session is None:
        gpus = 0.0
    else:
        gpus = 1.0 if session.total("GPU") >= 1 else 0.0
    return TrialResources(cpus=cpus, gpus=gpus, custom=given)


def ray_capacity(spec: Any, session: RaySession, resources: TrialResources) -> int:
    """``max_concurrent_trials``, with ``"auto"`` counted from the cluster's resources."""
    if spec.max_concurrent_trials != "auto":
        return int(spec.max_concurrent_trials)
    fits = [math.floor(session.total("CPU") / resources.cpus + 1e-9)]
    if resources.gpus:
        fits.append(math.floor(session.total("GPU") / resources.gpus + 1e-9))
    for name, amount in resources.custom.items():
        if amount:
            fits.append(math.floor(session.total(name) / amount + 1e-9))
    count = max(1, min(fits))
    announce(f"max_concurrent_trials=auto: {count} trials at once on the Ray cluster")
    return count


def check_fits(session: RaySession, resources: TrialResources) -> None:
    """A ValueError when no alive node has what one trial asks for (Ray would wait forever)."""
    wanted = {"CPU": resources.cpus, "GPU": resources.gpus, **resources.custom}
    nodes = session.alive_nodes()
    for node in nodes:
        have = node.get("Resources", {})
        if all(have.get(name, 0.0) + 1e-9 >= amount for name, amount in wanted.items() if amount):
            return
    offered = "; ".join(
        f"{n.get('NodeManagerAddress')}: "
        + ", ".join(f"{v:g} {k}" for k, v in sorted(n.get("Resources", {}).items())
                    if not k.startswith("node:") and "memory" not in k)
        for n in nodes
    )  # fmt: skip
    raise ValueError(
        f"resources_per_trial ({resources}) fits on no node of the Ray cluster ({offered})"
    )


def _sample_files(dataset: Any) -> list[Path]:
    images = dataset.images.images
    if dataset.images.in_memory or not len(images):
        return []
    picks = {0, len(images) // 2, len(images) - 1}
    return [Path(images[i]).absolute() for i in sorted(picks)]


def data_transport(session: RaySession, dataset: Any, output_dir: Path) -> DataTransport:
    """How the dataset reaches the nodes; a ValueError when a node cannot see ``output_dir``."""
    if dataset.images.in_memory:
        return DataTransport.OBJECT_STORE  # arrays travel with the job anyway
    if session.address is None:
        return DataTransport.SHARED_PATH  # a local instance: this machine only
    output_dir.mkdir(parents=True, exist_ok=True)
    lacking = session.nodes_not_seeing([output_dir, *_sample_files(dataset)])
    out = str(output_dir.absolute())
    blind = [node for node, paths in lacking.items() if out in paths]
    if blind:
        raise ValueError(
            f"output_dir {out} is not visible on Ray node(s) {', '.join(blind)}: on a cluster "
            "the sweep directory must be on a filesystem every node shares (trials write "
            "their checkpoints there)"
        )
    return DataTransport.OBJECT_STORE if lacking else DataTransport.SHARED_PATH


def run_on_node_copy(
    params: Mapping[str, Any],
    report: Callable[[int, Mapping[str, float]], bool],
    context: TrialContext,
    *,
    job: TrainingJob,
    files: Any,
) -> Any:
    """``run_training_trial`` on a node that cannot read the dataset's files: they come from
    the object store (``files``: its reference) and are written once per node."""
    import ray

    dataset = local_dataset(job.dataset, ray.get(files))
    return run_training_trial(
        params, report, context, job=dataclasses.replace(job, dataset=dataset)
    )


def ray_training_executor(
    plan: Any, job: TrainingJob, session: RaySession
) -> tuple[RayExecutor, TrainingJob]:
    """The executor of ``plan``'s trials on the connected cluster (and the job it runs)."""
    spec = plan.spec
    resources = trial_resources(spec, session)
    check_fits(session, resources)
    capacity = ray_capacity(spec, session, resources)
    transport = data_transport(session, plan.dataset, plan.output_dir)
    announce(
        f"Ray: {len(session.alive_nodes())} node(s) at {_where(session.address)}; "
        f"{capacity} trial(s) at once, each {resources}; "
        + transport.describe(plan.dataset.images.origin)
    )
    job = dataclasses.replace(
        job, threads=max(1, int(resources.cpus)), device="cuda" if resources.gpus else "cpu"
    )
    if transport is DataTransport.OBJECT_STORE and not plan.dataset.images.in_memory:
        files = session.ray.put(packed_files(plan.dataset))  # once per sweep
        target: Any = functools.partial(run_on_node_copy, job=job, files=files)
    else:
        target = functools.partial(run_training_trial, job=job)
    executor = RayExecutor(
        target,
        ray=session.ray,
        capacity=capacity,
        output_dir=plan.output_dir,
        resources=resources,
        trial_timeout=plan.trial_timeout,
        threads=job.threads,
    )
    return executor, job


def describe_ray(plan: Any) -> list[str]:
    """The dry run's lines about Ray (the cluster is not contacted)."""
    spec = plan.spec
    resources = trial_resources(spec, None)
    gpu = (
        ""
        if "gpu" in (spec.resources_per_trial or {}) or spec.device.value == "cpu"
        else (" (+ 1 GPU when the cluster has GPUs)")
    )
    concurrency = (
        "as many as the cluster's resources hold"
        if spec.max_concurrent_trials == "auto"
        else str(plan.max_concurrent_trials)
    )
    data = plan.dataset.images.origin
    if spec.ray_address is None:
        data_line = DataTransport.SHARED_PATH.describe(data)
    else:
        data_line = (
            f"data: {data}: read in place if every node sees it, else sent once through "
            "Ray's object store (checked when the sweep starts)"
        )
    return [
        f"executor: ray at {_where(spec.ray_address)}; {concurrency} trial(s) at once, each "
        f"{resources}{gpu} in a fresh Ray worker process",
        data_line,
    ]
