"""Optimizers: sgd (momentum, nesterov), adam and adamw (beta1, beta2, ams_gradient).

Only trainable parameters are given to the optimizer (frozen ones are left out). Parameters are
split into two groups: weight decay applies to weights of dimension >= 2 (convolution and linear
kernels); biases, normalization weights and other 1-d parameters, and those the model lists in
``no_weight_decay()`` (e.g. a ViT's position embedding and class token) get none. Nesterov
momentum needs a non-zero momentum: with ``momentum == 0`` plain SGD runs, which is what
Nesterov reduces to there.

On CUDA the optimizers use torch's fused kernels (``fused=True``: one kernel for the whole
update instead of one per parameter) when torch has them for that optimizer; elsewhere, or if
torch refuses (parameters it cannot fuse), the default implementation runs.
"""

from __future__ import annotations

import inspect
import logging

import torch
from torch import nn

from automl_vision.enums import ChoiceEnum

__all__ = ["OptimizerKind", "can_fuse", "make_optimizer", "parameter_groups"]

log = logging.getLogger("automl_vision.training")


class OptimizerKind(ChoiceEnum):
    SGD = "sgd"
    ADAM = "adam"
    ADAMW = "adamw"


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """[{params with decay, weight_decay}, {params without, weight_decay: 0}] (empty dropped)."""
    skip = set(model.no_weight_decay()) if hasattr(model, "no_weight_decay") else set()
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name in skip:
            no_decay.append(param)
        else:
            decay.append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def can_fuse(cls: type[torch.optim.Optimizer], device: torch.device | None) -> bool:
    """Whether ``cls`` is asked for its fused implementation on ``device`` (CUDA only, and
    only when this torch's ``cls`` takes ``fused``)."""
    if device is None or torch.device(device).type != "cuda":
        return False
    return "fused" in inspect.signature(cls.__init__).parameters


def make_optimizer(
    kind: OptimizerKind | str,
    model: nn.Module,
    *,
    learning_rate: float,
    weight_decay: float,
    momentum: float = 0.9,
    nesterov: bool = True,
    beta1: float = 0.9,
    beta2: float = 0.999,
    ams_gradient: bool = False,
    device: torch.device | None = None,
) -> torch.optim.Optimizer:
    """The optimizer ``kind`` over ``model``'s trainable parameters (on ``device``: fused
    kernels on CUDA, see the module docstring)."""
    kind = OptimizerKind(kind)
    groups = parameter_groups(model, weight_decay)
    if not groups:
        raise ValueError("the model has no trainable parameter left (all layers frozen?)")
    cls: type[torch.optim.Optimizer]
    if kind is OptimizerKind.SGD:
        cls = torch.optim.SGD
        args = {"lr": learning_rate, "momentum": momentum, "nesterov": nesterov and momentum > 0}
    else:
        cls = torch.optim.Adam if kind is OptimizerKind.ADAM else torch.optim.AdamW
        args = {"lr": learning_rate, "betas": (beta1, beta2), "amsgrad": ams_gradient}
    if can_fuse(cls, device):
        try:
            return cls(groups, **args, fused=True)
        except (RuntimeError, ValueError) as err:  # e.g. a parameter type torch cannot fuse
            log.info("fused %s not available (%s); using the default one", cls.__name__, err)
            groups = parameter_groups(model, weight_decay)  # the failed attempt filled them in
    return cls(groups, **args)
