"""What every executor kind provides besides its ``Executor``: its ``ExecutorBackend``.

A backend checks the options of its kind, says where its trials run (``connect``: a cluster
for Ray, nothing for the local kinds), resolves how many trials run at once and with what
(``capacity``: ``"auto"`` concurrency, GPU slots, packing by predicted memory, threads per
trial), describes that for a dry run, and builds the ``Executor`` that runs a trial target.
``registry.py`` maps each ``ExecutorKind`` to its backend; nothing else branches on the kind.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from automl_vision.enums import ChoiceEnum
from automl_vision.executors.base import Executor, TrialTarget
from automl_vision.executors.machine import Devices, Machine

__all__ = [
    "Capacity",
    "ExecutorBackend",
    "ExecutorKind",
    "ExecutorRequest",
    "Purpose",
    "local_capacity",
    "local_description",
]


class ExecutorKind(ChoiceEnum):
    """What runs a sweep's trials: ``auto`` (in the sweep's process for one trial at a time,
    else the process pool), ``inline`` (in the sweep's process; an objective's trials in threads
    when several run at once), ``process`` (the local process pool) or ``ray`` (a Ray cluster)."""

    AUTO = "auto"
    INLINE = "inline"
    PROCESS = "process"
    RAY = "ray"


class Purpose(ChoiceEnum):
    """What the trials are: the built-in trainer's (``tune``) or a Python objective's
    (``optimize``)."""

    TRAINING = "training"
    OBJECTIVE = "objective"


@dataclass(frozen=True)
class ExecutorRequest:
    """The options that choose and size a sweep's executor, as the user gave them (their one
    definition, defaults and checks: ``config/options.py``, which builds this)."""

    kind: ExecutorKind
    max_concurrent_trials: int | str  # or "auto"
    threads_per_trial: int | None
    recycle_workers_after: int | str | None
    ray_address: str | None
    resources_per_trial: Mapping[str, float] | None
    #: "auto", "cpu" or "cuda" (``config.options.DeviceChoice``)
    device: str
    #: the sweep's trial count: never more trials at once than it
    max_trials: int | None

    @property
    def auto(self) -> bool:
        """``max_concurrent_trials="auto"``."""
        return self.max_concurrent_trials == "auto"


@dataclass(frozen=True)
class Capacity:
    """How a sweep's trials run, resolved: the executor kind, how many at once, on what."""

    kind: ExecutorKind
    trials: int
    threads_per_trial: int
    #: what each trial trains on (its ``kind``), and the GPUs the local slots split
    devices: Devices
    #: one ``CUDA_VISIBLE_DEVICES`` value per worker (local kinds)
    slots: tuple[str, ...] = ()
    recycle_after: int | None = None
    #: chooses each trial's GPU from its predicted memory (``packing.LedgerPlacer``)
    placer: Any = None
    #: ``max_concurrent_trials="auto"`` was packed on the GPUs by predicted memory
    packed: bool = False
    #: the kind's own settings (Ray: each trial's ``TrialResources``)
    settings: Any = None
    #: how the concurrency reads in a dry run (``"3"``, ``"auto (...)"``)
    summary: str = ""
    #: the choices made for the user, and why (the sweep announces them)
    notes: tuple[str, ...] = ()

    @property
    def shares_gpus(self) -> bool:
        """Packed: more trials at once than GPUs."""
        return self.packed and self.trials > len(set(self.slots))


class ExecutorBackend(abc.ABC):
    """One executor kind: its checks, its connection, its capacity, its executor."""

    kind: ClassVar[ExecutorKind]
    #: the request's options that only this kind uses (every other kind refuses them)
    own_options: ClassVar[tuple[str, ...]] = ()
    #: what it can run
    purposes: ClassVar[frozenset[Purpose]] = frozenset(Purpose)
    #: whether its capacity and its executor need ``connect``'s connection (a cluster)
    connects: ClassVar[bool] = False

    def available(self) -> None:  # noqa: B027 - optional hook
        """Raise a ``ValueError`` saying what to install when this kind cannot run here."""

    def check(self, request: ExecutorRequest, purpose: Purpose) -> None:  # noqa: B027
        """Raise a ``ValueError`` naming the option when ``request`` makes no sense for this
        kind (the options of other kinds are refused by ``registry.check_request``)."""

    def connect(self, request: ExecutorRequest) -> contextlib.AbstractContextManager[Any]:
        """Where the trials run, for the length of a sweep (a cluster); the local kinds need
        nothing (None)."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def capacity(
        self,
        request: ExecutorRequest,
        purpose: Purpose,
        machine: Machine,
        connection: Any = None,
    ) -> Capacity:
        """How many trials run at once and with what (``connection`` None: not connected, a
        dry run: what depends on the cluster is said, not counted)."""

    def describe(self, capacity: Capacity, request: ExecutorRequest, data: str) -> list[str]:
        """The dry run's lines about where the trials run (``data``: where the images are);
        a local kind's line by default."""
        return local_description(capacity)

    @abc.abstractmethod
    def executor(
        self,
        target: TrialTarget,
        capacity: Capacity,
        *,
        output_dir: Path,
        trial_timeout: float | None = None,
        connection: Any = None,
    ) -> Executor:
        """The executor that runs ``target`` for each trial, as ``capacity`` says."""


def local_capacity(
    kind: ExecutorKind, trials: int, request: ExecutorRequest, machine: Machine, **more: Any
) -> Capacity:
    """The capacity of ``trials`` at once on this machine: the GPUs split among (or shared by)
    them, the CPUs shared (unless ``threads_per_trial`` says), workers recycled after
    ``recycle_workers_after`` trials (``"auto"``: one process per trial on CUDA, kept on CPU)."""
    devices = machine.devices
    recycle = request.recycle_workers_after
    if recycle == "auto":
        recycle = 1 if devices.cuda else None
    more.setdefault("slots", tuple(devices.slots(trials)))
    more.setdefault("summary", str(trials))
    return Capacity(
        kind=kind,
        trials=trials,
        threads_per_trial=request.threads_per_trial or max(1, machine.cpus // trials),
        devices=devices,
        recycle_after=None if recycle is None else int(recycle),
        **more,
    )


def slots_text(slots: tuple[str, ...]) -> str:
    return ", ".join(s if s else "cpu" for s in slots)


def local_description(capacity: Capacity) -> list[str]:
    """The dry-run line of a local executor."""
    return [
        f"executor: {capacity.kind.value}; devices: {capacity.devices}; trial slots: "
        f"{slots_text(capacity.slots)}; {capacity.threads_per_trial} CPU thread(s) per trial"
    ]
