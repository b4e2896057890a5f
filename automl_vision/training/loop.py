"""One epoch of training and one evaluation pass.

Training: batches arrive as uint8 images, are augmented on the device, and every
``gradient_accumulation_step`` batches (and at the end of the epoch, for a shorter last group)
the optimizer steps once. Each batch's loss is divided by the size of its accumulation group, so
a step applies the mean gradient of the group's batches. Before optimizer step ``k`` (counted
over the whole run from 0) the learning rate is set to ``learning_rate * schedule.factor(k)``;
gradients are clipped to ``gradient_clipping`` (global L2 norm) when set. On CUDA the forward
pass runs under bf16 autocast and inputs are channels-last (when the config asks for them).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import torch
from torch import nn

from automl_vision.training.components import Components
from automl_vision.training.config import TrainingConfig
from automl_vision.training.device import supports_bf16
from automl_vision.training.models import set_frozen_norms_eval

__all__ = ["EpochRunner", "EpochStats"]


@dataclass(frozen=True)
class EpochStats:
    loss: float  # mean training loss per image (as optimized)
    images: int
    seconds: float
    cpu_seconds: float  # CPU time of this process (all its threads) during the epoch
    optimizer_steps: int


class EpochRunner:
    """Trains ``model`` (possibly DDP-wrapped) epoch by epoch and evaluates its inner module."""

    def __init__(
        self,
        model: nn.Module,
        parts: Components,
        config: TrainingConfig,
        device: torch.device,
        *,
        world: int = 1,
    ) -> None:
        self.model = model
        self.inner: nn.Module = getattr(model, "module", model)
        self.parts = parts
        self.config = config
        self.device = device
        self.world = world
        self.step = 0  # optimizer steps so far
        self.lr_history: list[float] = []
        self.amp = config.amp and supports_bf16(device)
        self.channels_last = config.channels_last
        self.base_lrs = [g["lr"] for g in parts.optimizer.param_groups]

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _inputs(self, images: torch.Tensor, transform) -> torch.Tensor:
        x = transform(images.to(self.device, non_blocking=True))
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _optimizer_step(self) -> None:
        factor = self.parts.schedule.factor(self.step)
        for group, base in zip(self.parts.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * factor
        self.lr_history.append(self.base_lrs[0] * factor)
        if self.config.gradient_clipping is not None:
            params = [p for g in self.parts.optimizer.param_groups for p in g["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.config.gradient_clipping)
        self.parts.optimizer.step()
        self.parts.optimizer.zero_grad(set_to_none=True)
        self.step += 1

    def train_epoch(self, epoch: int) -> EpochStats:
        """Train one epoch (``epoch`` numbered from 1)."""
        parts, acc = self.parts, self.config.gradient_accumulation_step
        parts.train_order.set_epoch(epoch)
        self.model.train()
        set_frozen_norms_eval(self.inner)
        parts.optimizer.zero_grad(set_to_none=True)
        start, cpu_start, first_step = time.perf_counter(), time.process_time(), self.step
        n_batches = len(parts.train_order)
        total = torch.zeros((), device=self.device)
        images = 0
        for i, (batch, targets) in enumerate(parts.train_loader):
            group_start = i - i % acc
            group_size = min(acc, n_batches - group_start)
            last_of_group = i == group_start + group_size - 1
            targets = targets.to(self.device, non_blocking=True)
            x = self._inputs(batch, parts.train_transform)
            sync = contextlib.nullcontext()
            if self.world > 1 and not last_of_group:
                sync = self.model.no_sync()  # type: ignore[operator]
            with sync:
                with self._autocast():
                    logits = self.model(x)
                loss = parts.loss(logits.float(), targets)
                (loss / group_size).backward()
            total += loss.detach() * len(targets)
            images += len(targets)
            if last_of_group:
                self._optimizer_step()
        if self.world > 1:
            summed = torch.stack([total, torch.tensor(float(images), device=self.device)])
            torch.distributed.all_reduce(summed)
            total, images_all = summed[0], int(summed[1].item())
        else:
            images_all = images
        return EpochStats(
            loss=float(total.item()) / max(1, images_all),
            images=images_all,
            seconds=time.perf_counter() - start,
            cpu_seconds=time.process_time() - cpu_start,
            optimizer_steps=self.step - first_step,
        )

    @torch.inference_mode()
    def predict(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, targets) of the validation set, on the CPU, in dataset order."""
        self.inner.eval()
        logits, targets = [], []
        for batch, target in self.parts.val_loader:
            x = self._inputs(batch, self.parts.eval_transform)
            with self._autocast():
                out = self.inner(x)
            logits.append(out.float().cpu())
            targets.append(target)
        return torch.cat(logits), torch.cat(targets)
