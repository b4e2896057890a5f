"""What planning asks of this machine: its GPUs, its CPUs, and the GPU memory the trials of a
sweep would take. ``LocalMachine.detect()`` asks the machine; tests build one with fake GPUs (a
count, their capacities and a step-memory probe)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.config.options import DeviceChoice
from automl_vision.executors.machine import DeviceKind, Devices, GpuMemory, Machine
from automl_vision.planning import memory
from automl_vision.system import available_cpus

__all__ = ["LocalMachine"]


def _cuda_gpus() -> int:
    import torch  # lazy: torch only once a plan asks how many GPUs there are

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class LocalMachine:
    """This machine, as planning sees it: ``gpus`` GPUs (their memory, ``gpu_capacities``,
    read from the GPUs when None) and ``cpus`` CPUs; ``step_probe`` measures the step peak of
    model shapes (the real probe, in a subprocess, when None)."""

    gpus: int
    cpus: int
    gpu_capacities: Sequence[int] | None = None
    step_probe: memory.Probe | None = None

    @classmethod
    def detect(cls) -> LocalMachine:
        return cls(gpus=_cuda_gpus(), cpus=available_cpus())

    def devices(self, choice: DeviceChoice) -> Devices:
        """The devices for the trials: ``auto`` is every GPU when there is one, else the CPU."""
        if choice is DeviceChoice.CPU or (choice is DeviceChoice.AUTO and not self.gpus):
            return Devices(DeviceKind.CPU)
        if not self.gpus:
            raise ValueError(f"device={choice.value!r}: CUDA is not available on this machine")
        return Devices(DeviceKind.CUDA, self.gpus)

    def for_sweep(
        self,
        devices: Devices,
        *,
        parameter_spaces: Sequence[Any],
        num_classes: int,
        options: Mapping[str, Any],
        sweep_dir: Path,
        write: bool,
    ) -> Machine:
        """The machine a sweep's executor is sized on: the chosen devices, the CPUs, and (on
        CUDA) how to measure its trials' GPU memory (probed once, when packing asks; cached in
        ``sweep_dir`` unless ``write`` is False)."""

        def measure() -> GpuMemory:
            return memory.gpu_memory(
                parameter_spaces, num_classes, options, sweep_dir,
                probe=self.step_probe, capacities=self.gpu_capacities, write=write,
            )  # fmt: skip

        return Machine(devices, self.cpus, measure if devices.cuda else None)
