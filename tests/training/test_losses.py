"""The asymmetric loss (ASL): BCE at its neutral settings, easy negatives down-weighted or
discarded, finite at large logits, refused for multiclass, and a multilabel run trained with it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers_training import tiny_config, tiny_dataset, write_multilabel_jsonl
from torch import nn

from automl_vision.data import Task, load_dataset
from automl_vision.space import LossFunction
from automl_vision.training import TrainingConfig, train
from automl_vision.training import components as comp
from automl_vision.training.losses import AsymmetricLoss, class_weights, make_loss

ML = Task.MULTILABEL


def _logits_and_targets(seed: int, dtype: torch.dtype = torch.float32):
    """Random logits with large magnitudes among them (|x| up to 80), and multi-hot targets."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(64, 6, generator=g, dtype=torch.float64) * 3
    logits[:4] = torch.tensor([-80.0, -50.0, -20.0, 20.0, 50.0, 80.0], dtype=torch.float64)
    logits[4:8] = -logits[:4]
    targets = (torch.rand(64, 6, generator=g) < 0.4).to(dtype)
    return logits.to(dtype), targets


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_neutral_asl_is_bce(dtype, weighted) -> None:
    logits, targets = _logits_and_targets(0, dtype)
    counts = targets.sum(0).numpy().astype(np.int64)
    pos = class_weights(counts, len(targets), ML, 2) if weighted else None
    bce = make_loss(ML, pos)(logits, targets)
    asl = make_loss(ML, pos, loss_function="asl", asl_gamma_neg=0, asl_gamma_pos=0, asl_clip=0)(
        logits, targets
    )
    assert isinstance(asl, torch.Tensor) and torch.isfinite(asl)
    assert asl.item() == pytest.approx(bce.item(), rel=1e-6, abs=1e-6)
    assert isinstance(make_loss(ML, pos), nn.BCEWithLogitsLoss)  # bce stays torch's loss


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _by_hand(x: float, y: int, gamma_neg: float, gamma_pos: float, clip: float) -> float:
    """One element's loss, from the definition (module docstring of losses.py)."""
    p = _sigmoid(x)
    if y == 1:
        return -((1 - p) ** gamma_pos) * math.log(p)
    p_m = max(p - clip, 0.0)
    return -(p_m**gamma_neg) * math.log(1 - p_m)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


# (probability, target, gamma_neg, gamma_pos, clip, the loss / BCE's loss at most, at least)
CASES = [
    # an easy negative (p = 0.1): gamma_neg = 4 scales it by p**4 = 1e-4
    (0.1, 0, 4, 0, 0.0, 1.1e-4, 0.9e-4),
    # and the clip shifts p to 0.05 as well: (0.05**4 * log 0.95) / log 0.9
    (0.1, 0, 4, 0, 0.05, 3.1e-6, 2.9e-6),
    # a hard negative (p = 0.9) keeps most of its loss: 0.9**4 = 0.66
    (0.9, 0, 4, 0, 0.0, 0.66, 0.65),
    # below the clip a negative counts exactly 0, whatever gamma_neg
    (0.03, 0, 4, 0, 0.05, 0.0, 0.0),
    (0.03, 0, 0, 0, 0.05, 0.0, 0.0),
    (0.05, 0, 0, 0, 0.05, 0.0, 0.0),
    # a positive is untouched with gamma_pos = 0, whatever the negatives' settings
    (0.9, 1, 4, 0, 0.05, 1.0, 1.0),
    (0.2, 1, 4, 0, 0.05, 1.0, 1.0),
    # gamma_pos = 1 scales an easy positive (p = 0.9) by 1 - p
    (0.9, 1, 4, 1, 0.05, 0.1 + 1e-9, 0.1 - 1e-9),
]


@pytest.mark.parametrize(("p", "y", "gamma_neg", "gamma_pos", "clip", "most", "least"), CASES)
def test_asl_down_weights_easy_negatives(p, y, gamma_neg, gamma_pos, clip, most, least) -> None:
    x = torch.tensor([[_logit(p)]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[float(y)]], dtype=torch.float64)
    loss = AsymmetricLoss(gamma_neg, gamma_pos, clip)(x, t)
    bce = nn.BCEWithLogitsLoss()(x.detach(), t).item()
    assert loss.item() == pytest.approx(_by_hand(x.item(), y, gamma_neg, gamma_pos, clip), 1e-9)
    assert least - 1e-12 <= loss.item() / bce <= most + 1e-12
    (grad,) = torch.autograd.grad(loss, x)
    if most == 0.0:  # discarded: no gradient either
        assert loss.item() == 0.0 and grad.item() == 0.0


