"""Deployment metrics of a model, measured on this machine: ``measure_deployment``.

The model is built as the trainer builds it (``model_factory.build_model`` with the trainer's
``model_kwargs`` for the crop size), from random weights: latency does not depend on the
weights' values, and nothing is downloaded. The global torch RNG is left as it was (the weights
are drawn inside ``torch.random.fork_rng``), so measuring before a seeded sweep changes nothing
of it.

Runtimes (``Runtime``): ``auto`` is onnxruntime on the CPU and torch eager on a GPU.

- ``onnxruntime`` (CPU only): the model exported to ONNX by ``export.write_onnx`` (the export
  of ``best.onnx``: opset 17, batch dimension dynamic, no normalization folded in) into a
  temporary folder, run by an ``InferenceSession`` on ``CPUExecutionProvider`` with every graph
  optimization, ``threads`` intra-op threads, one inter-op thread and sequential execution.
  ``auto`` on the CPU falls back to torch eager (logged) when the ``onnx`` extra is missing.
- ``torch``: eager float32 under ``torch.inference_mode``; on CUDA every timed run ends with
  ``torch.cuda.synchronize``. ``torch.set_num_threads(threads)`` while measuring, restored after
  (a process-wide setting: measure before trials run in this process, as a sweep does).

Timing (``TimingRule``): ``warmup`` untimed runs, then timed runs until at least ``min_runs``
and ``min_seconds`` are both reached, or, for a slow model, once ``max_seconds`` have passed
with at least ``floor_runs`` runs. Latency: batch 1, 5 warm-up runs, ``repeats`` (30) runs and
0.5 s at least, at most 10 s once 5 runs are done; the median and the 90th percentile.
Throughput: ``throughput_batch`` (32) images a call, 1 warm-up call, 3 calls and 0.5 s at
least, at most 10 s once 2 calls are done; the batch over the median call time. A tiny model
takes about 1.2 s in all on a 2-core CPU, most of it the two minimum times; ResNet-18 at
224 px about 6 s, most of it the batches of 32.

The sizes (``params_m``, ``macs_g``, ``model_mb``) are counted, not timed (``count_model``,
cheap: a sweep may check a size constraint with it alone): see ``DeploymentMetrics``.
``measure_cached`` is the sweep's entry point: the cache of a sweep directory
(``DeploymentCache``) first, a measurement only on a miss.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import timm
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from automl_vision.deployment_cache import (
    DeploymentCache,
    DeploymentKey,
    DeploymentMetrics,
    Runtime,
)
from automl_vision.space.model_names import (
    canonical_model_name,
    model_name_problem,
    timm_model_name,
)
from automl_vision.system import available_cpus, cpu_name
from automl_vision.training.device import resolve_devices
from automl_vision.training.export import write_onnx
from automl_vision.training.model_factory import build_model, model_kwargs

__all__ = [
    "LATENCY_TIMING",
    "THROUGHPUT_TIMING",
    "DeploymentKey",
    "DeploymentMetrics",
    "ModelCounts",
    "Runtime",
    "TimingRule",
    "count_model",
    "deployment_key",
    "measure_cached",
    "measure_deployment",
    "time_runs",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimingRule:
    """How long a call is timed: ``warmup`` untimed runs, then timed runs until ``min_runs``
    runs and ``min_seconds`` are both reached, or ``max_seconds`` once ``floor_runs`` are."""

    warmup: int
    min_runs: int
    min_seconds: float
    max_seconds: float = 10.0
    floor_runs: int = 2


LATENCY_TIMING = TimingRule(warmup=5, min_runs=30, min_seconds=0.5, floor_runs=5)
THROUGHPUT_TIMING = TimingRule(warmup=1, min_runs=3, min_seconds=0.5, floor_runs=2)


def time_runs(
    run: Callable[[], object],
    rule: TimingRule,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """The seconds of each timed call of ``run`` (after the warm-up), as ``rule`` says."""
    for _ in range(rule.warmup):
        run()
    times: list[float] = []
    start = clock()
    while True:
        began = clock()
        run()
        ended = clock()
        times.append(ended - began)
        elapsed = ended - start
        if len(times) >= rule.min_runs and elapsed >= rule.min_seconds:
            return times
        if len(times) >= rule.floor_runs and elapsed >= rule.max_seconds:
            return times


# -- what is measured where -----------------------------------------------------------------
def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}={value!r} is not allowed; {name} must be a whole number >= 1")
    return value


def _onnx_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def _runtime_for(runtime: Runtime | str, device: torch.device) -> Runtime:
    chosen = Runtime.parse(runtime, "runtime")
    if chosen is Runtime.AUTO:
        if device.type == "cuda":
            return Runtime.TORCH
        if _onnx_available():
            return Runtime.ONNXRUNTIME
        log.info("onnx/onnxruntime not installed: measuring with torch eager on the CPU")
        return Runtime.TORCH
    if chosen is Runtime.ONNXRUNTIME:
        if device.type != "cpu":
            raise ValueError(
                f"runtime='onnxruntime' is measured on the CPU only; device={device.type!r} "
                "measures with runtime 'torch' (or 'auto')"
            )
        if not _onnx_available():
            raise ValueError(
                "runtime='onnxruntime' needs onnx and onnxruntime: pip install "
                "'automl-vision[onnx]' (or runtime 'torch')"
            )
    return chosen


def _runtime_version(runtime: Runtime) -> str:
    if runtime is Runtime.ONNXRUNTIME:
        import onnxruntime  # lazy: onnxruntime is an optional extra

        return str(onnxruntime.__version__)
    return str(torch.__version__)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    return cpu_name()


@dataclass(frozen=True)
class _Setting:
    key: DeploymentKey
    device: torch.device
    timm_name: str


def _setting(
    model_name: str,
    crop_size: int,
    num_classes: int,
    device: str,
    runtime: Runtime | str,
    throughput_batch: int,
    threads: int | None,
) -> _Setting:
    problem = model_name_problem(model_name)
    if problem:
        raise ValueError(f"model_name={model_name!r} {problem}")
    _positive("crop_size", crop_size)
    _positive("num_classes", num_classes)
    _positive("throughput_batch", throughput_batch)
    threads = available_cpus() if threads is None else _positive("threads", threads)
    dev = resolve_devices(device, distributed=False)[0]
    chosen = _runtime_for(runtime, dev)
    key = DeploymentKey(
        model_name=canonical_model_name(model_name),
        crop_size=crop_size,
        num_classes=num_classes,
        throughput_batch=throughput_batch,
        device=dev.type,
        device_name=_device_name(dev),
        runtime=chosen,
        runtime_version=_runtime_version(chosen),
        threads=threads,
    )
    return _Setting(key, dev, timm_model_name(model_name))


def deployment_key(
    model_name: str,
    *,
    crop_size: int,
    num_classes: int,
    device: str = "cpu",
    runtime: Runtime | str = "auto",
    throughput_batch: int = 32,
    threads: int | None = None,
) -> DeploymentKey:
    """The cache key of the measurement ``measure_deployment`` would make with these
    arguments (runtime resolved, the device's model and the runtime's version filled in)."""
    return _setting(
        model_name, crop_size, num_classes, device, runtime, throughput_batch, threads
    ).key


# -- counting -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelCounts:
    """What a model's size is, counted: ``params_m`` (millions of parameters), ``macs_g``
    (billions of multiply-accumulates of one image at the crop size: ``FlopCounterMode``'s
    flops / 2), ``model_mb`` (MiB of the state dict's tensors). See ``DeploymentMetrics``."""

    params_m: float
    macs_g: float
    model_mb: float


def count_model(model: nn.Module, crop_size: int) -> ModelCounts:
    """``model``'s counts at ``crop_size``: one forward pass of a batch of one under
    ``FlopCounterMode`` (``model`` on the CPU, in eval mode)."""
    params = sum(p.numel() for p in model.parameters())
    return ModelCounts(
        params_m=params / 1e6,
        macs_g=_macs(model, crop_size) / 1e9,
        model_mb=_stored_bytes(model) / 2**20,
    )


def _stored_bytes(model: nn.Module) -> int:
    """The bytes of the state dict's tensors, each storage counted once."""
    seen: set[int] = set()
    total = 0
    for tensor in model.state_dict().values():
        if tensor.numel() and tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        total += tensor.numel() * tensor.element_size()
    return total


def _macs(model: nn.Module, crop_size: int) -> float:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, crop_size, crop_size))
    return counter.get_total_flops() / 2


