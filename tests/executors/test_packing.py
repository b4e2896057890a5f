import random

import pytest

from automl_vision.executors.packing import GpuLedger, auto_concurrency, cpu_concurrency

GB = 1 << 30


def fake_peak(model: str, crop: int, batch: int) -> int:
    """A fake memory model: parameters plus activations growing with crop^2 * batch."""
    base = {"small": 1 * GB, "large": 6 * GB}[model]
    return base + (crop * crop * batch) * 64


@pytest.mark.parametrize(
    "capacities",
    [[16 * GB], [16 * GB, 16 * GB], [24 * GB, 80 * GB, 141 * GB], [10 * GB, 10 * GB, 10 * GB]],
)
def test_random_schedule_never_oversubscribes(capacities):
    rng = random.Random(0)
    ledger = GpuLedger(capacities)
    running: list[str] = []
    for i in range(500):
        if running and rng.random() < 0.4:
            ledger.release(running.pop(rng.randrange(len(running))))
        peak = fake_peak(
            rng.choice(["small", "large"]), rng.choice([32, 64, 224]), rng.choice([8, 64, 256])
        )
        if ledger.place(f"t{i}", peak) is not None:
            running.append(f"t{i}")
        for g, cap in enumerate(capacities):
            assert ledger.used(g) <= cap


def test_tight_case_waits_then_places_after_release():
    ledger = GpuLedger([10 * GB], margin=0.0)
    assert ledger.place("a", 6 * GB) == 0
    assert ledger.place("b", 6 * GB) is None  # would oversubscribe: waits
    ledger.release("a")
    assert ledger.place("b", 6 * GB) == 0


def test_roomy_case_packs_many_and_spreads_over_gpus():
    ledger = GpuLedger([141 * GB, 141 * GB], margin=0.1)
    gpus = [ledger.place(f"t{i}", 8 * GB) for i in range(8)]
    assert None not in gpus
    assert gpus.count(0) == gpus.count(1) == 4  # most-free first spreads the load
    assert auto_concurrency({"x": 8 * GB}, [141 * GB], margin=0.1) == 16


def test_auto_concurrency_tight_and_cpu():
    assert auto_concurrency({"x": 20 * GB}, [16 * GB]) == 1  # never below one
    assert auto_concurrency({"x": 4 * GB, "y": 7 * GB}, [16 * GB, 16 * GB], margin=0.0) == 4
    assert cpu_concurrency(1) == 1 and cpu_concurrency(2) == 1 and cpu_concurrency(16) == 8


@pytest.mark.parametrize(
    "kwargs", [{"capacities": []}, {"capacities": [0]}, {"capacities": [1], "margin": 1.0}]
)
def test_bad_ledger_config(kwargs):
    with pytest.raises(ValueError):
        GpuLedger(**kwargs)


def test_bad_place():
    ledger = GpuLedger([GB])
    with pytest.raises(ValueError, match="positive"):
        ledger.place("a", 0)
    ledger.place("a", 1)
    with pytest.raises(ValueError, match="already placed"):
        ledger.place("a", 1)