def test_the_loss_averages_every_image_label_pair_and_weights_positives() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.3], [-0.5, 4.0, 1.5]], dtype=torch.float64)
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    pos = torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64)
    terms = [
        _by_hand(x, int(y), 4, 1, 0.05) * (float(pos[c]) if y else 1.0)
        for row_x, row_y in zip(logits.tolist(), targets.tolist(), strict=True)
        for c, (x, y) in enumerate(zip(row_x, row_y, strict=True))
    ]
    loss = AsymmetricLoss(4, 1, 0.05, pos_weight=pos)(logits, targets)
    assert loss.item() == pytest.approx(sum(terms) / 6, 1e-12)


@pytest.mark.parametrize("clip", [0.0, 0.05])
@pytest.mark.parametrize(("gamma_neg", "gamma_pos"), [(4, 0), (0.5, 0.5), (0, 0), (2, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_loss_and_gradients_stay_finite_at_large_logits(gamma_neg, gamma_pos, clip, dtype):
    x = torch.tensor([[50.0, -50.0, 50.0, -50.0, 0.0]], dtype=dtype, requires_grad=True)
    t = torch.tensor([[1.0, 1.0, 0.0, 0.0, 1.0]])
    loss = AsymmetricLoss(gamma_neg, gamma_pos, clip, pos_weight=torch.full((5,), 2.0))(x, t)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all(), (loss, grad)
    # the missed positive (weight 2) carries the loss: 2 * log(1 + e^50) = 100 of the 5 terms
    assert loss.item() > 2 * 50 / 5
    assert grad[0, 1] < 0 and grad[0, 2] > 0  # push the missed positive up, the negative down


def test_bad_asl_settings_name_the_field() -> None:
    for kwargs, field in [({"gamma_neg": -1}, "asl_gamma_neg"), ({"gamma_pos": math.nan},
                          "asl_gamma_pos"), ({"clip": 1.0}, "asl_clip")]:  # fmt: skip
        with pytest.raises(ValueError, match=field):
            AsymmetricLoss(**kwargs)
    with pytest.raises(ValueError, match="loss_function='focal' is not allowed"):
        make_loss(ML, loss_function="focal")


def test_the_asymmetric_loss_is_refused_for_multiclass(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="loss_function='asl' is for multilabel data only"):
        make_loss(Task.MULTICLASS, loss_function=LossFunction.ASL)
    assert isinstance(make_loss(Task.MULTICLASS, loss_function="bce"), nn.CrossEntropyLoss)
    with pytest.raises(ValueError, match="loss_function='asl' is for multilabel data only"):
        TrainingConfig(loss_function="asl", task="multiclass")
    config = TrainingConfig(loss_function="asl")  # the task is not known yet: fine
    with pytest.raises(ValueError, match="loss_function='asl' is for multilabel data only"):
        config.for_task("multiclass")
    assert config.for_task("multilabel").loss_function is LossFunction.ASL
    # train() learns the task from the data: refused before anything is decoded or trained
    with pytest.raises(ValueError, match="^loss_function='asl' is for multilabel data only"):
        train(tiny_config(loss_function="asl"), tiny_dataset(n_per_class=2))


def test_a_multilabel_run_trains_with_the_asymmetric_loss(tmp_path: Path, monkeypatch) -> None:
    built: list[nn.Module] = []
    original = comp.make_loss

    def spy(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(comp, "make_loss", spy)
    ds = load_dataset(write_multilabel_jsonl(tmp_path, n=12, size=32), cache=False)
    config = tiny_config(
        number_of_epochs=1, loss_function="asl", asl_gamma_neg=2.0, asl_clip=0.1,
        weighted_loss=1, training_batch_size=4, training_crop_size=32,
        validation_crop_size=32, validation_resize_size=32,
    )  # fmt: skip
    result = train(config, ds)
    (loss,) = built
    assert isinstance(loss, AsymmetricLoss) and loss.pos_weight is not None
    assert (loss.gamma_neg, loss.gamma_pos, loss.clip) == (2.0, 0.0, 0.1)
    assert result.epochs_run == 1 and math.isfinite(result.final_metrics["train_loss"])
    assert result.checkpoint.training_config().loss_function is LossFunction.ASL
