"""Data-parallel training: two CPU processes with the gloo backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers_training import coloured_images, tiny_config

from automl_vision.data import load_dataset
from automl_vision.training import StopReason, train
from automl_vision.training.device import resolve_devices

SAME_MATH = {
    "model_name": "test_vit", "momentum": 0.0, "weight_decay": 0.0, "learning_rate": 0.05,
    "learning_rate_scheduler": "step", "step_lr_gamma": 1.0, "crop_scale": (1.0, 1.0),
    "crop_ratio": (1.0, 1.0), "color_jitter": 0.0, "horizontal_flip": 0.0, "number_of_epochs": 4,
}  # fmt: skip


@pytest.mark.slow
def test_two_processes_train_like_one_with_the_global_batch(tmp_path: Path) -> None:
    images, labels = coloured_images(10, size=16)
    ds = load_dataset((images, labels), cache_dir=tmp_path / "cache")  # 24 training images
    reports: list[int] = []

    def report(step: int, metrics: dict) -> bool:
        reports.append(step)
        return step == 2  # rank 0 stops; rank 1 must follow or the run fails

    ddp = train(
        tiny_config(distributed=True, training_batch_size=4, **SAME_MATH),
        ds,
        device=["cpu", "cpu"],
        report=report,
        output_dir=tmp_path / "out",
    )
    assert ddp.epochs_run == 2 and ddp.stop_reason is StopReason.REPORT
    assert reports == [1, 2]  # only rank 0 reports
    assert ddp.optimizer_steps == 6  # 12 images per rank, batches of 4, 2 epochs
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "best.safetensors",
        "metrics.jsonl",
    ]
    assert (tmp_path / "out" / "metrics.jsonl").read_text().count("\n") == 2

    single = train(
        tiny_config(training_batch_size=8, **SAME_MATH),
        ds,
        device="cpu",
        report=lambda step, metrics: step == 2,
    )
    assert single.best_epoch == ddp.best_epoch and single.optimizer_steps == 6
    for name, value in single.checkpoint.state_dict.items():
        torch.testing.assert_close(ddp.checkpoint.state_dict[name], value, atol=1e-5, rtol=1e-4)
    assert ddp.train_losses == pytest.approx(single.train_losses, rel=1e-4)


def test_distributed_off_uses_the_first_device_only() -> None:
    assert resolve_devices(["cpu", "cpu"], distributed=False) == [torch.device("cpu")]
    assert len(resolve_devices(["cpu", "cpu"], distributed=True)) == 2
    if torch.cuda.is_available():
        assert resolve_devices("cuda", distributed=False) == [torch.device("cuda", 0)]
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_devices("cuda", distributed=False)
    with pytest.raises(ValueError, match="not a device name"):
        resolve_devices("tpu", distributed=False)
