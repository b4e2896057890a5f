"""The machine a sweep's local executors use: its devices, its CPUs and, for packing trials
onto GPUs, the predicted memory of each trial. Plain data; the planner measures it
(``planning/machine.py``), the backends size their executors from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from automl_vision.enums import ChoiceEnum

__all__ = ["DeviceKind", "Devices", "GpuMemory", "Machine"]


class DeviceKind(ChoiceEnum):
    """Where the trials of a planned sweep run."""

    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class Devices:
    """The devices a sweep's trials use: the CPU, or ``gpus`` GPUs (slots split them)."""

    kind: DeviceKind
    gpus: int = 0

    @property
    def cuda(self) -> bool:
        return self.kind is DeviceKind.CUDA

    def __str__(self) -> str:  # the text of describe() and of the store's settings
        if not self.cuda:
            return self.kind.value
        return f"cuda ({self.gpus} GPU{'s' if self.gpus > 1 else ''})"

    def slots(self, concurrency: int) -> list[str]:
        """One ``CUDA_VISIBLE_DEVICES`` value per concurrent trial: the GPUs split evenly among
        the trials, or shared by them ("" for each trial on the CPU)."""
        if not self.cuda:
            return [""] * concurrency
        if self.gpus >= concurrency:
            per = self.gpus // concurrency
            return [
                ",".join(str(g) for g in range(i * per, (i + 1) * per)) for i in range(concurrency)
            ]
        return [str(i % self.gpus) for i in range(concurrency)]


@dataclass(frozen=True)
class GpuMemory:
    """What packing trials onto GPUs needs: each GPU's capacity (bytes), the predicted step
    peak of every shape the search space can produce, and a trial's predicted peak from its
    params."""

    capacities: Sequence[int]
    predicted: Mapping[object, int]
    peak_of: Callable[[Mapping[str, object]], int]


@dataclass(frozen=True)
class Machine:
    """This machine as a sweep's local executors see it."""

    devices: Devices
    cpus: int
    #: measures (probes, or reads from the sweep's cache) the trials' GPU memory; None when
    #: it cannot be measured (no GPU, or the caller does not pack)
    gpu_memory: Callable[[], GpuMemory] | None = None
