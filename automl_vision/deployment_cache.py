"""A model's deployment metrics and the sweep directory's cache of them (torch-free).

``DeploymentMetrics`` is what ``training/deployment.py`` measures of one architecture at one
crop size on one device and runtime: latency, throughput, parameters, multiply-accumulates and
the weights' size. They depend on the configuration (model, crop size, class count), not on
training, so a sweep measures each distinct architecture once and keeps the result in
``<sweep>/deployment.json`` (``artifacts.DEPLOYMENT_FILE``), keyed by a ``DeploymentKey``: what
was measured and where (device kind and model, runtime and its version, intra-op threads,
throughput batch). Another GPU, CPU, runtime version or thread count measures again.

This module imports no torch: the sweep's packages (which never load torch) can read the
records and the cache; only the measurement itself (``training/deployment.py``) needs torch.

The file: ``{"format": 1, "entries": [{"key": {...}, "metrics": {...}}, ...]}``, written
atomically (``storage.write_atomically``) by one writer (the sweep's process, under the sweep
directory's lock). A sweep folder may come from anyone, so every field is checked when read; a
file that is not one this module wrote (unreadable JSON, another shape, a symbolic link, an
entry that does not validate) is ignored with one logged warning, never an error: the unusable
entries are dropped and the file is rewritten at the next ``put``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
)

from automl_vision.artifacts import DEPLOYMENT_FILE
from automl_vision.enums import ChoiceEnum
from automl_vision.storage import write_atomically

__all__ = [
    "CACHE_FORMAT",
    "DeploymentCache",
    "DeploymentKey",
    "DeploymentMetrics",
    "Measure",
    "Runtime",
]

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


class Runtime(ChoiceEnum):
    """What runs the model when it is measured. ``auto``: onnxruntime on the CPU (through the
    ONNX export, what a CPU deployment serves), torch eager on a GPU."""

    AUTO = "auto"
    ONNXRUNTIME = "onnxruntime"
    TORCH = "torch"

    @classmethod
    def _aliases(cls) -> Mapping[str, Any]:
        return {"ort": cls.ONNXRUNTIME, "pytorch": cls.TORCH, "eager": cls.TORCH}


def _resolved(value: Runtime) -> Runtime:
    if value is Runtime.AUTO:
        raise ValueError("a measured runtime is 'onnxruntime' or 'torch', not 'auto'")
    return value


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("runtime", check_fields=False)
    @classmethod
    def _runtime_resolved(cls, value: Runtime) -> Runtime:
        return _resolved(value)


class DeploymentKey(_Record):
    """What a measurement is of and where it ran: equal keys share one measurement.

    ``device`` is the kind (``cpu`` or ``cuda``), ``device_name`` the model of the device (the
    CPU's model string, or ``torch.cuda.get_device_name``); ``runtime`` the resolved runtime
    (never ``auto``) and ``runtime_version`` its version (onnxruntime's, or torch's for torch
    eager); ``threads`` the intra-op threads the measurement was pinned to.
    """

    model_name: str = Field(min_length=1)
    crop_size: PositiveInt
    num_classes: PositiveInt
    throughput_batch: PositiveInt
    device: str = Field(min_length=1)
    device_name: str
    runtime: Runtime
    runtime_version: str
    threads: PositiveInt


class DeploymentMetrics(_Record):
    """One architecture at one crop size, measured on one device with one runtime.

    - ``latency_ms``: one image (batch 1), the median of the timed runs after the warm-up;
      ``latency_p90_ms`` their 90th percentile (linear interpolation); ``latency_runs`` how
      many runs were timed.
    - ``throughput_ips``: images per second at ``throughput_batch`` images a call
      (``throughput_batch`` / the median time of one call).
    - ``params_m``: the model's parameters, in millions (``sum(p.numel())`` / 1e6).
    - ``macs_g``: multiply-accumulates of one image at the crop size, in billions: torch's
      ``FlopCounterMode`` floating-point operations / 2 (convolutions and matrix products,
      a multiply-accumulate being two operations; normalization, activations and pooling are
      not counted: the usual convention, ResNet-18 at 224 px is 1.82).
    - ``model_mb``: the weights as stored in float32, in MiB (2**20 bytes): the bytes of the
      state dict's tensors (parameters and buffers at their own element size), which is a
      ``best.safetensors`` of the model less its JSON header.
    - ``runtime``, ``device`` (kind), ``device_name``, ``threads`` (intra-op threads), and
      ``versions``: the libraries measured with (``torch``, ``timm``, ``onnxruntime``, ...).
    """

    latency_ms: PositiveFloat
    latency_p90_ms: PositiveFloat
    latency_runs: PositiveInt
    throughput_ips: PositiveFloat
    throughput_batch: PositiveInt
    params_m: NonNegativeFloat
    macs_g: NonNegativeFloat
    model_mb: NonNegativeFloat
    runtime: Runtime
    device: str = Field(min_length=1)
    device_name: str
    threads: PositiveInt
    versions: dict[str, str]


#: ``measure(key) -> metrics``: measures the configuration ``key`` names, where it says
Measure = Callable[[DeploymentKey], DeploymentMetrics]


class DeploymentCache:
    """The deployment metrics measured in one sweep directory, in the JSON file ``path``.

    ``get(key)``: the cached metrics or None; ``put(key, metrics)``: add or replace them and
    write the file atomically; ``measure_once(key, measure)``: the cached metrics, or
    ``measure(key)`` put in the cache when there are none. The file is read once, at the first
    use; one process writes it (the sweep's).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._entries: dict[DeploymentKey, DeploymentMetrics] | None = None

    @classmethod
    def in_folder(cls, folder: str | Path) -> DeploymentCache:
        """The cache of a sweep directory: ``folder / DEPLOYMENT_FILE``."""
        return cls(Path(folder) / DEPLOYMENT_FILE)

    def get(self, key: DeploymentKey) -> DeploymentMetrics | None:
        return self._loaded().get(key)

    def put(self, key: DeploymentKey, metrics: DeploymentMetrics) -> None:
        entries = self._loaded()
        entries[key] = metrics
        document = {
            "format": CACHE_FORMAT,
            "entries": [
                {"key": k.model_dump(mode="json"), "metrics": m.model_dump(mode="json")}
                for k, m in entries.items()
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(document, indent=1) + "\n")

    def measure_once(self, key: DeploymentKey, measure: Measure) -> DeploymentMetrics:
        cached = self.get(key)
        if cached is not None:
            return cached
        log.info("measuring the deployment metrics of %s at %d px", key.model_name, key.crop_size)
        metrics = measure(key)
        self.put(key, metrics)
        return metrics

    def __len__(self) -> int:
        return len(self._loaded())

    # -- reading ---------------------------------------------------------------------------
    def _loaded(self) -> dict[DeploymentKey, DeploymentMetrics]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict[DeploymentKey, DeploymentMetrics]:
        if self.path.is_symlink():
            return self._ignored("a symbolic link; the cache is a file of the sweep folder")
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            return self._ignored(f"not readable JSON ({str(err).splitlines()[0]})")
        if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
            return self._ignored(f"not a format-{CACHE_FORMAT} deployment cache")
        raw = document.get("entries")
        if not isinstance(raw, list):
            return self._ignored("no list of entries")
        entries: dict[DeploymentKey, DeploymentMetrics] = {}
        bad: list[str] = []
        for i, item in enumerate(raw):
            try:
                if not isinstance(item, dict) or set(item) != {"key", "metrics"}:
                    raise ValueError("not a mapping of key and metrics")
                key = DeploymentKey.model_validate(item["key"])
                entries[key] = DeploymentMetrics.model_validate(item["metrics"])
            except (ValidationError, ValueError, TypeError) as err:
                bad.append(f"entry {i}: {str(err).splitlines()[0]}")
        if bad:
            self._ignored(f"{len(bad)} of {len(raw)} entries unusable, first {bad[0]}")
        return entries

    def _ignored(self, problem: str) -> dict[DeploymentKey, DeploymentMetrics]:
        log.warning(
            "%s: not a deployment cache automl_vision wrote (%s); what cannot be read is "
            "ignored: measured again, and the file rewritten",
            self.path,
            problem,
        )
        return {}