# -- timing ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _images(batch: int, crop_size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(batch, 3, crop_size, crop_size, generator=generator)


def _time_onnxruntime(
    model: nn.Module, setting: _Setting, latency: TimingRule, throughput: TimingRule
) -> tuple[list[float], list[float]]:
    import onnxruntime as ort  # lazy: onnxruntime is an optional extra

    key = setting.key
    options = ort.SessionOptions()
    options.intra_op_num_threads = key.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory(prefix="automl-vision-deployment-") as folder:
        path = write_onnx(model, Path(folder) / "model.onnx", key.crop_size)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    one = {"input": _images(1, key.crop_size).numpy()}
    many = {"input": _images(key.throughput_batch, key.crop_size).numpy()}
    single = time_runs(lambda: session.run(None, one), latency)
    batched = time_runs(lambda: session.run(None, many), throughput)
    return single, batched


def _time_torch(
    model: nn.Module, setting: _Setting, latency: TimingRule, throughput: TimingRule
) -> tuple[list[float], list[float]]:
    device, key = setting.device, setting.key
    model = model.to(device)
    one = _images(1, key.crop_size).to(device)
    many = _images(key.throughput_batch, key.crop_size).to(device)

    def call(batch: torch.Tensor) -> Callable[[], None]:
        def run() -> None:
            model(batch)
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        return run

    with _torch_threads(key.threads), torch.inference_mode():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        single = time_runs(call(one), latency)
        batched = time_runs(call(many), throughput)
    return single, batched


