"""Checks run once at planning time, before the first trial: errors that every trial would hit.

- unreadable images (``ImageDataset.check_images``): none readable, or a class with no readable
  training image, is an error; some unreadable ones are a warning;
- ``layers_to_freeze`` above the number of stages of a model the space can pick (the model is
  built on PyTorch's ``meta`` device: no memory, no weights);
- ``loss_function="asl"`` (fixed, or among a choice's options) for multiclass data: the
  asymmetric loss is for multilabel data only, and every trial that draws it would fail;
- a crop/resize size whose decoded images (``N × S × S × 3`` bytes, decoded once into the
  memory-mapped cache) would not fit on the cache's disk (in memory without a cache), or whose
  training batch of float32 inputs would not fit in the machine's memory.

- the trainer's options (``training_options``) as every trial's ``TrainingConfig`` takes them:
  an unknown option or a bad value (``check_training_options``).

Each problem is one ``ValueError`` naming the search space's index and the field (or the
training option).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from automl_vision.data.task import Task
from automl_vision.space import Distribution, LossFunction, ParameterSpace
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.space.load import format_validation_error
from automl_vision.space.model_names import timm_model_name

__all__ = [
    "check_plan",
    "check_training_options",
    "field_values",
    "free_disk_bytes",
    "memory_bytes",
]


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
    import torch  # lazy: torch only when a space has layers_to_freeze to check

    from automl_vision.training.model_factory import build_model, model_stages  # lazy: torch

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


def _check_loss(space: ParameterSpace, index: int, task: Task) -> None:
    if task is not Task.MULTICLASS:
        return
    values = [LossFunction.parse(v, "loss_function") for v in field_values(space, "loss_function")]
    if LossFunction.ASL in values:
        can = "is" if len(values) == 1 else "can be"
        raise ValueError(
            f"search_space[{index}].loss_function {can} 'asl', which is for multilabel data "
            "only, and the data is multiclass (trained with cross-entropy); leave "
            "loss_function out or 'bce'"
        )


def free_disk_bytes(folder: Path | None) -> int | None:
    """Free bytes on the file system of ``folder`` (or its nearest existing parent)."""
    if folder is None:
        return None
    path = Path(folder).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _largest(space: ParameterSpace, name: str) -> int:
    return max(int(v) for v in field_values(space, name) if v is not None)


def _check_sizes(
    space: ParameterSpace, index: int, images: int, memory: int | None, disk: int | None
) -> None:
    """The decoded images (``N × S × S × 3`` bytes, S the larger of the training crop and the
    validation resize) must fit where they are kept (the cache's disk, else memory), and one
    training batch of float32 inputs in memory."""
    for name in ("training_crop_size", "validation_resize_size"):
        size = _largest(space, name)
        needed = images * size * size * 3
        room, where = (disk, "free disk space for the decoded-image cache") if disk is not None \
            else (memory, "memory")  # fmt: skip
        if room is not None and needed > room:
            raise ValueError(
                f"search_space[{index}].{name} can be {size}: {images} images decoded at "
                f"{size}x{size} need {needed / 2**30:.1f} GiB, more than the "
                f"{room / 2**30:.1f} GiB of {where}; lower {name}"
            )
    size = _largest(space, "training_crop_size")
    batch = _largest(space, "training_batch_size")
    needed = batch * 3 * size * size * 4
    if memory is not None and needed > memory:
        raise ValueError(
            f"search_space[{index}].training_crop_size can be {size}: one batch of {batch} such "
            f"images needs {needed / 2**30:.1f} GiB, more than this machine's "
            f"{memory / 2**30:.1f} GiB of memory; lower training_crop_size or training_batch_size"
        )


def check_plan(
    dataset: Any,
    spaces: list[ParameterSpace],
    *,
    available_memory: int | None = None,
    available_disk: int | None = None,
) -> None:
    """Raise the first problem every trial would hit (see the module docstring)."""
    dataset.check_images()
    memory = memory_bytes() if available_memory is None else available_memory
    disk = free_disk_bytes(dataset.cache_dir) if available_disk is None else available_disk
    for index, space in enumerate(spaces):
        _check_loss(space, index, dataset.task)
        _check_freeze(space, index, dataset.num_classes)
        _check_sizes(space, index, len(dataset.images), memory, disk)


def check_training_options(options: Mapping[str, Any], task: Any, primary_metric: str) -> None:
    """Raise the problem every trial's ``TrainingConfig`` would have with the sweep's
    ``training_options`` (an unknown option, a bad value), naming the option."""
    if not options:
        return
    from automl_vision.training.training_config import TrainingConfig  # lazy: torch

    try:
        TrainingConfig(**options, task=task, primary_metric=primary_metric)
    except ValidationError as err:
        lines = format_validation_error(err).splitlines()
        raise ValueError("training_options: " + "; ".join(lines)) from None
