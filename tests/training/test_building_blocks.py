"""Trainer building blocks against hand computations: schedules, optimizer groups, class
weights and losses, metrics (vs scikit-learn), thresholds, early stopping, stage maps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import timm
import torch
from sklearn import metrics as skm

from automl_vision.data import Task
from automl_vision.training import EarlyStopping, metric_spec
from automl_vision.training.losses import class_weights, make_loss
from automl_vision.training.metrics import (
    METRICS,
    PRIMARY_METRIC,
    classification_metrics,
    tune_thresholds,
)
from automl_vision.training.model_factory import freeze_stages, model_stages, set_frozen_norms_eval
from automl_vision.training.optim import make_optimizer, parameter_groups
from automl_vision.training.schedule import make_schedule
from automl_vision.trial import PrimaryMetricGoal

# -- schedules --------------------------------------------------------------------------------


def test_warmup_cosine_factors_by_hand() -> None:
    s = make_schedule(
        "warmup_cosine", steps_per_epoch=4, epochs=5, warmup_epochs=2, cycles=0.45
    )  # warm-up 8 steps, then 12 steps of cosine
    assert [s.factor(k) for k in range(8)] == [k / 8 for k in range(8)]
    assert s.factor(8) == 1.0
    for k in range(8, 20):
        progress = (k - 8) / 12
        assert s.factor(k) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.45 * 2 * progress)))
    assert s.factor(14) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.45)))  # 0.5785...
    no_warmup = make_schedule("warmup_cosine", steps_per_epoch=3, epochs=2, cycles=0.5)
    assert no_warmup.factor(0) == 1.0 and no_warmup.factor(3) == pytest.approx(0.5)


def test_step_schedule_multiplies_by_gamma_every_step_size_epochs() -> None:
    s = make_schedule("step", steps_per_epoch=3, epochs=6, step_size=2, gamma=0.5)
    assert [s.factor(k) for k in range(15)] == [1.0] * 6 + [0.5] * 6 + [0.25] * 3


# -- optimizer ----------------------------------------------------------------------------------


def test_weight_decay_skips_biases_and_norm_weights() -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    decay, no_decay = parameter_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(p.ndim >= 2 for p in decay["params"])
    skipped = {names[id(p)] for p in no_decay["params"]}
    assert "bn1.weight" in skipped and "fc.bias" in skipped and "fc.weight" not in skipped
    vit = timm.create_model("test_vit", num_classes=3, img_size=32)
    _, vit_no_decay = parameter_groups(vit, 0.1)
    assert any(p is vit.pos_embed for p in vit_no_decay["params"])


@pytest.mark.parametrize(
    ("kind", "cls", "expected"),
    [
        ("sgd", torch.optim.SGD, {"momentum": 0.8, "nesterov": True}),
        ("adam", torch.optim.Adam, {"betas": (0.7, 0.95), "amsgrad": True}),
        ("adamw", torch.optim.AdamW, {"betas": (0.7, 0.95), "amsgrad": True}),
    ],
)
def test_optimizer_kind_and_its_fields(kind: str, cls: type, expected: dict) -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    opt = make_optimizer(
        kind, model, learning_rate=0.1, weight_decay=0.01, momentum=0.8, nesterov=True,
        beta1=0.7, beta2=0.95, ams_gradient=True,
    )  # fmt: skip
    assert type(opt) is cls
    for group in opt.param_groups:
        assert group["lr"] == 0.1
        for key, value in expected.items():
            assert group[key] == value


def test_nesterov_needs_momentum() -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    opt = make_optimizer("sgd", model, learning_rate=0.1, weight_decay=0, momentum=0.0)
    assert opt.param_groups[0]["nesterov"] is False


# -- weights and losses -------------------------------------------------------------------------


def test_class_weights_by_hand() -> None:
    counts = np.array([8, 4, 2, 0])
    assert class_weights(counts, 14, Task.MULTICLASS, 0) is None
    np.testing.assert_allclose(
        class_weights(counts, 14, Task.MULTICLASS, 2), [1 / 8, 1 / 4, 1 / 2, 1]
    )
    np.testing.assert_allclose(
        class_weights(counts, 14, Task.MULTICLASS, 1), [1 / 8**0.5, 1 / 2, 1 / 2**0.5, 1]
    )
    ml = np.array([5, 2, 10, 0])
    np.testing.assert_allclose(class_weights(ml, 10, Task.MULTILABEL, 2), [1, 4, 0, 1])
    np.testing.assert_allclose(class_weights(ml, 10, Task.MULTILABEL, 1), [1, 2, 0, 1])


def test_weighted_cross_entropy_equals_the_hand_computation() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    targets = torch.tensor([0, 1, 2, 1])
    w = class_weights(np.array([6, 3, 1]), 10, Task.MULTICLASS, 2)  # 1/6, 1/3, 1
    nll = [-math.log(math.exp(r[t]) / sum(math.exp(v) for v in r)) for r, t in
           zip(logits.tolist(), targets.tolist(), strict=True)]  # fmt: skip
    by_hand = sum(w[t] * v for t, v in zip(targets.tolist(), nll, strict=True)) / sum(
        w[t] for t in targets.tolist()
    )
    assert make_loss(Task.MULTICLASS, w)(logits, targets).item() == pytest.approx(by_hand, 1e-6)
    plain = make_loss(Task.MULTICLASS, None)(logits, targets).item()
    assert plain == pytest.approx(sum(nll) / 4, 1e-6) and plain != pytest.approx(by_hand)


def test_weighted_bce_equals_the_hand_computation() -> None:
    logits = torch.tensor([[1.0, -2.0], [0.0, 3.0], [-1.0, 0.5]])
    targets = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    pos = class_weights(np.array([2, 2]), 3, Task.MULTILABEL, 2)  # (3-2)/2 = 0.5 each
    sig = torch.sigmoid(logits)
    terms = -(pos[None, :] * targets.numpy() * np.log(sig.numpy())
              + (1 - targets.numpy()) * np.log(1 - sig.numpy()))  # fmt: skip
    loss = make_loss(Task.MULTILABEL, pos)(logits, targets).item()
    assert loss == pytest.approx(terms.mean(), 1e-6)


# -- metrics ------------------------------------------------------------------------------------


def test_metric_registry_names_goals_and_primary_defaults() -> None:
    assert PRIMARY_METRIC == {Task.MULTICLASS: "accuracy", Task.MULTILABEL: "iou"}
    assert METRICS["log_loss"].goal is PrimaryMetricGoal.MINIMIZE
    assert METRICS["accuracy"].goal is PrimaryMetricGoal.MAXIMIZE
    assert metric_spec("map", Task.MULTILABEL).name == "map"
    with pytest.raises(ValueError, match="choose one of"):
        metric_spec("auc")


def test_multiclass_metrics_match_scikit_learn() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(60, 7, generator=g)
    targets = torch.randint(0, 7, (60,), generator=g)
    m = classification_metrics(logits, targets, Task.MULTICLASS)
    pred, y = logits.argmax(1).numpy(), targets.numpy()
    probs = torch.softmax(logits, 1).numpy()
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["accuracy_top5"] == pytest.approx(
        skm.top_k_accuracy_score(y, probs, k=5, labels=range(7))
    )
    assert m["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-6)
    assert m["precision_macro"] == pytest.approx(
        skm.precision_score(y, pred, average="macro", zero_division=0), abs=1e-6
    )
    assert m["recall_macro"] == pytest.approx(skm.recall_score(y, pred, average="macro"), abs=1e-6)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, probs, labels=range(7)), abs=1e-5)
    two = classification_metrics(logits[:, :2], targets % 2, Task.MULTICLASS)
    assert two["accuracy_top5"] == 1.0  # top-k capped at the number of classes


def test_multilabel_metrics_match_scikit_learn() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(80, 5, generator=g) * 2
    targets = (torch.rand(80, 5, generator=g) < 0.4).float()
    targets[:, 0] = 1  # every image has a label
    m = classification_metrics(logits, targets, Task.MULTILABEL)
    probs = torch.sigmoid(logits).numpy()
    pred, y = (probs >= 0.5).astype(int), targets.numpy().astype(int)
    assert m["iou"] == pytest.approx(skm.jaccard_score(y, pred, average="samples"), abs=1e-6)
    assert m["f1_micro"] == pytest.approx(skm.f1_score(y, pred, average="micro"), abs=1e-6)
    assert m["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"), abs=1e-6)
    assert m["map"] == pytest.approx(
        skm.average_precision_score(y, probs, average="macro"), abs=1e-5
    )
    bce = -(y * np.log(probs) + (1 - y) * np.log(1 - probs)).mean()
    assert m["log_loss"] == pytest.approx(bce, abs=1e-5)


def test_tuned_thresholds_maximize_each_class_f1() -> None:
    g = torch.Generator().manual_seed(2)
    targets = (torch.rand(100, 4, generator=g) < 0.3).float()
    logits = targets * 1.5 + torch.randn(100, 4, generator=g) - 0.5
    thresholds = tune_thresholds(logits, targets)
    probs = torch.sigmoid(logits).numpy()
    y = targets.numpy().astype(int)
    for k in range(4):
        best = max(skm.f1_score(y[:, k], probs[:, k] >= t) for t in np.unique(probs[:, k]))
        got = skm.f1_score(y[:, k], probs[:, k] >= thresholds[k].item())
        assert got == pytest.approx(best)
    m = classification_metrics(logits, targets, Task.MULTILABEL, class_thresholds=thresholds)
    assert m["f1_macro_tuned"] >= m["f1_macro"] and {"iou_tuned", "f1_micro_tuned"} <= set(m)
    no_positive = tune_thresholds(logits, torch.zeros_like(targets))
    assert torch.equal(no_positive, torch.full((4,), 0.5))


# -- early stopping ----------------------------------------------------------------------------

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


@pytest.mark.parametrize(
    ("goal", "delay", "patience", "values", "stop_epoch"),
    [
        (MAX, 0, 2, [0.5, 0.6, 0.6, 0.55, 0.7], 4),  # epochs 3, 4 do not beat 0.6
        (MAX, 0, 2, [0.5, 0.6, 0.6, 0.7, 0.65, 0.7], 6),  # epoch 4 resets the counter
        (MAX, 4, 1, [0.5, 0.4, 0.3, 0.6, 0.6], 5),  # epochs 1-3 do not count (delay)
        (MAX, 3, 1, [0.5, 0.4, 0.3, 0.2], 3),  # epoch 3 counts: stops there
        (MIN, 0, 2, [1.0, 0.8, 0.9, 0.85], 4),
        (MIN, 2, 3, [1.0, 1.1, 1.2, 1.3, 0.9], 4),
        (MAX, 2, 1, [math.nan, 0.5, 0.5], 3),  # NaN never improves
        (MAX, 0, 1, [math.nan], 1),
        (MAX, 0, 3, [0.1, 0.2, 0.3, 0.4], None),
    ],
)
def test_early_stopping_table(goal, delay, patience, values, stop_epoch) -> None:
    stopper = EarlyStopping(delay, patience, goal)
    fired = [e for e, v in enumerate(values, start=1) if stopper.update(e, v)]
    assert (fired[0] if fired else None) == stop_epoch


# -- stage maps ---------------------------------------------------------------------------------


def test_resnet_stage_map() -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    stages = model_stages(model)
    assert [s.name for s in stages] == ["stem", "layer1", "layer2", "layer3", "layer4"]
    assert all(n.startswith(("conv1.", "bn1.")) for n in stages[0].parameters)


def test_vit_stage_map() -> None:
    model = timm.create_model("test_vit", num_classes=3, img_size=32)
    stages = model_stages(model)
    assert [s.name for s in stages] == ["patch_embed"] + [f"blocks.{i}" for i in range(6)]
    assert {"cls_token", "pos_embed", "patch_embed.proj.weight"} <= set(stages[0].parameters)


def test_mobilenetv2_stage_map_matches_torchvision_features() -> None:
    model = timm.create_model("mobilenetv2_100", num_classes=3)
    names = [s.name for s in model_stages(model)]
    assert len(names) == 19 and names[0] == "stem" and names[-1] == "head_conv"
    assert names[1:3] == ["blocks.0.0", "blocks.1.0"] and names[-2] == "blocks.6.0"


def test_other_models_use_group_matcher_stages_without_the_classifier() -> None:
    model = timm.create_model("test_efficientnet", num_classes=3)
    stages = model_stages(model)
    assert stages[0].parameters[0].startswith("conv_stem")
    assert not any(n.startswith("classifier") for s in stages for n in s.parameters)
    assert len(stages) == 6


def test_freezing_stops_gradients_and_batch_norm_statistics() -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    frozen = freeze_stages(model, 2)
    names = {n for s in frozen for n in s.parameters}
    model.train()
    set_frozen_norms_eval(model)
    before = model.bn1.running_mean.clone()
    model(torch.randn(4, 3, 16, 16)).sum().backward()
    for name, p in model.named_parameters():
        assert (p.grad is None) == (name in names), name
    assert torch.equal(model.bn1.running_mean, before) and not model.bn1.training
    assert model.layer2[0].bn1.training


def test_too_many_frozen_layers_is_a_clear_error() -> None:
    model = timm.create_model("test_resnet", num_classes=3)
    with pytest.raises(ValueError, match=r"layers_to_freeze=6 but ResNet has 5 stages \(stem"):
        freeze_stages(model, 6)