def _versions(runtime: Runtime, device: torch.device) -> dict[str, str]:
    versions = {"torch": str(torch.__version__), "timm": str(timm.__version__)}
    if runtime is Runtime.ONNXRUNTIME:
        versions["onnxruntime"] = _runtime_version(runtime)
    if device.type == "cuda":
        versions["cuda"] = str(torch.version.cuda)
    return versions


def measure_deployment(
    model_name: str,
    *,
    crop_size: int,
    num_classes: int,
    device: str = "cpu",
    runtime: Runtime | str = "auto",
    throughput_batch: int = 32,
    threads: int | None = None,
    repeats: int = LATENCY_TIMING.min_runs,
) -> DeploymentMetrics:
    """Measure ``model_name`` (an Azure or timm name) at ``crop_size`` with ``num_classes``
    outputs on ``device`` (``cpu``, ``cuda``, ``cuda:1``, ``auto``) with ``runtime``.

    ``threads``: the intra-op threads (default: every CPU this process may use; a sweep passes
    what one trial gets). ``repeats``: the least number of timed batch-1 runs. Bad arguments
    raise one ``ValueError`` naming the argument.
    """
    _positive("repeats", repeats)
    setting = _setting(
        model_name, crop_size, num_classes, device, runtime, throughput_batch, threads
    )
    key = setting.key
    latency_rule = TimingRule(
        LATENCY_TIMING.warmup,
        repeats,
        LATENCY_TIMING.min_seconds,
        LATENCY_TIMING.max_seconds,
        min(LATENCY_TIMING.floor_runs, repeats),
    )
    with torch.random.fork_rng(devices=[]):
        model = build_model(
            setting.timm_name,
            num_classes,
            kwargs=model_kwargs(setting.timm_name, crop_size, crop_size),
            model_name=model_name,
        ).eval()
    counts = count_model(model, crop_size)
    timer = _time_onnxruntime if key.runtime is Runtime.ONNXRUNTIME else _time_torch
    single, batched = timer(model, setting, latency_rule, THROUGHPUT_TIMING)
    metrics = DeploymentMetrics(
        latency_ms=float(np.median(single)) * 1e3,
        latency_p90_ms=float(np.percentile(single, 90)) * 1e3,
        latency_runs=len(single),
        throughput_ips=key.throughput_batch / float(np.median(batched)),
        throughput_batch=key.throughput_batch,
        params_m=counts.params_m,
        macs_g=counts.macs_g,
        model_mb=counts.model_mb,
        runtime=key.runtime,
        device=key.device,
        device_name=key.device_name,
        threads=key.threads,
        versions=_versions(key.runtime, setting.device),
    )
    log.info(
        "%s at %d px on %s (%s, %d threads): %.2f ms per image, %.0f images/s at batch %d",
        key.model_name,
        crop_size,
        key.device_name,
        key.runtime.value,
        key.threads,
        metrics.latency_ms,
        metrics.throughput_ips,
        key.throughput_batch,
    )
    return metrics


def measure_cached(
    cache: DeploymentCache,
    model_name: str,
    *,
    crop_size: int,
    num_classes: int,
    device: str = "cpu",
    runtime: Runtime | str = "auto",
    throughput_batch: int = 32,
    threads: int | None = None,
    repeats: int = LATENCY_TIMING.min_runs,
) -> DeploymentMetrics:
    """``measure_deployment``'s metrics from ``cache`` when it holds them for this key
    (``deployment_key``), else measured now and put in it."""
    key = deployment_key(
        model_name,
        crop_size=crop_size,
        num_classes=num_classes,
        device=device,
        runtime=runtime,
        throughput_batch=throughput_batch,
        threads=threads,
    )

    def measure(wanted: DeploymentKey) -> DeploymentMetrics:
        return measure_deployment(
            model_name,
            crop_size=wanted.crop_size,
            num_classes=wanted.num_classes,
            device=device,
            runtime=wanted.runtime,
            throughput_batch=wanted.throughput_batch,
            threads=wanted.threads,
            repeats=repeats,
        )

    return cache.measure_once(key, measure)
