"""Every search-space field changes training the way it says (end to end through ``train``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import timm
import torch
from helpers_training import (
    coloured_images,
    tiny_config,
    tiny_dataset,
    write_folder,
    write_multilabel_jsonl,
)

from automl_vision.data import CorruptImageWarning, load_dataset
from automl_vision.data.loader import available_cpus
from automl_vision.training import StopReason, load_checkpoint, train
from automl_vision.training import components as comp

NO_AUGMENT = {"crop_scale": (1.0, 1.0), "crop_ratio": (1.0, 1.0), "color_jitter": 0.0,
              "horizontal_flip": 0.0}  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return tiny_dataset()  # 3 classes x 10 images: 24 training, 6 validation


def spy(monkeypatch, name: str) -> list:
    """Record the results of ``components.<name>`` calls."""
    calls: list = []
    original = getattr(comp, name)

    def wrapper(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append(out)
        return out

    monkeypatch.setattr(comp, name, wrapper)
    return calls


def record_steps(monkeypatch) -> list[list[float]]:
    """Learning rates of every param group at each optimizer step."""
    lrs: list[list[float]] = []
    original = comp.make_optimizer

    def wrapper(*args, **kwargs):
        opt = original(*args, **kwargs)
        step = opt.step

        def recorded_step(*a, **k):
            lrs.append([g["lr"] for g in opt.param_groups])
            return step(*a, **k)

        opt.step = recorded_step
        return opt

    monkeypatch.setattr(comp, "make_optimizer", wrapper)
    return lrs


# -- optimizer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "cls", "expected"),
    [
        ({"optimizer": "sgd", "momentum": 0.7, "nesterov": False}, torch.optim.SGD,
         {"momentum": 0.7, "nesterov": False}),
        ({"optimizer": "adam", "beta1": 0.8, "beta2": 0.95, "ams_gradient": True},
         torch.optim.Adam, {"betas": (0.8, 0.95), "amsgrad": True}),
        ({"optimizer": "adamw", "beta1": 0.85, "beta2": 0.9}, torch.optim.AdamW,
         {"betas": (0.85, 0.9), "amsgrad": False}),
    ],
)  # fmt: skip
def test_optimizer_fields_reach_the_optimizer(monkeypatch, data, fields, cls, expected) -> None:
    optimizers = spy(monkeypatch, "make_optimizer")
    train(tiny_config(number_of_epochs=1, weight_decay=0.02, **fields), data)
    (opt,) = optimizers
    assert type(opt) is cls
    assert [g["weight_decay"] for g in opt.param_groups] == [0.02, 0.0]
    for group in opt.param_groups:
        for key, value in expected.items():
            assert group[key] == value


# -- schedule, accumulation, clipping -----------------------------------------------------------


def test_warmup_cosine_learning_rate_per_iteration(monkeypatch, data) -> None:
    lrs = record_steps(monkeypatch)
    config = tiny_config(
        number_of_epochs=3, learning_rate=0.1, warmup_cosine_lr_warmup_epochs=1,
        warmup_cosine_lr_cycles=0.45,
    )  # fmt: skip
    result = train(config, data)
    # 24 images / batch 8 = 3 steps per epoch; warm-up 3 steps, then 6 cosine steps
    expected = [0.1 * k / 3 for k in range(3)] + [
        0.1 * 0.5 * (1 + math.cos(math.pi * 0.45 * 2 * (k - 3) / 6)) for k in range(3, 9)
    ]
    assert [row[0] for row in lrs] == pytest.approx(expected)
    assert all(row[0] == row[1] for row in lrs)  # both parameter groups
    assert result.lr_history == pytest.approx(expected) and result.optimizer_steps == 9


def test_step_schedule_per_iteration(monkeypatch, data) -> None:
    lrs = record_steps(monkeypatch)
    config = tiny_config(
        number_of_epochs=3, learning_rate=0.08, learning_rate_scheduler="step",
        step_lr_step_size=2, step_lr_gamma=0.25,
    )  # fmt: skip
    train(config, data)
    assert [row[0] for row in lrs] == pytest.approx([0.08] * 6 + [0.02] * 3)


@pytest.mark.parametrize(("accumulation", "steps"), [(1, 6), (2, 4), (3, 2), (5, 2)])
def test_accumulation_changes_the_number_of_optimizer_steps(data, accumulation, steps) -> None:
    result = train(tiny_config(gradient_accumulation_step=accumulation), data)
    assert result.optimizer_steps == steps  # 3 batches per epoch, 2 epochs


def test_accumulated_small_batches_equal_one_large_batch(data) -> None:
    common = {
        "model_name": "test_vit", "training_crop_size": 16, "number_of_epochs": 1,
        "momentum": 0.0, "weight_decay": 0.0, "learning_rate": 0.05,
        "learning_rate_scheduler": "step", "step_lr_gamma": 1.0, **NO_AUGMENT,
    }  # fmt: skip
    small = train(tiny_config(training_batch_size=4, gradient_accumulation_step=2, **common), data)
    large = train(tiny_config(training_batch_size=8, **common), data)
    assert small.optimizer_steps == large.optimizer_steps == 3
    for name, value in large.checkpoint.state_dict.items():
        torch.testing.assert_close(small.checkpoint.state_dict[name], value, atol=1e-6, rtol=1e-5)


def test_gradient_clipping_bounds_the_gradient_norm(monkeypatch, data) -> None:
    seen: list[float] = []
    original = torch.nn.utils.clip_grad_norm_

    def clip(params, max_norm, *args, **kwargs):
        params = list(params)
        out = original(params, max_norm, *args, **kwargs)
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
        seen.append(float(norm) / max_norm)
        return out

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    result = train(tiny_config(gradient_clipping=0.01, learning_rate=0.5), data)
    assert len(seen) == result.optimizer_steps and max(seen) <= 1.0 + 1e-4


# -- frozen layers --------------------------------------------------------------------------------


def test_frozen_layers_get_no_gradient_and_are_not_optimized(monkeypatch, data) -> None:
    models = spy(monkeypatch, "build_model")
    optimizers = spy(monkeypatch, "make_optimizer")
    snapshot: dict = {}
    original = comp.freeze_stages

    def freeze(model, n):
        stages = original(model, n)
        snapshot.update({k: v.clone() for k, v in model.state_dict().items()})
        return stages

    monkeypatch.setattr(comp, "freeze_stages", freeze)
    result = train(tiny_config(layers_to_freeze=2, learning_rate=0.2), data)
    (model,), (opt,) = models, optimizers
    optimized = {id(p) for g in opt.param_groups for p in g["params"]}
    final = result.checkpoint.state_dict
    for name, param in model.named_parameters():
        frozen = name.startswith(("conv1.", "bn1.", "layer1."))
        assert (id(param) in optimized) != frozen, name
        assert param.requires_grad != frozen
        assert torch.equal(final[name], snapshot[name]) == frozen, name
    assert torch.equal(final["bn1.running_mean"], snapshot["bn1.running_mean"])
    with pytest.raises(ValueError, match="layers_to_freeze=6 but ResNet has 5 stages"):
        train(tiny_config(layers_to_freeze=6), data)


# -- weighted loss ----------------------------------------------------------------------------------


def test_weighted_loss_uses_the_class_weights_and_not_on_validation(monkeypatch) -> None:
    images, labels = coloured_images(12, size=16)
    keep = list(range(12)) + list(range(12, 18)) + list(range(24, 27))  # 12 red, 6 green, 3 blue
    ds = load_dataset((images[keep], [labels[i] for i in keep]), cache=False)
    counts = ds.class_counts().tolist()
    assert counts == [2, 5, 10]  # blue 3, green 6, red 12 images; 20% to validation
    losses = spy(monkeypatch, "make_loss")
    frozen_model = {"learning_rate": 0.0, "number_of_epochs": 1}
    plain = train(tiny_config(weighted_loss=0, **frozen_model), ds)
    sqrt = train(tiny_config(weighted_loss=1, **frozen_model), ds)
    full = train(tiny_config(weighted_loss=2, **frozen_model), ds)
    assert losses[0].weight is None
    torch.testing.assert_close(losses[1].weight, torch.tensor([1 / 2, 1 / 5, 1 / 10]) ** 0.5)
    torch.testing.assert_close(losses[2].weight, torch.tensor([1 / 2, 1 / 5, 1 / 10]))
    assert plain.final_metrics["train_loss"] != full.final_metrics["train_loss"]
    assert plain.final_metrics["log_loss"] == sqrt.final_metrics["log_loss"]
    assert plain.final_metrics["log_loss"] == full.final_metrics["log_loss"]


# -- evaluation, early stopping, report --------------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "frequency", "evaluated"), [(5, 2, [2, 4, 5]), (3, 1, [1, 2, 3]), (3, 7, [3])]
)
def test_evaluation_schedule(data, epochs, frequency, evaluated) -> None:
    steps: list[int] = []
    result = train(
        tiny_config(number_of_epochs=epochs, evaluation_frequency=frequency),
        data,
        report=lambda step, metrics: steps.append(step),
    )
    assert steps == evaluated == [e for e, _ in result.history]
    assert result.epochs_run == epochs and len(result.train_losses) == epochs


def test_early_stopping_fires_at_the_right_epoch(data) -> None:
    # learning rate 0 and no batch norm: every evaluation gives the same accuracy
    fields = {"model_name": "test_vit", "learning_rate": 0.0, "number_of_epochs": 8}
    on = train(
        tiny_config(
            early_stopping=True, early_stopping_delay=2, early_stopping_patience=2, **fields
        ),
        data,
    )
    # epoch 1 sets the best; epochs 2 and 3 (>= delay) do not beat it: counter 2 = patience
    assert on.epochs_run == 3 and on.stopped and on.stop_reason is StopReason.EARLY_STOPPING
    later = train(
        tiny_config(
            early_stopping=True, early_stopping_delay=5, early_stopping_patience=1, **fields
        ),
        data,
    )
    assert later.epochs_run == 5 and later.stop_reason is StopReason.EARLY_STOPPING
    off = train(tiny_config(early_stopping=False, **fields), data)
    assert off.epochs_run == 8 and not off.stopped and off.stop_reason is None


def test_report_true_stops_cleanly_and_keeps_the_best(data, tmp_path: Path) -> None:
    result = train(
        tiny_config(number_of_epochs=6, learning_rate=0.05),
        data,
        report=lambda step, metrics: step == 2,
        output_dir=tmp_path,
    )
    assert result.epochs_run == 2 and result.stop_reason is StopReason.REPORT
    saved = load_checkpoint(result.checkpoint_path)
    assert saved.epoch == result.best_epoch and saved.metrics == result.best_metrics
    assert (tmp_path / "metrics.jsonl").read_text().count("\n") == 2


def test_diverged_training_is_evaluated_and_stopped(monkeypatch, data) -> None:
    original = comp.make_loss

    class NanLoss(torch.nn.Module):
        def __init__(self, loss):
            super().__init__()
            self.loss = loss

        def forward(self, logits, targets):
            return self.loss(logits, targets) * float("nan")

    def nan_loss(*args, **kwargs):
        return NanLoss(original(*args, **kwargs))

    monkeypatch.setattr(comp, "make_loss", nan_loss)
    result = train(tiny_config(number_of_epochs=5, evaluation_frequency=3), data)
    assert result.epochs_run == 1 and result.stop_reason is StopReason.DIVERGED
    assert [e for e, _ in result.history] == [1]


# -- determinism, workers, sizes -------------------------------------------------------------------


def test_same_seed_same_result_bit_for_bit_with_or_without_workers(monkeypatch, data) -> None:
    loaders = spy(monkeypatch, "make_loader")
    a = train(tiny_config(random_seed=3, number_of_epochs=2), data)
    b = train(tiny_config(random_seed=3, number_of_epochs=2, number_of_workers=2), data)
    c = train(tiny_config(random_seed=4, number_of_epochs=2), data)
    w = min(2, available_cpus())
    assert [ld.num_workers for ld in loaders] == [0, 0, w, w, 0, 0]
    assert a.history == b.history and a.train_losses == b.train_losses
    for name, value in a.checkpoint.state_dict.items():
        assert torch.equal(value, b.checkpoint.state_dict[name]), name
    assert a.train_losses != c.train_losses
    assert train(tiny_config(random_seed=None, number_of_epochs=1), data).seed >= 0


def test_number_of_workers_is_capped_by_the_machine(monkeypatch, data) -> None:
    loaders = spy(monkeypatch, "make_loader")
    train(tiny_config(number_of_workers=64, number_of_epochs=1), data)
    assert loaders[0].num_workers == available_cpus()


def test_batch_and_crop_sizes_reach_the_model(monkeypatch, data) -> None:
    shapes: list[tuple[bool, tuple[int, ...]]] = []
    original = comp.build_model

    def build(*args, **kwargs):
        model = original(*args, **kwargs)
        model.register_forward_pre_hook(lambda m, inp: shapes.append((m.training, inp[0].shape)))
        return model

    monkeypatch.setattr(comp, "build_model", build)
    config = tiny_config(
        number_of_epochs=1, training_batch_size=10, validation_batch_size=4,
        training_crop_size=12, validation_resize_size=16, validation_crop_size=14,
    )  # fmt: skip
    train(config, data)
    assert [s for t, s in shapes if t] == [(10, 3, 12, 12), (10, 3, 12, 12), (4, 3, 12, 12)]
    assert [s for t, s in shapes if not t] == [(4, 3, 14, 14), (2, 3, 14, 14)]


def test_vit_gets_the_training_crop_size(monkeypatch, data) -> None:
    models = spy(monkeypatch, "build_model")
    train(tiny_config(model_name="test_vit", training_crop_size=32, validation_resize_size=32,
                      validation_crop_size=16, number_of_epochs=1), data)  # fmt: skip
    assert models[0].patch_embed.img_size == (32, 32)


def test_pretrained_from_a_local_checkpoint(monkeypatch, data, tmp_path: Path) -> None:
    source = timm.create_model("test_resnet")  # 1000 classes
    path = tmp_path / "weights.pth"
    torch.save(source.state_dict(), path)
    models = spy(monkeypatch, "build_model")
    loaded: dict = {}
    original = comp.freeze_stages

    def capture(model, n):
        loaded.update({k: v.clone() for k, v in model.state_dict().items()})
        return original(model, n)

    monkeypatch.setattr(comp, "freeze_stages", capture)
    result = train(tiny_config(pretrained=path, number_of_epochs=1), data)
    assert models[0].fc.out_features == 3
    assert torch.equal(loaded["conv1.0.weight"], source.state_dict()["conv1.0.weight"])
    # a checkpoint written by train() works as pretrained weights too
    again = train(tiny_config(pretrained=str(result.checkpoint.save(tmp_path / "best.safetensors")),
                              number_of_epochs=1), data)  # fmt: skip
    assert again.epochs_run == 1


# -- multilabel, data problems ---------------------------------------------------------------------


def test_multilabel_end_to_end(tmp_path: Path) -> None:
    ds = load_dataset(write_multilabel_jsonl(tmp_path, n=40), cache=False)
    result = train(tiny_config(number_of_epochs=3, weighted_loss=1, learning_rate=0.05), ds)
    assert result.task.value == "multilabel" and result.primary_metric == "iou"
    expected = {"iou", "map", "f1_micro", "f1_macro", "log_loss", "iou_tuned", "f1_micro_tuned",
                "f1_macro_tuned", "train_loss", "map_micro", "hamming_loss", "subset_accuracy",
                "label_ranking_ap", "coverage_error"}  # fmt: skip
    assert set(result.final_metrics) == expected
    unbounded = {"log_loss", "train_loss", "coverage_error"}
    assert all(0.0 <= result.final_metrics[k] <= 1.0 for k in expected - unbounded)
    assert 0.0 <= result.final_metrics["coverage_error"] <= 3  # at most every label
    thresholds = result.checkpoint.class_thresholds
    assert len(thresholds) == 3 and all(0 < t < 1 for t in thresholds)
    assert result.config.learning_rate == 0.05


def test_corrupt_image_is_skipped_with_a_warning(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=6)
    (root / "blue" / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken jpeg")
    ds = load_dataset(root, cache=False)
    with pytest.warns(CorruptImageWarning, match="zz_broken.jpg"):
        result = train(tiny_config(number_of_epochs=1), ds)
    assert result.epochs_run == 1


def test_data_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        train(tiny_config(), tmp_path / "missing")
    with pytest.raises(ValueError, match="a multiclass dataset needs at least 2 classes"):
        images, _ = coloured_images(3)
        train(tiny_config(), (images, ["a"] * len(images)))


def test_a_minimized_primary_metric_picks_the_lowest_epoch(data) -> None:
    result = train(
        tiny_config(number_of_epochs=4, primary_metric="log_loss", learning_rate=0.05), data
    )
    losses = [m["log_loss"] for _, m in result.history]
    assert result.goal.value == "minimize"
    assert result.best_value == min(losses) and result.best_epoch == 1 + losses.index(min(losses))
    assert result.checkpoint.epoch == result.best_epoch


def test_one_log_line_per_epoch(data, caplog) -> None:
    with caplog.at_level("INFO", logger="automl_vision.training"):
        train(tiny_config(number_of_epochs=3, evaluation_frequency=2), data)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "accuracy" in lines[1] and "accuracy" not in lines[0]
