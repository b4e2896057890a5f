"""Each report of the trainer carries its schedule progress, cost and device seconds
(``training/spend.py``), cumulative across resumes, and nothing else changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers_training import tiny_config, tiny_dataset

from automl_vision.metric_catalog import metric_spec, primary_metric
from automl_vision.training import train
from automl_vision.training.resume import RESUME_FILE, load_resume, save_resume
from automl_vision.training.spend import (
    DEVICE_SECONDS_KEY,
    SpendClock,
    schedule_progress,
)
from automl_vision.trial import COST_KEY, PROGRESS_KEY, Report

SPEND_KEYS = (PROGRESS_KEY, COST_KEY, DEVICE_SECONDS_KEY)


class Interrupt(Exception):
    pass


def _recorder(seen: list[tuple[int, dict]], interrupt_at: int | None = None):
    def report(step: int, metrics) -> bool:
        seen.append((step, dict(metrics)))
        if step == interrupt_at:
            raise Interrupt
        return False

    return report


def test_every_report_carries_progress_cost_and_device_seconds(tmp_path: Path) -> None:
    # a warm-up epoch and gradient accumulation: progress counts optimizer steps of the whole
    # schedule, warm-up included
    config = tiny_config(
        number_of_epochs=3,
        learning_rate_scheduler="warmup_cosine",
        warmup_cosine_lr_warmup_epochs=1,
        gradient_accumulation_step=2,
    )
    seen: list[tuple[int, dict]] = []
    result = train(config, tiny_dataset(), output_dir=tmp_path, report=_recorder(seen))
    assert [s for s, _ in seen] == [1, 2, 3]
    steps_per_epoch = result.optimizer_steps // 3
    assert [m[PROGRESS_KEY] for _, m in seen] == [
        steps_per_epoch * e / result.optimizer_steps for e in (1, 2, 3)
    ]
    assert seen[-1][1][PROGRESS_KEY] == 1.0
    costs = [m[COST_KEY] for _, m in seen]
    assert 0 < costs[0] < costs[1] < costs[2] <= result.timings["total"]
    # on the CPU, device seconds are the wall seconds
    assert [m[DEVICE_SECONDS_KEY] for _, m in seen] == costs
    reports = [Report(s, m["accuracy"], m) for s, m in seen]
    assert [r.progress for r in reports] == [m[PROGRESS_KEY] for _, m in seen]
    assert [r.cost for r in reports] == costs
    # the validation record stays validation metrics only (reproducible bit for bit)
    for _, metrics in result.history:
        assert not set(SPEND_KEYS) & set(metrics)
    assert not set(SPEND_KEYS) & set(result.best_metrics)
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines():
        assert not set(SPEND_KEYS) & set(json.loads(line))


@pytest.mark.parametrize(
    ("saved_spend", "at_least", "below"),
    [
        ({"seconds": 1000.0, "device_seconds": 900.0}, (1000.0, 900.0), None),  # continues
        (None, (0.0, 0.0), 1000.0),  # a resume state written before spend existed: from 0
        ({"seconds": "x", "device_seconds": -1.0}, (0.0, 0.0), 1000.0),  # malformed: from 0
    ],
)
def test_a_resumed_run_continues_its_counts_from_the_resume_state(
    tmp_path: Path, saved_spend, at_least, below
) -> None:
    data = tiny_dataset()
    config = tiny_config(number_of_epochs=3)
    first: list[tuple[int, dict]] = []
    with pytest.raises(Interrupt):
        train(config, data, output_dir=tmp_path, report=_recorder(first, interrupt_at=2))
    state = load_resume(tmp_path / RESUME_FILE)
    assert state["epoch"] == 1
    assert state["spend"]["seconds"] >= first[0][1][COST_KEY] > 0
    state.pop("spend")
    if saved_spend is not None:
        state["spend"] = saved_spend
    save_resume(tmp_path / RESUME_FILE, state)
    later: list[tuple[int, dict]] = []
    train(config, data, output_dir=tmp_path, report=_recorder(later), resume=True)
    assert [s for s, _ in later] == [2, 3]
    assert [m[PROGRESS_KEY] for _, m in later] == [2 / 3, 1.0]
    wall, device = later[0][1][COST_KEY], later[0][1][DEVICE_SECONDS_KEY]
    assert wall > at_least[0] and device > at_least[1]
    if below is not None:
        assert wall < below
    assert later[1][1][COST_KEY] > wall


@pytest.mark.parametrize("name", SPEND_KEYS)
def test_spend_keys_are_not_metrics_a_sweep_can_optimize(name: str) -> None:
    with pytest.raises(ValueError, match=f"primary_metric='{name}' is not a metric"):
        metric_spec(name)
    from automl_vision.data.task import Task

    for task in Task:
        with pytest.raises(ValueError, match="not a metric"):
            primary_metric(task, name)


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [(0, 10, 0.0), (5, 10, 0.5), (10, 10, 1.0), (12, 10, 1.0), (3, 0, 1.0)],
)
def test_schedule_progress(done: int, total: int, expected: float) -> None:
    assert schedule_progress(done, total) == expected


def test_clock_counts_closed_epochs_and_the_open_one() -> None:
    clock = SpendClock.restored(torch.device("cpu"), {"seconds": 2.0, "device_seconds": 1.0})
    assert clock.now() == (2.0, 1.0)
    clock.begin()
    wall, device = clock.now()
    assert wall > 2.0 and device > 1.0
    clock.end()
    assert clock.state()["seconds"] >= wall
