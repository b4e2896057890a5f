"""Models: timm ``create_model``, pretrained weights, and the stage lists of ``layers_to_freeze``.

Stage lists (``layers_to_freeze = N`` freezes the first N entries; the classifier is never in
the list, so it always trains):

=================  ===========================================================================
family             stages, in order
=================  ===========================================================================
ResNet-like        ``stem`` (conv1 + bn1), ``layer1``, ``layer2``, ``layer3``, ``layer4``
(timm ``ResNet``:  — 5 stages
resnet*, seresnext,
resnest, ...)
MobileNetV2        ``stem`` (conv_stem + bn1), each inverted-residual block in order
(mobilenetv2_*)    (``blocks.0.0`` ... ``blocks.6.0``: 17 for mobilenetv2_100), ``head_conv``
                   (conv_head + bn2) — the entries of torchvision's ``features``
ViT (timm          ``patch_embed`` (with cls_token, pos_embed and any register/distillation
``VisionTrans-     token), ``blocks.0`` ... ``blocks.{depth-1}``; the final norm and the head
former``)          are not in the list
any other timm     the model's ``group_matcher(coarse=True)`` groups in order (stem, then
model              stages or blocks), without the classifier's parameters
=================  ===========================================================================

A frozen stage's parameters get ``requires_grad = False`` (no gradient, not given to the
optimizer), and its batch-norm layers are kept in eval mode (running statistics frozen too).
"""

from __future__ import annotations

import logging
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import timm
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from timm.models import group_parameters
from timm.models.efficientnet import EfficientNet
from timm.models.resnet import ResNet
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from automl_vision.weights import PretrainedMode, find_weights, parse_pretrained

__all__ = [
    "Stage",
    "build_model",
    "freeze_stages",
    "load_weights",
    "model_kwargs",
    "model_stages",
    "set_frozen_norms_eval",
]

log = logging.getLogger("automl_vision.training")


@dataclass(frozen=True)
class Stage:
    name: str
    parameters: tuple[str, ...]


def model_kwargs(timm_name: str, training_crop_size: int, validation_crop_size: int) -> dict:
    """Extra ``create_model`` arguments: a fixed-input-size model (ViT) gets ``img_size``."""
    cfg = timm.models.get_pretrained_cfg(timm_name)
    if cfg is None or not getattr(cfg, "fixed_input_size", False):
        return {}
    kwargs: dict[str, Any] = {"img_size": training_crop_size}
    if validation_crop_size != training_crop_size:
        kwargs["dynamic_img_size"] = True
    return kwargs


def build_model(
    timm_name: str,
    num_classes: int,
    *,
    pretrained: PretrainedMode | Path | bool = PretrainedMode.OFF,
    kwargs: dict | None = None,
    model_name: str | None = None,
) -> nn.Module:
    """``timm.create_model`` with ``num_classes``, from ImageNet weights as ``pretrained`` says.

    Weights found on this machine (``weights.find_weights``) go through timm's own loader
    (``pretrained=True`` with ``pretrained_cfg_overlay={"file": ...}``), which replaces the
    classifier when the class count differs; a checkpoint file given as ``pretrained`` is
    loaded by ``load_weights``.
    """
    kwargs = dict(kwargs or {})
    mode = parse_pretrained(pretrained)
    weights: Path | None = None
    if isinstance(mode, Path) and mode.is_dir():
        lookup = find_weights(model_name or timm_name, mode)
        if not lookup.found:
            raise lookup.missing_error()
        weights = lookup.path
    elif mode in (PretrainedMode.AUTO, PretrainedMode.REQUIRED):
        lookup = find_weights(model_name or timm_name)
        if lookup.found:
            weights = lookup.path
        elif mode is PretrainedMode.REQUIRED:
            raise lookup.missing_error()
        else:
            log.info("no pretrained weights for %s on this machine: random init", timm_name)
    try:
        if weights is not None:
            log.info("fine-tuning %s from %s", timm_name, weights)
            model = timm.create_model(
                timm_name,
                pretrained=True,
                pretrained_cfg_overlay={"file": str(weights)},
                num_classes=num_classes,
                **kwargs,
            )
        else:
            model = timm.create_model(timm_name, num_classes=num_classes, **kwargs)
    except TypeError as err:
        raise ValueError(f"model {timm_name!r} does not accept {sorted(kwargs)}: {err}") from err
    except (OSError, RuntimeError) as err:
        if weights is not None:
            raise ValueError(
                f"cannot load pretrained weights {weights} into {timm_name!r}: {err}"
            ) from err
        raise
    if isinstance(mode, Path) and mode.is_file():
        load_weights(model, mode)
    return model


