"""Everything one training process needs, built from a ``TrainingConfig`` and a dataset.

``build_components`` takes the data decoded (through the cache) at ``storage_size(config)`` =
``max(training_crop_size, validation_resize_size)``, creates the model (num_classes from the
data), freezes ``layers_to_freeze`` stages, and makes the optimizer, the per-iteration schedule,
the (weighted) loss, the transforms and the batch loaders. The training batches come from the
memory-mapped cache through a ``DataLoader``, or from a copy of the split in pinned host memory
or on the GPU, as ``image_placement`` says (``data/placement.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from timm.data import resolve_data_config
from torch import nn
from torch.utils.data import DataLoader

from automl_vision.data.dataset import DecodedSplit, ImageDataset
from automl_vision.data.loader import BatchOrder, make_loader
from automl_vision.data.placement import ImagePlacement, MemoryBatches, resolve_placement
from automl_vision.data.transforms import EvalTransform, TrainTransform
from automl_vision.training.losses import class_weights, make_loss
from automl_vision.training.model_factory import Stage, build_model, freeze_stages, model_kwargs
from automl_vision.training.optim import make_optimizer
from automl_vision.training.schedule import Schedule, make_schedule
from automl_vision.training.training_config import TrainingConfig

__all__ = ["Components", "build_components", "storage_size"]


def storage_size(config: TrainingConfig) -> int:
    """The size images are decoded (and cached) at."""
    return max(config.training_crop_size, config.validation_resize_size)


@dataclass
class Components:
    model: nn.Module
    model_kwargs: dict
    frozen: list[Stage]
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    steps_per_epoch: int
    loss: nn.Module
    train_transform: TrainTransform
    eval_transform: EvalTransform
    train_order: BatchOrder
    train_loader: Iterable  # DataLoader or MemoryBatches: (uint8 images, targets) per batch
    val_loader: DataLoader
    train_split: DecodedSplit
    val_split: DecodedSplit
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    placement: ImagePlacement = ImagePlacement.LOADER


def train_batches(
    split: DecodedSplit,
    order: BatchOrder,
    *,
    placement: ImagePlacement,
    device: torch.device,
    workers: int,
) -> tuple[Iterable, ImagePlacement]:
    """The training batches of ``split`` in ``order``, and where their images are kept."""
    nbytes = len(split) * int(np.prod(split.images.shape[1:]))
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None
    where = resolve_placement(placement, device, nbytes, free)
    if where is ImagePlacement.LOADER:
        return make_loader(split, order, workers=workers, pin_memory=device.type == "cuda"), where
    return MemoryBatches(split, order, device, on_device=where is ImagePlacement.DEVICE), where


def build_components(
    config: TrainingConfig,
    dataset: ImageDataset,
    splits: tuple[DecodedSplit, DecodedSplit],
    *,
    device: torch.device,
    seed: int,
    rank: int = 0,
    world: int = 1,
) -> Components:
    """All parts of a run of ``config`` on ``dataset`` for process ``rank`` of ``world``."""
    train_split, val_split = splits
    kwargs = model_kwargs(config.timm_name, config.training_crop_size, config.validation_crop_size)
    model = build_model(
        config.timm_name,
        dataset.num_classes,
        pretrained=config.pretrained,
        kwargs=kwargs,
        model_name=config.model_name,
    )
    frozen = freeze_stages(model, config.layers_to_freeze)
    data_cfg = resolve_data_config({}, model=model)
    mean = tuple(float(v) for v in data_cfg["mean"])
    std = tuple(float(v) for v in data_cfg["std"])
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)

    order = BatchOrder(
        len(train_split),
        config.training_batch_size,
        shuffle=True,
        seed=seed,
        rank=rank,
        world=world,
        drop_single=True,
    )
    steps_per_epoch = math.ceil(len(order) / config.gradient_accumulation_step)
    schedule = make_schedule(
        config.learning_rate_scheduler,
        steps_per_epoch=steps_per_epoch,
        epochs=config.number_of_epochs,
        warmup_epochs=config.warmup_cosine_lr_warmup_epochs,
        cycles=config.warmup_cosine_lr_cycles,
        step_size=config.step_lr_step_size,
        gamma=config.step_lr_gamma,
    )
    optimizer = make_optimizer(
        config.optimizer,
        model,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        momentum=config.momentum,
        nesterov=config.nesterov,
        beta1=config.beta1,
        beta2=config.beta2,
        ams_gradient=config.ams_gradient,
        device=device,
    )
    weights = class_weights(
        dataset.class_counts(), len(dataset.train_indices), dataset.task, config.weighted_loss
    )
    loss = make_loss(
        dataset.task,
        weights,
        loss_function=config.loss_function,
        asl_gamma_neg=config.asl_gamma_neg,
        asl_gamma_pos=config.asl_gamma_pos,
        asl_clip=config.asl_clip,
    ).to(device)
    augment_rng = np.random.default_rng([seed, rank])
    train_transform = TrainTransform(
        config.training_crop_size,
        mean,
        std,
        rng=augment_rng,
        scale=config.crop_scale,
        ratio=config.crop_ratio,
        color_jitter=config.color_jitter,
        flip=config.horizontal_flip,
    )
    eval_transform = EvalTransform(
        config.validation_resize_size, config.validation_crop_size, mean, std
    )
    pin = device.type == "cuda"
    train_loader, placement = train_batches(
        train_split,
        order,
        placement=config.image_placement,
        device=device,
        workers=config.number_of_workers,
    )
    val_order = BatchOrder(len(val_split), config.validation_batch_size, shuffle=False)
    return Components(
        model=model,
        model_kwargs=kwargs,
        frozen=frozen,
        optimizer=optimizer,
        schedule=schedule,
        steps_per_epoch=steps_per_epoch,
        loss=loss,
        train_transform=train_transform,
        eval_transform=eval_transform,
        train_order=order,
        train_loader=train_loader,
        val_loader=make_loader(
            val_split,
            val_order,
            workers=config.number_of_workers if rank == 0 else 0,
            pin_memory=pin,
        ),
        train_split=train_split,
        val_split=val_split,
        mean=mean,  # type: ignore[arg-type]
        std=std,  # type: ignore[arg-type]
        placement=placement,
    )
