"""``train(config, data)``: one training run, start to finish.

The run: read the data (unless an ``ImageDataset`` is given), resolve the config's defaults for
the task, pick the devices, decode the images once (through the cache), then train
``number_of_epochs`` epochs, evaluating when ``epoch % evaluation_frequency == 0`` and at the
last epoch (and after an epoch whose training loss is not finite). After each evaluation
``report(epoch, metrics)`` is called; True stops the run cleanly. Early stopping (see
``early_stopping.py``) can stop it too. The best epoch's weights are kept (``best.safetensors`` in
``output_dir`` when given).

Determinism: with ``random_seed`` set, a run on the CPU is repeatable bit for bit: the model's
initialization and dropout use torch's default generator seeded inside ``torch.random.fork_rng``
(the caller's generator state is restored afterwards), the batch order uses
``numpy.random.default_rng([seed, epoch])`` and augmentation a ``torch.Generator`` seeded from
``[seed, rank]``. Without a seed, one is drawn from the OS and reported in ``TrainResult.seed``.

With several devices and ``distributed=True`` the run is data-parallel (``distributed.py``).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

from automl_vision.artifacts import LEGACY_RESUME_FILE
from automl_vision.data.dataset import ImageDataset, load_dataset
from automl_vision.storage import write_atomically
from automl_vision.training.components import storage_size
from automl_vision.training.device import DeviceSpec, resolve_devices
from automl_vision.training.distributed import run_distributed
from automl_vision.training.evaluation import ReportFn
from automl_vision.training.process import TrainResult, run_process
from automl_vision.training.resume import RESUME_FILE, load_resume
from automl_vision.training.tensor_file import LegacyCheckpointError, legacy_message
from automl_vision.training.ticker import ProgressFn
from automl_vision.training.training_config import TrainingConfig

__all__ = ["TrainResult", "train"]

log = logging.getLogger("automl_vision.training")


def train(
    config: TrainingConfig,
    data: Any,
    *,
    report: ReportFn | None = None,
    output_dir: str | Path | None = None,
    device: DeviceSpec = "auto",
    resume: bool = False,
    progress: ProgressFn | None = None,
) -> TrainResult:
    """Train ``config`` on ``data``; return the final and best metrics and the best checkpoint.

    ``data``: an ``ImageDataset`` (from ``automl_vision.data.load_dataset``), or anything
    ``load_dataset`` reads (image folder, JSONL, MLTable folder, CSV, ``(images, labels)``),
    split with its defaults (20% validation, seed 0). ``report(epoch, metrics)`` is called after
    every evaluation; a truthy answer stops training (the best checkpoint is kept):
    ``Verdict.STOP`` (or True) for good, ``Verdict.PAUSE`` resumably.
    ``output_dir``: where ``best.safetensors`` and ``metrics.jsonl`` go (nothing is written when
    None).
    ``device``: ``"auto"``, ``"cpu"``, ``"cuda:1"``, or a list of devices for data-parallel
    training (see ``device.resolve_devices``).
    ``resume``: with ``output_dir/resume.safetensors`` present (written at the end of every epoch,
    see ``resume.py``), continue after its epoch; ``report`` is not called again for the epochs it
    covers. The config may differ in ``training_batch_size`` and ``gradient_accumulation_step``
    (an out-of-memory retry). Without the file the run starts at epoch 1. A run that ``report``
    paused (``Verdict.PAUSE``: a sweep's interrupt, a promotion policy's rung) goes on from the
    next epoch; every other stop is final.
    ``progress``: told where the run is within its epoch, a ``TrainingProgress`` at most every
    half second (``ticker.py``); not a report: its answer is ignored.
    """
    start = time.perf_counter()
    dataset = data if isinstance(data, ImageDataset) else load_dataset(data, task=config.task)
    config = config.for_task(dataset.task)
    devices = resolve_devices(device, distributed=config.distributed)
    seed = config.random_seed if config.random_seed is not None else secrets.randbits(31)
    out = Path(output_dir).expanduser() if output_dir is not None else None
    resume_state = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if resume and not (out / RESUME_FILE).exists() and (out / LEGACY_RESUME_FILE).exists():
            # release 1's pickle: never read untrusted, never silently trained over
            raise LegacyCheckpointError(legacy_message(out / LEGACY_RESUME_FILE))
        if resume and (out / RESUME_FILE).exists():
            resume_state = load_resume(out / RESUME_FILE)
            _truncate_metrics(out / "metrics.jsonl", int(resume_state["epoch"]))
            seed = int(resume_state["seed"])
        else:
            (out / "metrics.jsonl").unlink(missing_ok=True)
            (out / RESUME_FILE).unlink(missing_ok=True)
    splits = dataset.decode(storage_size(config))
    data_s = time.perf_counter() - start
    log.info(
        "training %s on %d images (%d validation), %d classes, %s, devices %s",
        config.model_name,
        len(splits[0]),
        len(splits[1]),
        dataset.num_classes,
        dataset.task.value,
        ", ".join(str(d) for d in devices),
    )
    if len(devices) > 1:
        result = run_distributed(
            config,
            dataset,
            splits,
            devices=devices,
            seed=seed,
            report=report,
            output_dir=out,
            progress=progress,
        )
    else:
        result = run_process(
            config,
            dataset,
            splits,
            device=devices[0],
            seed=seed,
            report=report,
            output_dir=out,
            resume_state=resume_state,
            on_progress=progress,
        )
    if result is None:
        raise RuntimeError("rank 0 returned no result")
    result.timings["data"] = data_s
    result.timings["total"] = time.perf_counter() - start
    return result


def _truncate_metrics(path: Path, epoch: int) -> None:
    """Drop the lines of epochs after ``epoch`` (written before a kill, trained again now)."""
    if not path.exists():
        return
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("epoch", 0) <= epoch
    ]
    write_atomically(path, "".join(line + "\n" for line in kept))