def _state_dict_of(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model", "state_dict_ema", "model_ema"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            return obj[key]
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    raise ValueError(f"{path}: no model state dict found in the checkpoint")


def _read_weights(path: Path) -> Any:
    """The tensors of a weights file, read so that nothing in it can run code: safetensors
    directly (a ``best.safetensors`` of this project too), a pickle (``.pth``/``.pt``/``.bin``)
    through torch's weights-only unpickler, which admits tensors and plain containers only."""
    try:
        with path.open("rb") as f:
            head = f.read(9)
        if len(head) == 9 and head[8:9] == b"{":  # safetensors: a length, then a JSON header
            return load_file(str(path), device="cpu")
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"{path}: not a plain weights file: it holds Python objects beyond tensors, and "
            f"loading those could run code ({str(err).splitlines()[0][:160]})"
        ) from None
    except (SafetensorError, RuntimeError, EOFError) as err:
        raise ValueError(f"{path}: cannot read the weights ({str(err).splitlines()[0]})") from None


def load_weights(model: nn.Module, path: Path) -> None:
    """Load a local checkpoint into ``model``, leaving out tensors whose shapes differ.

    The model family's timm ``checkpoint_filter_fn`` adapts the checkpoint first when there is
    one (e.g. resampling a ViT's position embedding to another image size); a classifier
    trained for another number of classes is left at its fresh initialization.
    """
    state = _state_dict_of(_read_weights(path), path)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    adapt = getattr(sys.modules.get(type(model).__module__), "checkpoint_filter_fn", None)
    if adapt is not None:
        try:
            state = adapt(state, model)
        except (KeyError, RuntimeError, ValueError) as err:
            log.debug("checkpoint filter of %s not applied: %s", type(model).__name__, err)
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ValueError(f"{path}: no tensor of the checkpoint fits model {type(model).__name__}")
    missing = sorted(set(own) - set(usable))
    model.load_state_dict(usable, strict=False)
    log.info("loaded %d tensors from %s; %d left as initialized", len(usable), path, len(missing))


# -- stages ---------------------------------------------------------------------------------
def _prefixed(names: Sequence[str], *prefixes: str) -> tuple[str, ...]:
    return tuple(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


def _classifier_names(model: nn.Module) -> set[str]:
    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    if not isinstance(head, nn.Module):
        return set()
    ids = {id(p) for p in head.parameters()}
    return {n for n, p in model.named_parameters() if id(p) in ids}


def model_stages(model: nn.Module) -> list[Stage]:
    """The model's stage list for ``layers_to_freeze`` (see the module docstring)."""
    names = [n for n, _ in model.named_parameters()]
    arch = str(getattr(model, "pretrained_cfg", {}).get("architecture", ""))
    if isinstance(model, ResNet):
        stages = [Stage("stem", _prefixed(names, "conv1", "bn1"))]
        stages += [Stage(f"layer{i}", _prefixed(names, f"layer{i}")) for i in range(1, 5)]
    elif isinstance(model, EfficientNet) and arch.startswith("mobilenetv2"):
        stages = [Stage("stem", _prefixed(names, "conv_stem", "bn1"))]
        for i, stage in enumerate(model.blocks):
            stages += [
                Stage(f"blocks.{i}.{j}", _prefixed(names, f"blocks.{i}.{j}"))
                for j in range(len(stage))
            ]
        stages.append(Stage("head_conv", _prefixed(names, "conv_head", "bn2")))
    elif isinstance(model, VisionTransformer):
        embed = ("patch_embed", "cls_token", "pos_embed", "reg_token", "dist_token")
        stages = [Stage("patch_embed", _prefixed(names, *embed))]
        stages += [
            Stage(f"blocks.{i}", _prefixed(names, f"blocks.{i}")) for i in range(len(model.blocks))
        ]
    else:
        stages = _matcher_stages(model)
    return [s for s in stages if s.parameters]


def _matcher_stages(model: nn.Module) -> list[Stage]:
    if not hasattr(model, "group_matcher"):
        raise ValueError(
            f"{type(model).__name__} has no stage list (no group_matcher): layers_to_freeze "
            "must be 0 for it"
        )
    head = _classifier_names(model)
    groups = group_parameters(model, model.group_matcher(coarse=True))
    stages = []
    for gid, members in groups.items():
        kept = tuple(n for n in members if n not in head)
        if kept:
            stages.append(Stage(f"group{gid}", kept))
    return stages


def freeze_stages(model: nn.Module, n: int) -> list[Stage]:
    """Freeze the first ``n`` stages; return them. ``n`` above the stage count is an error."""
    if n == 0:
        return []
    stages = model_stages(model)
    if n > len(stages):
        raise ValueError(
            f"layers_to_freeze={n} but {type(model).__name__} has {len(stages)} stages "
            f"({', '.join(s.name for s in stages)}); layers_to_freeze must be at most "
            f"{len(stages)}"
        )
    frozen = stages[:n]
    params = dict(model.named_parameters())
    for stage in frozen:
        for name in stage.parameters:
            params[name].requires_grad_(False)
    return frozen


def set_frozen_norms_eval(model: nn.Module) -> None:
    """Put batch-norm layers whose parameters are all frozen in eval mode (after ``train()``)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            own = list(module.parameters(recurse=False))
            if own and not any(p.requires_grad for p in own):
                module.eval()
