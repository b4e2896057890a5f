"""The ``process`` kind's backend: trials in worker processes of this machine
(``pool.ProcessPoolExecutor``), one device slot each.

``max_concurrent_trials="auto"``: on CUDA, as many trials as fit on the GPUs together by the
largest predicted step peak of the shapes the search space can produce (at most ``max_trials``
and the CPUs: each trial is a process that feeds its GPU), each placed on a GPU with room for
its own peak (``packing.LedgerPlacer``); on CPU, one trial per two CPUs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl_vision.executors.backend import (
    Capacity,
    ExecutorBackend,
    ExecutorKind,
    ExecutorRequest,
    Purpose,
    local_capacity,
)
from automl_vision.executors.base import Executor, TrialTarget
from automl_vision.executors.machine import Machine
from automl_vision.executors.packing import (
    GpuLedger,
    LedgerPlacer,
    auto_concurrency,
    cpu_concurrency,
)
from automl_vision.executors.pool import ProcessPoolExecutor

__all__ = ["ProcessBackend"]


class ProcessBackend(ExecutorBackend):
    """``process``: the local process pool (see the module docstring)."""

    kind = ExecutorKind.PROCESS
    #: a worker process receives its target by pickling: a training job, not any Python
    #: function (``optimize`` runs objectives inline, in threads, or on Ray)
    purposes = frozenset({Purpose.TRAINING})

    def capacity(
        self,
        request: ExecutorRequest,
        purpose: Purpose,
        machine: Machine,
        connection: Any = None,
    ) -> Capacity:
        if not request.auto:
            return local_capacity(self.kind, int(request.max_concurrent_trials), request, machine)
        if machine.devices.cuda and machine.gpu_memory is not None:
            return self._packed(request, machine)
        if machine.devices.cuda:
            trials = machine.devices.gpus
            note = f"max_concurrent_trials=auto: {trials} (one trial per GPU)"
        else:
            trials = cpu_concurrency(machine.cpus)
            note = f"max_concurrent_trials=auto: {trials} (one trial per two CPUs)"
        return local_capacity(self.kind, trials, request, machine, notes=(note,))

    def _packed(self, request: ExecutorRequest, machine: Machine) -> Capacity:
        assert machine.gpu_memory is not None
        memory = machine.gpu_memory()
        capacities = list(memory.capacities)
        fits = auto_concurrency(memory.predicted, capacities)
        count = max(1, min(fits, request.max_trials or fits, machine.cpus))
        worst = max(memory.predicted.values(), default=0)
        note = (
            f"max_concurrent_trials=auto: {count} trials on {len(capacities)} GPU(s) "
            f"({fits} fit by the largest predicted peak, {worst / 2**30:.1f} GiB of "
            f"{len(memory.predicted)} probed shape(s); at most max_trials and the CPUs)"
        )
        return local_capacity(
            self.kind,
            count,
            request,
            machine,
            slots=tuple(str(i % len(capacities)) for i in range(count)),
            placer=LedgerPlacer(GpuLedger(capacities), memory.peak_of),
            packed=True,
            summary=f"auto (trials packed on the GPUs by predicted memory: {count} at once)",
            notes=(note,),
        )

    def executor(
        self,
        target: TrialTarget,
        capacity: Capacity,
        *,
        output_dir: Path,
        trial_timeout: float | None = None,
        connection: Any = None,
    ) -> Executor:
        return ProcessPoolExecutor(
            target,
            slots=capacity.slots,
            output_dir=output_dir,
            trial_timeout=trial_timeout,
            threads_per_worker=capacity.threads_per_trial,
            recycle_after=capacity.recycle_after,
            placer=capacity.placer,
        )
