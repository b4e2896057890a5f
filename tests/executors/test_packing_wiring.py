"""Memory-aware packing wired in: the probe's cache, max_concurrent_trials="auto", the pool's
placer on several fake GPUs (a fake memory model), and recycled workers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers_sweep import tiny_space
from pool_targets import which_process

from automl_vision import choice, quniform, uniform
from automl_vision.executors.packing import GpuLedger, LedgerPlacer, auto_concurrency
from automl_vision.executors.pool import ProcessPoolExecutor
from automl_vision.planning.machine import LocalMachine
from automl_vision.planning.memory import CONTEXT_BYTES, PROBE_FILE, Shape, space_shapes, step_peaks
from automl_vision.planning.plan import plan_sweep
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.space.base import ParameterSpace
from automl_vision.trial import TrialStatus

GB = 1 << 30


def fake_peak(shape: Shape) -> int:
    """Parameters by model plus activations growing with crop^2 * batch."""
    base = {"test_resnet": 1 * GB, "resnet18": 3 * GB}[shape.model]
    return base + shape.crop * shape.crop * shape.batch * 8192


class CountingProbe:
    def __init__(self) -> None:
        self.calls: list[list[Shape]] = []

    def __call__(self, shapes):
        self.calls.append(list(shapes))
        return {s: fake_peak(s) for s in shapes}


def test_space_shapes_enumerate_choices_small_ranges_and_bound_the_rest() -> None:
    space = ParameterSpace(
        {
            "model_name": choice("test_resnet", "resnet18"),
            "training_crop_size": choice(16, 32),
            "training_batch_size": quniform(8, 24, 8),
        }
    )
    shapes = space_shapes([space])
    assert len(shapes) == 2 * 2 * 3 and Shape("resnet18", 32, 24) in shapes
    wide = ParameterSpace({"model_name": "test_resnet", "training_batch_size": uniform(8, 300)})
    (only,) = space_shapes([wide])
    assert only.batch == 300 and only.crop == 224  # the largest value; Azure's default crop


def test_probe_results_are_cached_by_shape_and_identity(tmp_path) -> None:
    probe = CountingProbe()
    shapes = {Shape("test_resnet", 16, 8), Shape("resnet18", 32, 16)}
    ident = {"torch": "2.x", "gpu": "fake"}
    first = step_peaks(shapes, tmp_path, identity=ident, probe=probe)
    assert first == {s: fake_peak(s) for s in shapes} and len(probe.calls) == 1
    again = step_peaks(shapes, tmp_path, identity=ident, probe=probe)
    assert again == first and len(probe.calls) == 1  # all cached: no probe
    more = shapes | {Shape("test_resnet", 32, 8)}
    step_peaks(more, tmp_path, identity=ident, probe=probe)
    assert probe.calls[-1] == [Shape("test_resnet", 32, 8)]  # only the new shape
    step_peaks(shapes, tmp_path, identity={**ident, "gpu": "other"}, probe=probe)
    assert len(probe.calls[-1]) == 2  # another device: probed again
    saved = json.loads((tmp_path / PROBE_FILE).read_text())
    assert {e["shape"] for e in saved["entries"]} >= {"resnet18|32|16", "test_resnet|16|8"}


def _tiny_data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8), [i % 3 for i in range(24)]


def test_auto_concurrency_on_fake_gpus_packs_by_the_worst_shape(tmp_path) -> None:
    probe, gpu_memory = CountingProbe(), [16 * GB, 24 * GB]
    # "CUDA" with two fake GPUs, their memory and a fake step-memory probe
    machine = LocalMachine(gpus=2, cpus=8, gpu_capacities=gpu_memory, step_probe=probe)
    space = tiny_space(
        model_name=choice("test_resnet", "resnet18"), training_batch_size=choice(8, 64)
    )
    plan = plan_sweep(
        _tiny_data(),
        search_space=space,
        device="cuda",
        max_concurrent_trials="auto",
        output_dir=tmp_path / "sweep",
        machine=machine,
    )
    assert plan.packing and plan.recycle_workers_after == 1  # CUDA: a process per trial
    assert "auto (trials packed" in plan.describe()
    worst = fake_peak(Shape("resnet18", 16, 64)) + CONTEXT_BYTES
    expected = min(auto_concurrency({"w": worst}, gpu_memory), plan.max_trials, 8)
    assert plan.max_concurrent_trials == expected > 2 and plan.shares_gpus
    assert sorted(set(plan.slots)) == ["0", "1"]
    assert len(probe.calls[0]) == 4  # 2 models x 1 crop x 2 batches
    assert (tmp_path / "sweep" / PROBE_FILE).is_file()
    assert plan.placer.peak_of({"model_name": "resnet18", "training_batch_size": 64,
                                "training_crop_size": 16}) == worst  # fmt: skip


def test_auto_on_cpu_is_one_trial_per_two_cpus(tmp_path) -> None:
    plan = plan_sweep(
        _tiny_data(), search_space=tiny_space(), device="cpu", max_concurrent_trials="auto",
        output_dir=tmp_path / "s", machine=LocalMachine(gpus=0, cpus=8),
    )  # fmt: skip
    assert plan.max_concurrent_trials == 4 and plan.slots == [""] * 4 and not plan.packing
    assert plan.recycle_workers_after is None  # CPU: workers are kept


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"max_concurrent_trials": "many"},
            "max_concurrent_trials must be an integer >= 1 or 'auto'",
        ),
        ({"max_concurrent_trials": 0}, "max_concurrent_trials must be an integer >= 1 or 'auto'"),
        ({"recycle_workers_after": 0}, "recycle_workers_after must be an integer >= 1 or 'auto'"),
    ],
)
def test_bad_packing_arguments_name_the_field(tmp_path, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        plan_sweep(_tiny_data(), search_space=tiny_space(), device="cpu",
                   output_dir=tmp_path / "s", **kwargs)  # fmt: skip


class CheckingPlacer(LedgerPlacer):
    """The ledger placer, asserting after every placement that no GPU is oversubscribed."""

    def place(self, trial):
        slot = super().place(trial)
        for g, capacity in enumerate(self.ledger.capacities):
            assert self.ledger.used(g) <= capacity
        self.history.append((trial.trial_id, slot, trial.params["model"]))
        return slot


@pytest.mark.slow
def test_the_pool_places_trials_on_fake_gpus_without_oversubscribing(tmp_path) -> None:
    peaks = {"small": 3 * GB, "large": 7 * GB}
    capacities = [10 * GB, 10 * GB, 16 * GB]
    placer = CheckingPlacer(GpuLedger(capacities, margin=0.1), lambda p: peaks[p["model"]])
    placer.history = []
    count = auto_concurrency({"large": peaks["large"]}, capacities)  # 1 + 1 + 2 = 4
    assert count == 4
    models = ["large", "small", "large", "small", "large", "small", "small"]
    configs = [{"x": i, "model": m, "sleep": 0.3} for i, m in enumerate(models)]
    executor = ProcessPoolExecutor(
        which_process,
        slots=[str(i % 3) for i in range(count)],
        output_dir=tmp_path,
        placer=placer,
        recycle_after=1,
    )
    try:
        outcome = Scheduler(
            FixedConfigurations(configs), executor, max_trials=len(configs),
            primary_metric="accuracy",
        ).run()  # fmt: skip
    finally:
        executor.close()
    assert all(t.status is TrialStatus.COMPLETED for t in outcome.trials)
    chosen = {tid: slot for tid, slot, _ in placer.history}
    for t in outcome.trials:  # each trial ran on the GPU the placer chose for it
        assert t.artifacts["devices"] == chosen[t.trial_id]
    assert not placer.ledger.placed  # every trial's room was released


def _run(tmp_path, recycle_after):
    configs = [{"x": i} for i in range(4)]
    executor = ProcessPoolExecutor(
        which_process, slots=[""], output_dir=tmp_path, recycle_after=recycle_after
    )
    try:
        outcome = Scheduler(
            FixedConfigurations(configs), executor, max_trials=4, primary_metric="accuracy"
        ).run()
    finally:
        executor.close()
    ordered = sorted(outcome.trials, key=lambda t: t.index)
    return [t.value for t in ordered], [t.artifacts["pid"] for t in ordered]


@pytest.mark.slow
def test_recycled_workers_are_new_processes_and_results_are_unchanged(tmp_path) -> None:
    kept_values, kept_pids = _run(tmp_path / "kept", None)
    fresh_values, fresh_pids = _run(tmp_path / "fresh", 1)
    pair_values, pair_pids = _run(tmp_path / "pairs", 2)
    assert len(set(kept_pids)) == 1  # one long-lived worker
    assert len(set(fresh_pids)) == 4  # a new process for every trial
    assert pair_pids[0] == pair_pids[1] != pair_pids[2] == pair_pids[3]
    assert kept_values == fresh_values == pair_values


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1"])
def test_bad_recycle_value_is_a_clear_error(tmp_path, bad) -> None:
    with pytest.raises(ValueError, match="recycle_workers_after must be a whole number >= 1"):
        ProcessPoolExecutor(which_process, slots=[""], output_dir=tmp_path, recycle_after=bad)


def test_yaml_and_cli_take_auto_and_name_the_field_on_bad_input(tmp_path) -> None:

    from automl_vision.cli import build_parser
    from automl_vision.config.job import Limits

    assert Limits(max_concurrent_trials="auto").max_concurrent_trials == "auto"
    assert Limits(recycle_workers_after=3).recycle_workers_after == 3
    with pytest.raises(ValueError, match="limits.max_concurrent_trials must be an integer >= 1"):
        Limits(max_concurrent_trials="lots")
    with pytest.raises(ValueError, match="limits.recycle_workers_after must be an integer >= 1"):
        Limits(recycle_workers_after=0)
    args = build_parser().parse_args(
        ["tune", "--data", "d", "--max-concurrent-trials", "auto", "--recycle-workers-after", "2"]
    )
    assert args.max_concurrent_trials == "auto" and args.recycle_workers_after == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["tune", "--data", "d", "--max-concurrent-trials", "0"])
