"""The trainer's speed options: augmentation ahead, image placement, fused optimizers, compile.

Each option must leave a seeded CPU run's result unchanged (bit for bit) or, for compile,
train the same model; none of these tests times anything (speed lives in benchmarks/)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from helpers_training import tiny_config, tiny_dataset

from automl_vision.data.loader import BatchOrder
from automl_vision.data.placement import ImagePlacement, MemoryBatches, resolve_placement
from automl_vision.training import TrainingConfig, train
from automl_vision.training.ahead import ahead
from automl_vision.training.loop import EpochRunner
from automl_vision.training.optim import can_fuse, make_optimizer


def _same_run(a, b) -> None:
    assert a.train_losses == b.train_losses
    assert a.history == b.history
    for key, value in a.checkpoint.state_dict.items():
        assert torch.equal(value, b.checkpoint.state_dict[key]), key


def test_ahead_yields_in_order_and_in_another_thread() -> None:
    names: list[str] = []

    def prepare(x: int) -> int:
        names.append(threading.current_thread().name)
        return x * x

    assert list(ahead(range(7), prepare, threads=1)) == [x * x for x in range(7)]
    assert set(names) == {"automl-vision-augment"}


def test_ahead_raises_the_threads_error_and_stops_early_cleanly() -> None:
    def bad(x: int) -> int:
        if x == 3:
            raise ValueError("batch 3 is bad")
        return x

    with pytest.raises(ValueError, match="batch 3"):
        list(ahead(range(10), bad, threads=1))
    it = ahead(range(1000), lambda x: x, threads=1)
    assert next(it) == 0
    it.close()  # the thread is told to stop and joined
    assert not any(t.name == "automl-vision-augment" for t in threading.enumerate())


def test_augmenting_ahead_gives_the_same_run_bit_for_bit(monkeypatch) -> None:
    import automl_vision.training.loop as loop

    monkeypatch.setattr(loop, "available_cpus", lambda: 4)  # a CPU is free: ahead is used
    data = tiny_dataset()
    used: list[bool] = []
    original = EpochRunner.train_epoch

    def spy(self, epoch, *rest):
        used.append(self.augment_ahead)
        return original(self, epoch, *rest)

    monkeypatch.setattr(EpochRunner, "train_epoch", spy)
    inline = train(tiny_config(augment_ahead=False, color_jitter=0.4), data, device="cpu")
    threaded = train(tiny_config(augment_ahead=True, color_jitter=0.4), data, device="cpu")
    assert used == [False, False, True, True]
    _same_run(inline, threaded)


def test_no_background_thread_when_no_cpu_is_free(monkeypatch) -> None:
    import automl_vision.training.loop as loop

    monkeypatch.setattr(loop, "available_cpus", lambda: 1)
    data = tiny_dataset()
    seen: list[bool] = []
    original = EpochRunner.train_epoch
    monkeypatch.setattr(
        EpochRunner,
        "train_epoch",
        lambda self, e, *rest: (seen.append(self.augment_ahead), original(self, e, *rest))[1],
    )
    train(tiny_config(number_of_epochs=1), data, device="cpu")
    assert seen == [False]


@pytest.mark.parametrize("placement", ["device", "pinned"])
def test_images_in_memory_give_the_loaders_run_bit_for_bit(placement: str) -> None:
    data = tiny_dataset()
    loader = train(tiny_config(image_placement="loader"), data, device="cpu")
    memory = train(tiny_config(image_placement=placement), data, device="cpu")
    _same_run(loader, memory)


def test_memory_batches_equal_the_loaders_batches() -> None:
    from automl_vision.data.loader import make_loader

    split = tiny_dataset().decode(16)[0]
    order = BatchOrder(len(split), 5, shuffle=True, seed=3)
    order.set_epoch(2)
    ours = list(MemoryBatches(split, order, torch.device("cpu"), on_device=True))
    theirs = list(make_loader(split, order, workers=0))
    assert len(ours) == len(theirs) == len(order)
    for (a, ta), (b, tb) in zip(ours, theirs, strict=True):
        assert torch.equal(a, b) and torch.equal(ta, tb)


def test_auto_placement_rule() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda", 0)
    auto = ImagePlacement.AUTO
    assert resolve_placement(auto, cpu, 10**9, None) is ImagePlacement.LOADER
    assert resolve_placement(auto, gpu, 10**9, 4 * 10**9) is ImagePlacement.DEVICE
    assert resolve_placement(auto, gpu, 10**9 + 1, 4 * 10**9) is ImagePlacement.PINNED
    assert resolve_placement(ImagePlacement.PINNED, gpu, 1, 10**12) is ImagePlacement.PINNED


def test_bad_speed_options_name_the_field() -> None:
    with pytest.raises(ValueError, match="image_placement='gpu' is not one of auto, loader"):
        TrainingConfig(model_name="test_resnet", image_placement="gpu")
    with pytest.raises(ValueError, match="compile"):
        TrainingConfig(model_name="test_resnet", compile="sometimes")
    with pytest.raises(ValueError, match="augment_ahead"):
        TrainingConfig(model_name="test_resnet", augment_ahead=[1])


@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_optimizers_are_fused_on_cuda_only(kind: str) -> None:
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    assert can_fuse(cls, torch.device("cuda", 0))  # this torch has fused kernels for all three
    assert not can_fuse(cls, torch.device("cpu")) and not can_fuse(cls, None)
    model = torch.nn.Linear(3, 2)
    opt = make_optimizer(
        kind, model, learning_rate=0.1, weight_decay=0.0, device=torch.device("cpu")
    )
    assert not any(g.get("fused") for g in opt.param_groups)


def test_a_refused_fused_optimizer_falls_back_to_the_default(monkeypatch) -> None:
    import automl_vision.training.optim as optim

    class Refusing(torch.optim.AdamW):
        def __init__(self, params, **kwargs):
            if kwargs.get("fused"):
                raise RuntimeError("fused=True is not supported for these parameters")
            super().__init__(params, **kwargs)

    monkeypatch.setattr(optim, "can_fuse", lambda cls, device: True)
    monkeypatch.setattr(torch.optim, "AdamW", Refusing)
    model = torch.nn.Linear(3, 2)
    opt = make_optimizer("adamw", model, learning_rate=0.1, weight_decay=0.0)
    assert not any(g.get("fused") for g in opt.param_groups)
    x = torch.randn(4, 3)
    model(x).sum().backward()
    opt.step()  # a working, unfused optimizer


@pytest.mark.slow
def test_compiled_training_on_cpu_reports_compile_time_and_plain_weights() -> None:
    data = tiny_dataset()
    result = train(tiny_config(compile=True, number_of_epochs=1), data, device="cpu")
    assert result.timings["compile"] > 0
    assert result.timings["train"] > 0
    keys = list(result.checkpoint.state_dict)
    assert keys and not any(k.startswith("_orig_mod") for k in keys)
    assert np.isfinite(result.train_losses[0])


def test_uncompiled_run_reports_zero_compile_time() -> None:
    result = train(tiny_config(number_of_epochs=1), tiny_dataset(), device="cpu")
    assert result.timings["compile"] == 0.0
    assert np.isnan(result.timings["peak_memory_bytes"])  # CPU: not measured


def test_an_error_in_training_stops_the_augmentation_thread(monkeypatch) -> None:
    import automl_vision.training.loop as loop

    monkeypatch.setattr(loop, "available_cpus", lambda: 4)
    calls = {"n": 0}
    original = torch.nn.CrossEntropyLoss.forward

    def failing(self, logits, targets):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("step 2 failed")
        return original(self, logits, targets)

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", failing)
    with pytest.raises(RuntimeError, match="step 2 failed"):
        train(tiny_config(augment_ahead=True), tiny_dataset(), device="cpu")
    assert not any(t.name == "automl-vision-augment" for t in threading.enumerate())
