"""Memory-aware placement of trials on GPUs: a pure decision, no torch.

Each trial has a predicted peak memory (bytes) for one training step; each GPU has a capacity.
``place`` puts a trial on the GPU with the most free memory that still holds its peak plus a
safety margin, or returns None when none does (the trial waits). ``auto_concurrency`` says how
many copies of the largest predicted peak fit on all GPUs together, which is what
``max_concurrent_trials="auto"`` means on CUDA; on CPU it is one trial per two cores (at least one).

``LedgerPlacer`` is the pool's placer (``pool.TrialPlacer``): it asks ``peak_of(params)`` for a
trial's predicted peak and places it with the ledger. While at most ``auto_concurrency`` trials
run, a trial always fits: some GPU holds fewer trials than the worst peak's count for it, so
its free memory is at least that worst peak.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GpuLedger:
    """Capacities of the GPUs and the predicted peaks of the trials placed on each."""

    capacities: Sequence[int]
    margin: float = 0.1  # fraction of each trial's predicted peak kept in reserve
    placed: dict[str, tuple[int, int]] = field(default_factory=dict)  # trial -> (gpu, bytes)

    def __post_init__(self) -> None:
        if not self.capacities or any(c <= 0 for c in self.capacities):
            raise ValueError(f"GPU capacities must be positive bytes, got {list(self.capacities)}")
        if not 0.0 <= self.margin < 1.0:
            raise ValueError(f"margin must be in [0, 1), got {self.margin}")

    def used(self, gpu: int) -> int:
        return sum(b for g, b in self.placed.values() if g == gpu)

    def free(self, gpu: int) -> int:
        return self.capacities[gpu] - self.used(gpu)

    def need(self, peak: int) -> int:
        return int(peak * (1.0 + self.margin))

    def place(self, trial: str, peak: int) -> int | None:
        """Reserve ``peak`` on a GPU for ``trial``; the GPU's index, or None if none has room."""
        if trial in self.placed:
            raise ValueError(f"trial {trial!r} is already placed")
        if peak <= 0:
            raise ValueError(f"predicted peak of {trial!r} must be positive, got {peak}")
        need = self.need(peak)
        fits = [g for g in range(len(self.capacities)) if self.free(g) >= need]
        if not fits:
            return None
        gpu = max(fits, key=lambda g: (self.free(g), -g))
        self.placed[trial] = (gpu, need)
        return gpu

    def release(self, trial: str) -> None:
        self.placed.pop(trial, None)


def auto_concurrency(
    peaks: Mapping[object, int], capacities: Sequence[int], margin: float = 0.1
) -> int:
    """How many trials of the largest predicted peak fit on the GPUs together (at least 1)."""
    ledger = GpuLedger(capacities, margin)
    if not peaks:
        return len(capacities)
    worst = max(peaks.values())
    n = 0
    while ledger.place(f"t{n}", worst) is not None:
        n += 1
    return max(1, n)


def cpu_concurrency(cores: int) -> int:
    """``max_concurrent_trials="auto"`` on CPU: one trial per two cores, at least one."""
    return max(1, cores // 2)


class NoRoomError(RuntimeError):
    """No GPU has room for a trial's predicted peak."""


@dataclass
class LedgerPlacer:
    """Places trials on GPUs by predicted peak (``slot`` = the GPU's index as a string)."""

    ledger: GpuLedger
    peak_of: Callable[[Mapping[str, Any]], int]

    def place(self, trial: Any) -> str:
        peak = self.peak_of(trial.params)
        gpu = self.ledger.place(trial.trial_id, peak)
        if gpu is None:
            gpus = range(len(self.ledger.capacities))
            free = ", ".join(f"{self.ledger.free(g) / 2**30:.1f}" for g in gpus)
            raise NoRoomError(
                f"trial {trial.trial_id}: no GPU has room for its predicted peak of "
                f"{peak / 2**30:.1f} GiB (free GiB per GPU: {free})"
            )
        return str(gpu)

    def release(self, trial_id: str) -> None:
        self.ledger.release(trial_id)
