"""Predicted GPU memory of a sweep's trials: a probe of one training step per shape, cached.

A trial's peak memory depends, to first order, on its model, crop size and batch size (its
*shape*). Before a sweep on CUDA packs trials onto GPUs, ``step_peaks`` measures the peak of
one training step (forward, backward, optimizer step, the sweep's amp/channels-last options)
for each distinct shape the search space can produce (``space_shapes``), in a separate process
so that its CUDA memory is returned, and keeps the results in ``<sweep>/memory_probe.json``,
keyed by the shape and the identity of torch and the device (a new torch or another GPU model
probes again). ``peak_of`` maps a trial's params to its predicted peak: the probed step peak
plus ``CONTEXT_BYTES`` (the CUDA context and allocator slack torch does not count).

Shapes: a ``choice`` contributes its options, a discrete range of at most ``MAX_RANGE_VALUES``
values each of them, any other distribution its largest value (the conservative bound: memory
grows with crop and batch). Conditions are ignored (a superset of the real shapes).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import math
import multiprocessing as mp
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from automl_vision.executors.machine import GpuMemory
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.space.distributions import Distribution, Kind
from automl_vision.space.model_names import timm_model_name
from automl_vision.storage import write_atomically

__all__ = [
    "CONTEXT_BYTES",
    "PROBE_FILE",
    "Shape",
    "gpu_memory",
    "peak_of",
    "space_shapes",
    "step_peaks",
]

log = logging.getLogger(__name__)

PROBE_FILE = "memory_probe.json"
CONTEXT_BYTES = 1 << 30  # per trial process: CUDA context, cuDNN workspaces, allocator slack
MAX_RANGE_VALUES = 16
_FIELDS = ("model_name", "training_crop_size", "training_batch_size")

#: ``probe(shapes) -> {shape: peak bytes}``: measures the step peaks of shapes not cached yet
Probe = Callable[[list["Shape"]], Mapping["Shape", int]]


class Shape(NamedTuple):
    model: str
    crop: int
    batch: int

    def key(self) -> str:
        return f"{self.model}|{self.crop}|{self.batch}"


def _values(spec: Any) -> list[Any]:
    if not isinstance(spec, Distribution):
        return [spec]
    support = spec.support
    if support.kind is Kind.CATEGORICAL:
        return list(support.options)
    if support.discrete and support.bounded:
        step = support.q or 1
        count = math.floor((support.high - support.low) / step) + 1
        if count <= MAX_RANGE_VALUES:
            return [support.low + i * step for i in range(count)]
    if math.isfinite(support.high):
        return [support.high]
    raise ValueError(
        f"{spec!r} has no upper bound: memory-aware packing needs the largest value it can produce"
    )


def space_shapes(parameter_spaces: Iterable[Any]) -> set[Shape]:
    """Every (model, crop, batch) the spaces can produce (see the module docstring)."""
    shapes: set[Shape] = set()
    for space in parameter_spaces:
        params = space.parameters
        models = _values(params.get("model_name", azure_defaults()["model_name"]))
        for model in models:
            defaults = azure_defaults(str(model))
            crops = _values(params.get("training_crop_size", defaults["training_crop_size"]))
            batches = _values(params.get("training_batch_size", defaults["training_batch_size"]))
            shapes |= {Shape(str(model), int(c), int(b)) for c in crops for b in batches}
    return shapes


def peak_of(peaks: Mapping[Shape, int]) -> Callable[[Mapping[str, Any]], int]:
    """A trial's predicted peak from its params: the probed step peak + ``CONTEXT_BYTES``.

    A shape that was not probed (it cannot happen for sampled params) takes the largest
    probed peak: never an underestimate of a known one."""
    worst = max(peaks.values(), default=0)

    def predict(params: Mapping[str, Any]) -> int:
        model = str(params.get("model_name", azure_defaults()["model_name"]))
        defaults = azure_defaults(model)
        shape = Shape(
            model,
            int(params.get("training_crop_size", defaults["training_crop_size"])),
            int(params.get("training_batch_size", defaults["training_batch_size"])),
        )
        return int(peaks.get(shape, worst)) + CONTEXT_BYTES

    return predict


#: a step peak larger than this (1 PiB) is not one a probe measured
_MAX_PEAK = 2**50


def _load(path: Path) -> list[dict[str, Any]]:
    """The cache's entries; one ``ValueError`` line naming the file if it is not one this
    module wrote (a sweep folder may come from anyone: every field is checked)."""
    if path.is_symlink():
        raise _bad_cache(path, "a symbolic link; the cache is a file of the sweep folder")
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _bad_cache(path, f"not readable JSON ({str(err).splitlines()[0]})") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise _bad_cache(path, "no list of entries")
    for i, entry in enumerate(entries):
        problem = _entry_problem(entry)
        if problem is not None:
            raise _bad_cache(path, f"entry {i}: {problem}")
    return entries


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not a mapping"
    if not isinstance(entry.get("shape"), str) or not isinstance(entry.get("identity_hash"), str):
        return "shape and identity_hash must be text"
    peak = entry.get("peak_bytes")
    if isinstance(peak, bool) or not isinstance(peak, int) or not 0 < peak <= _MAX_PEAK:
        return f"peak_bytes {peak!r} is not a whole number of bytes in (0, 2**50]"
    return None


def _bad_cache(path: Path, problem: str) -> ValueError:
    return ValueError(
        f"{path}: not a memory probe cache automl_vision wrote ({problem}); delete it to "
        "measure again"
    )


def step_peaks(
    shapes: Iterable[Shape],
    sweep_dir: str | Path,
    *,
    identity: Mapping[str, Any],
    probe: Probe,
    write: bool = True,
) -> dict[Shape, int]:
    """The step peak of every shape: cached ones from ``sweep_dir/memory_probe.json`` (same
    ``identity``), the others measured by ``probe`` and added to the file (unless ``write`` is
    False: a dry run writes nothing)."""
    path = Path(sweep_dir) / PROBE_FILE
    ident = dict(identity)
    tag = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    entries = _load(path)
    cached = {
        e["shape"]: int(e["peak_bytes"])
        for e in entries
        if e.get("identity_hash") == tag and "shape" in e and "peak_bytes" in e
    }
    wanted = sorted(set(shapes))
    missing = [s for s in wanted if s.key() not in cached]
    if missing:
        log.info("probing the memory of one training step for %d shape(s)", len(missing))
        measured = probe(missing)
        for shape in missing:
            peak = int(measured[shape])
            cached[shape.key()] = peak
            entries.append(
                {"shape": shape.key(), "peak_bytes": peak, "identity_hash": tag, "identity": ident}
            )
        if not write:
            return {s: cached[s.key()] for s in wanted}
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps({"format": 1, "entries": entries}, indent=1))
    return {s: cached[s.key()] for s in wanted}


# -- the CUDA probe (a subprocess per sweep) -------------------------------------------------
def _in_subprocess(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a spawned process: CUDA is initialized there, not in the sweep's
    process (whose GPU memory no trial could use), and all its memory is freed after."""
    ctx = mp.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def gpu_info(options: Mapping[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """(what a probed peak depends on besides its shape: torch, the GPU model, the options;
    the total memory of each visible GPU in bytes), read in a subprocess."""
    identity, capacities = _in_subprocess(_gpu_info)
    identity = {
        **identity,
        "amp": bool(options.get("amp", True)),
        "channels_last": bool(options.get("channels_last", True)),
        "compile": bool(options.get("compile", False)),
    }
    return identity, capacities


def _gpu_info() -> tuple[dict[str, Any], list[int]]:
    import torch  # lazy: runs in the probe's process

    props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
    identity = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": props[0].name if props else "none",
    }
    return identity, [p.total_memory for p in props]


def cuda_probe(num_classes: int, options: Mapping[str, Any]) -> Probe:
    """A probe that measures on GPU 0, in a spawned process (its memory is freed after)."""

    def probe(shapes: list[Shape]) -> dict[Shape, int]:
        peaks = _in_subprocess(measure_step_peaks, list(shapes), num_classes, dict(options))
        return dict(zip(shapes, peaks, strict=True))

    return probe


def measure_step_peaks(
    shapes: list[Shape], num_classes: int, options: Mapping[str, Any], device: str = "cuda:0"
) -> list[int]:
    """The peak memory of two training steps (the second has the optimizer's state) of each
    shape, as the trainer runs them (bf16 autocast, channels-last, AdamW: the optimizer with
    the most state). Runs in the probe's process."""
    import timm  # lazy: the probe's process alone loads torch and timm
    import torch  # lazy: as above
    import torch.nn.functional as F  # lazy: as above

    from automl_vision.training.model_factory import model_kwargs  # lazy: torch

    dev = torch.device(device)
    amp = bool(options.get("amp", True)) and dev.type == "cuda"
    channels_last = bool(options.get("channels_last", True))
    out = []
    for shape in shapes:
        name = timm_model_name(shape.model)
        model = timm.create_model(
            name, num_classes=num_classes, **model_kwargs(name, shape.crop, shape.crop)
        ).to(dev)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = model.to(memory_format=fmt).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        x = torch.randn(shape.batch, 3, shape.crop, shape.crop, device=dev)
        x = x.contiguous(memory_format=fmt)
        y = torch.randint(0, num_classes, (shape.batch,), device=dev)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            torch.cuda.reset_peak_memory_stats(dev)
        for _ in range(2):
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                logits = model(x)
            F.cross_entropy(logits.float(), y).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            out.append(int(torch.cuda.max_memory_reserved(dev)))
        else:
            out.append(0)
        del model, opt, x, y
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return out


def gpu_memory(
    parameter_spaces: Sequence[Any],
    num_classes: int,
    options: Mapping[str, Any],
    sweep_dir: Path,
    *,
    probe: Probe | None = None,
    capacities: Sequence[int] | None = None,
    write: bool = True,
) -> GpuMemory:
    """What packing trials onto the GPUs needs: the GPUs' capacities, and the step peak of
    every shape the spaces can produce, probed (or read from ``sweep_dir``'s cache; ``write``
    False: the cache is read, not written). ``probe`` and ``capacities`` replace the real ones
    (tests)."""
    if capacities is not None:  # injected (tests)
        identity, sizes = {"injected": True}, list(capacities)
    else:
        identity, sizes = gpu_info(options)
    shapes = space_shapes(parameter_spaces)
    probe = probe or cuda_probe(num_classes, options)
    peaks = step_peaks(shapes, sweep_dir, identity=identity, probe=probe, write=write)
    predict = peak_of(peaks)
    predicted = {s: predict({"model_name": s.model, "training_crop_size": s.crop,
                             "training_batch_size": s.batch}) for s in peaks}  # fmt: skip
    return GpuMemory(capacities=sizes, predicted=predicted, peak_of=predict)
