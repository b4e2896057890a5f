"""One epoch of training and one evaluation pass.

Training: batches arrive as uint8 images, are augmented on the device, and every
``gradient_accumulation_step`` batches (and at the end of the epoch, for a shorter last group)
the optimizer steps once. Each batch's loss is divided by the size of its accumulation group, so
a step applies the mean gradient of the group's batches. Before optimizer step ``k`` (counted
over the whole run from 0) the learning rate is set to ``learning_rate * schedule.factor(k)``;
gradients are clipped to ``gradient_clipping`` (global L2 norm) when set. On CUDA the forward
pass runs under bf16 autocast and inputs are channels-last (when the config asks for them).

Per step the loop does no host work beyond launching the step: the loss is summed on the
device and read once per epoch, so a CUDA step never waits for the GPU. On CPU, with
``augment_ahead`` and a CPU left free by torch's intra-op threads, the next batch is augmented
in a background thread (``ahead.py``) while this one trains. With ``compile``, the first
training step (which compiles the model) is timed apart: ``compile_seconds``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch
from torch import nn

from automl_vision.data.loader import available_cpus
from automl_vision.training.ahead import ahead
from automl_vision.training.components import Components
from automl_vision.training.device import supports_bf16
from automl_vision.training.model_factory import set_frozen_norms_eval
from automl_vision.training.training_config import TrainingConfig

__all__ = ["EpochRunner", "EpochStats"]


@dataclass(frozen=True)
class EpochStats:
    loss: float  # mean training loss per image (as optimized)
    images: int
    seconds: float
    cpu_seconds: float  # CPU time of this process (all its threads) during the epoch
    optimizer_steps: int
    compile_seconds: float = 0.0  # the first step of a compiled model (not in ``seconds``)


class EpochRunner:
    """Trains ``model`` (possibly DDP-wrapped, possibly compiled) epoch by epoch and evaluates
    its inner module (never compiled: evaluation and checkpoints see the plain model)."""

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
        plain = getattr(model, "_orig_mod", model)  # torch.compile's wrapper
        self.inner: nn.Module = getattr(plain, "module", plain)  # DDP's
        self.parts = parts
        self.config = config
        self.device = device
        self.world = world
        self.step = 0  # optimizer steps so far
        self.lr_history: list[float] = []
        self.amp = config.amp and supports_bf16(device)
        self.channels_last = config.channels_last
        self.base_lrs = [g["lr"] for g in parts.optimizer.param_groups]
        self.compiled = config.compile
        self._threads = torch.get_num_threads()
        self.augment_ahead = (
            config.augment_ahead and device.type == "cpu" and self._threads < available_cpus()
        )

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _inputs(self, images: torch.Tensor, transform) -> torch.Tensor:
        x = transform(images.to(self.device, non_blocking=True))
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _train_batches(self) -> Generator[tuple[torch.Tensor, torch.Tensor], None, None]:
        """(inputs, targets) of the epoch's training batches, augmented, on the device."""
        transform = self.parts.train_transform

        def prepare(item: tuple[torch.Tensor, torch.Tensor]):
            batch, targets = item
            return self._inputs(batch, transform), targets.to(self.device, non_blocking=True)

        if self.augment_ahead:
            return ahead(self.parts.train_loader, prepare, threads=self._threads)
        return (prepare(item) for item in self.parts.train_loader)

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

    def train_epoch(
        self, epoch: int, on_batch: Callable[[int, int], None] | None = None
    ) -> EpochStats:
        """Train one epoch (``epoch`` numbered from 1); ``on_batch(done, batches)`` after each
        batch (no device sync: it is told a batch was launched)."""
        parts, acc = self.parts, self.config.gradient_accumulation_step
        parts.train_order.set_epoch(epoch)
        self.model.train()
        set_frozen_norms_eval(self.inner)
        parts.optimizer.zero_grad(set_to_none=True)
        start, cpu_start, first_step = time.perf_counter(), time.process_time(), self.step
        n_batches = len(parts.train_order)
        total = torch.zeros((), device=self.device)
        images = 0
        compile_s = 0.0
        batches = self._train_batches()
        try:
            for i, (x, targets) in enumerate(batches):
                group_start = i - i % acc
                group_size = min(acc, n_batches - group_start)
                last_of_group = i == group_start + group_size - 1
                timed = self.compiled and self.step == 0 and i == 0
                if timed:
                    self._sync()
                    step_start = time.perf_counter()
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
                if timed:
                    self._sync()
                    compile_s = time.perf_counter() - step_start
                if on_batch is not None:
                    on_batch(i + 1, n_batches)
        finally:
            batches.close()  # stops the background thread, also on an error
        if self.world > 1:
            summed = torch.stack([total, torch.tensor(float(images), device=self.device)])
            torch.distributed.all_reduce(summed)
            total, images_all = summed[0], int(summed[1].item())
        else:
            images_all = images
        return EpochStats(
            loss=float(total.item()) / max(1, images_all),
            images=images_all,
            seconds=time.perf_counter() - start - compile_s,
            cpu_seconds=time.process_time() - cpu_start,
            optimizer_steps=self.step - first_step,
            compile_seconds=compile_s,
        )

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

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
