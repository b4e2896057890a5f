"""The ``ray`` kind's backend: each trial in a Ray actor of its own, anywhere on a cluster
(``ray_executor.RayExecutor``; the connection: ``ray_cluster.ray_session``).

Resolved once the sweep is connected (``capacity`` with a ``RaySession``):

- resources per trial: ``resources_per_trial`` (``{"cpu": 2, "gpu": 0.25}``) or, by default,
  ``threads_per_trial`` CPUs (1) and, for a training sweep whose ``device`` is not ``cpu``, one
  GPU when the cluster has GPUs; an objective asks for one CPU;
- ``max_concurrent_trials="auto"``: as many trials as the cluster's CPUs and GPUs hold;
- data (``executor``): read in place when every node sees the dataset's files, otherwise
  carried by the object store (``ray_cluster.DataTransport``); the sweep directory must be on
  a filesystem every node shares (the trials write their checkpoints there).

A dry run is not connected: it says what will be counted instead of counting it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.executors.backend import (
    Capacity,
    ExecutorBackend,
    ExecutorKind,
    ExecutorRequest,
    Purpose,
)
from automl_vision.executors.base import CarriesData, Executor, TrialTarget
from automl_vision.executors.machine import DeviceKind, Devices, Machine
from automl_vision.executors.ray_cluster import (
    RAY_INSTALL_HINT,
    DataTransport,
    RaySession,
    local_dataset,
    packed_files,
    ray_session,
)
from automl_vision.executors.ray_executor import RayExecutor, TrialResources

__all__ = ["RayBackend", "check_fits", "data_transport", "trial_resources"]


def _where(address: str | None) -> str:
    return "a local Ray instance started for the sweep" if address is None else address


def trial_resources(
    request: ExecutorRequest, session: RaySession | None, purpose: Purpose = Purpose.TRAINING
) -> TrialResources:
    """What each trial asks Ray for (see the module docstring); ``session`` None: not yet
    connected (a GPU by default is then decided when the sweep starts)."""
    given = dict(request.resources_per_trial or {})
    default_cpus = (request.threads_per_trial or 1) if purpose is Purpose.TRAINING else 1
    cpus = given.pop("cpu", float(default_cpus))
    if "gpu" in given:
        gpus = given.pop("gpu")
    elif purpose is Purpose.OBJECTIVE or request.device == "cpu" or session is None:
        gpus = 0.0
    else:
        gpus = 1.0 if session.total("GPU") >= 1 else 0.0
    return TrialResources(cpus=cpus, gpus=gpus, custom=given)


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


def _cluster_capacity(session: RaySession, resources: TrialResources) -> int:
    """How many trials asking ``resources`` the cluster's resources hold (at least one)."""
    fits = [math.floor(session.total("CPU") / resources.cpus + 1e-9)]
    if resources.gpus:
        fits.append(math.floor(session.total("GPU") / resources.gpus + 1e-9))
    for name, amount in resources.custom.items():
        if amount:
            fits.append(math.floor(session.total(name) / amount + 1e-9))
    return max(1, min(fits))


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


@dataclass(frozen=True)
class NodeCopy:
    """A data-carrying target on a node that cannot read the dataset's files: they come from
    the object store (``files``: its reference) and are written once per node."""

    target: Any  # CarriesData
    files: Any  # the object store's reference to the files' bytes

    def __call__(self, params: Any, report: Any, context: Any) -> Any:
        import ray  # lazy: runs inside a Ray worker, where ray is installed

        dataset = local_dataset(self.target.dataset, ray.get(self.files))
        return self.target.on_node(dataset)(params, report, context)


class RayBackend(ExecutorBackend):
    """``ray``: a Ray cluster (see the module docstring)."""

    kind = ExecutorKind.RAY
    own_options = ("ray_address", "resources_per_trial")
    connects = True

    def available(self) -> None:
        if importlib.util.find_spec("ray") is None:
            raise ValueError(RAY_INSTALL_HINT)

    def connect(self, request: ExecutorRequest) -> contextlib.AbstractContextManager[Any]:
        return ray_session(request.ray_address)

    def capacity(
        self,
        request: ExecutorRequest,
        purpose: Purpose,
        machine: Machine,
        connection: Any = None,
    ) -> Capacity:
        resources = trial_resources(request, connection, purpose)
        notes: tuple[str, ...] = ()
        if connection is None:  # a dry run: what depends on the cluster is said, not counted
            trials = 1 if request.auto else int(request.max_concurrent_trials)
            summary = (
                "auto (as many as the Ray cluster's resources hold)"
                if request.auto
                else str(trials)
            )
        else:
            check_fits(connection, resources)
            if request.auto:
                trials = _cluster_capacity(connection, resources)
                notes = (f"max_concurrent_trials=auto: {trials} trials at once on the Ray cluster",)
            else:
                trials = int(request.max_concurrent_trials)
            summary = str(trials)
        kind = DeviceKind.CUDA if resources.gpus else DeviceKind.CPU
        return Capacity(
            kind=self.kind,
            trials=trials,
            threads_per_trial=max(1, int(resources.cpus)),
            devices=Devices(kind),
            settings=resources,
            summary=summary,
            notes=notes,
        )

    def describe(self, capacity: Capacity, request: ExecutorRequest, data: str) -> list[str]:
        resources = capacity.settings
        gpu = (
            ""
            if "gpu" in (request.resources_per_trial or {}) or request.device == "cpu"
            else " (+ 1 GPU when the cluster has GPUs)"
        )
        concurrency = (
            "as many as the cluster's resources hold" if request.auto else str(capacity.trials)
        )
        if request.ray_address is None:
            data_line = DataTransport.SHARED_PATH.describe(data)
        else:
            data_line = (
                f"data: {data}: read in place if every node sees it, else sent once through "
                "Ray's object store (checked when the sweep starts)"
            )
        return [
            f"executor: ray at {_where(request.ray_address)}; {concurrency} trial(s) at once, "
            f"each {resources}{gpu} in a fresh Ray worker process",
            data_line,
        ]

    def executor(
        self,
        target: TrialTarget,
        capacity: Capacity,
        *,
        output_dir: Path,
        trial_timeout: float | None = None,
        connection: Any = None,
    ) -> Executor:
        if connection is None:
            raise ValueError("a Ray executor runs inside its cluster connection (connect first)")
        session: RaySession = connection
        notes = [
            f"Ray: {len(session.alive_nodes())} node(s) at {_where(session.address)}; "
            f"{capacity.trials} trial(s) at once, each {capacity.settings}"
        ]
        if isinstance(target, CarriesData):
            transport = data_transport(session, target.dataset, output_dir)
            notes[0] += "; " + transport.describe(target.dataset.images.origin)
            if transport is DataTransport.OBJECT_STORE and not target.dataset.images.in_memory:
                target = NodeCopy(target, session.ray.put(packed_files(target.dataset)))
        executor = RayExecutor(
            target,
            ray=session.ray,
            capacity=capacity.trials,
            output_dir=output_dir,
            resources=capacity.settings,
            trial_timeout=trial_timeout,
            threads=capacity.threads_per_trial,
        )
        executor.notes = tuple(notes)
        return executor
