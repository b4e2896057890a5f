"""Resumable training: ``resume.safetensors`` after every epoch, continued runs equal uninterrupted ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers_training import (
    assert_same_run,
    tiny_config,
    tiny_dataset,
)

from automl_vision.training import train
from automl_vision.training.checkpoint import load_checkpoint
from automl_vision.training.resume import (
    RESUME_FILE,
    CorruptCheckpointError,
    load_resume,
    save_resume,
)


class Interrupt(Exception):
    pass


def _interrupt_at(epoch: int, seen: list[int]):
    def report(step: int, metrics) -> bool:
        seen.append(step)
        if step == epoch:
            raise Interrupt
        return False

    return report


@pytest.mark.parametrize("schedule", ["warmup_cosine", "step"])
def test_resumed_run_is_bit_for_bit_an_uninterrupted_one(tmp_path: Path, schedule) -> None:
    data = tiny_dataset()
    config = tiny_config(
        number_of_epochs=4,
        learning_rate_scheduler=schedule,
        step_lr_step_size=1,
        early_stopping=True,
        early_stopping_delay=1,
        early_stopping_patience=10,
    )
    whole = train(config, data, output_dir=tmp_path / "whole")
    assert whole.resumed_from_epoch == 0
    seen: list[int] = []
    with pytest.raises(Interrupt):
        # interrupted after epoch 2's report: its resume.safetensors is not written, epoch 1's is
        train(config, data, output_dir=tmp_path / "cut", report=_interrupt_at(2, seen))
    assert load_resume(tmp_path / "cut" / RESUME_FILE)["epoch"] == 1
    later: list[int] = []
    resumed = train(
        config,
        data,
        output_dir=tmp_path / "cut",
        report=lambda step, m: later.append(step) and False,
        resume=True,
    )
    assert resumed.resumed_from_epoch == 1
    assert later == [2, 3, 4]  # epoch 1's report is not sent again
    assert_same_run(whole, resumed)
    best_whole = load_checkpoint(tmp_path / "whole" / "best.safetensors")
    best_cut = load_checkpoint(tmp_path / "cut" / "best.safetensors")
    assert best_whole.epoch == best_cut.epoch
    for key, value in best_whole.state_dict.items():
        assert torch.equal(value, best_cut.state_dict[key])
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()
    assert lines == (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()


def test_resume_with_half_the_batch_and_twice_the_accumulation(tmp_path: Path) -> None:
    data = tiny_dataset()
    config = tiny_config(number_of_epochs=3, training_batch_size=8)
    seen: list[int] = []
    with pytest.raises(Interrupt):
        train(config, data, output_dir=tmp_path, report=_interrupt_at(3, seen))
    steps_before = load_resume(tmp_path / RESUME_FILE)["step"]
    half = tiny_config(number_of_epochs=3, training_batch_size=4, gradient_accumulation_step=2)
    resumed = train(half, data, output_dir=tmp_path, resume=True)
    assert resumed.resumed_from_epoch == 2
    assert resumed.epochs_run == 3
    assert resumed.optimizer_steps - steps_before == steps_before // 2  # same steps per epoch
    assert resumed.config.gradient_accumulation_step == 2
    assert resumed.config.training_batch_size == 4


def test_a_finished_run_resumes_to_its_result_without_training(tmp_path: Path) -> None:
    data = tiny_dataset()
    config = tiny_config(number_of_epochs=2)
    first = train(config, data, output_dir=tmp_path)
    calls: list[int] = []
    again = train(
        config, data, output_dir=tmp_path, report=lambda s, m: calls.append(s), resume=True
    )
    assert calls == [] and again.resumed_from_epoch == 2
    assert_same_run(first, again)


def test_without_resume_a_stale_resume_file_is_discarded(tmp_path: Path) -> None:
    data = tiny_dataset()
    config = tiny_config(number_of_epochs=2)
    train(config, data, output_dir=tmp_path)
    fresh = train(config, data, output_dir=tmp_path)
    assert fresh.resumed_from_epoch == 0 and fresh.epochs_run == 2


def test_a_corrupt_resume_file_is_detected_and_named(tmp_path: Path) -> None:
    path = save_resume(tmp_path / RESUME_FILE, {"epoch": 1, "x": torch.ones(3)})
    assert load_resume(path)["epoch"] == 1
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptCheckpointError, match="resume.safetensors.*checksum"):
        load_resume(path)
    path.write_bytes(b"garbage")
    with pytest.raises(CorruptCheckpointError, match="resume.safetensors"):
        load_resume(path)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind
