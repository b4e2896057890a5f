"""Checks run once at planning time, before the first trial: errors that every trial would hit.

- unreadable images (``ImageDataset.check_images``): none readable, or a class with no readable
  training image, is an error; some unreadable ones are a warning;
- ``layers_to_freeze`` above the number of stages of a model the space can pick (the model is
  built on PyTorch's ``meta`` device: no memory, no weights);
- a crop/resize size whose decoded images (``N × S × S × 3`` bytes, decoded once and memory-mapped)
  would not fit in the machine's memory.

Each problem is one ``ValueError`` naming the search space's index and the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from automl_vision.space import Distribution, ParameterSpace
from automl_vision.space.defaults import azure_defaults

__all__ = ["check_plan", "field_values", "memory_bytes"]


def field_values(space: ParameterSpace, name: str) -> list[Any]:
    """The extreme (or every, for a choice) values ``name`` can take in ``space``."""
    spec = space.parameters.get(name, azure_defaults().get(name))
    if isinstance(spec, Distribution):
        support = spec.support
        return list(support.options) if support.options else [support.low, support.high]
    return [spec]


def memory_bytes() -> int | None:
    """The machine's physical memory in bytes, None where it is unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


def _check_freeze(space: ParameterSpace, index: int, num_classes: int) -> None:
    values = field_values(space, "layers_to_freeze")
    most = max((int(v) for v in values if v is not None), default=0)
    if most <= 0:
        return
    import torch

    from automl_vision.space.models import timm_model_name
    from automl_vision.training.models import build_model, model_stages

    for model_name in field_values(space, "model_name"):
        timm_name = timm_model_name(str(model_name))
        with torch.device("meta"):
            model = build_model(timm_name, num_classes)
        try:
            stages = model_stages(model)
        except ValueError as err:
            raise ValueError(f"search_space[{index}].layers_to_freeze: {err}") from None
        if most > len(stages):
            raise ValueError(
                f"search_space[{index}].layers_to_freeze can be {most}, but {model_name!r} has "
                f"only {len(stages)} stages ({', '.join(s.name for s in stages)}); "
                f"layers_to_freeze must be at most {len(stages)} for it"
            )


def _check_memory(space: ParameterSpace, index: int, images: int, available: int | None) -> None:
    if available is None:
        return
    for name in ("training_crop_size", "validation_resize_size"):
        sizes: Iterable[Any] = field_values(space, name)
        size = max(int(s) for s in sizes if s is not None)
        needed = images * size * size * 3
        if needed > available:
            raise ValueError(
                f"search_space[{index}].{name} can be {size}: {images} images decoded at "
                f"{size}x{size} need {needed / 2**30:.1f} GiB, more than this machine's "
                f"{available / 2**30:.1f} GiB of memory; lower {name}"
            )


def check_plan(
    dataset: Any, spaces: list[ParameterSpace], *, available_memory: int | None = None
) -> None:
    """Raise the first problem every trial would hit (see the module docstring)."""
    dataset.check_images()
    available = memory_bytes() if available_memory is None else available_memory
    for index, space in enumerate(spaces):
        _check_freeze(space, index, dataset.num_classes)
        _check_memory(space, index, len(dataset.images), available)
