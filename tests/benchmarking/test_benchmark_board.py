"""The leaderboard built from the cells' saved test probabilities: the metrics of the selected
configuration's seeds, per-class rows, a paired comparison per metric whose ``better`` follows
the metric's goal, the configurations and compute tables, the primary metric's rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl_vision.benchmarking.board import build_leaderboard, primary_metric
from automl_vision.benchmarking.cells import Cell
from automl_vision.benchmarking.protocol import CellRun
from automl_vision.benchmarking.spec import DatasetSpec
from automl_vision.benchmarking.splits import fix_split
from automl_vision.data.task import Task
from automl_vision.trial import PrimaryMetricGoal

N = 60


@pytest.fixture(scope="module")
def split():
    images = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(N)])
    labels = [f"c{i % 3}" for i in range(N)]
    return fix_split(
        "d", DatasetSpec(data=(images, labels)), test_size=0.5, validation_size=0.2, seed=0
    )


def _run(root, split, method: str, probs_of_seed, primary="accuracy") -> CellRun:
    cell = Cell(root, "d", method)
    models = []
    for seed, probs in enumerate(probs_of_seed):
        folder = cell.model_dir(1, seed)
        folder.mkdir(parents=True)
        np.save(folder / "test_probs.npy", probs)
        record = {"seed": seed, "validation_value": 0.5, "thresholds": None, "seconds": 1.0}
        (folder / "result.json").write_text(json.dumps(record))
        models.append(record)
    ranked = [{"rank": 1, "trial_id": "trial_0000", "params": {"lr": 0.1}, "value": 0.5}]
    compute = {"trials": 2, "tune_seconds": 3.0, "retrain_seconds": 2.0, "retrained_models": 2}
    return CellRun(cell, primary, PrimaryMetricGoal.MAXIMIZE, ranked, {1: models}, 1, compute)


def _probs(split, right: float, seed: int) -> np.ndarray:
    """Probabilities that put ``right`` on the true class of a random share of the images."""
    rng = np.random.default_rng(seed)
    targets = split.test_targets()
    out = np.full((len(targets), 3), (1 - right) / 2)
    out[np.arange(len(targets)), targets] = right
    wrong = rng.random(len(targets)) < 0.1
    out[wrong] = out[wrong][:, ::-1]
    return out


def test_the_board_scores_the_seeds_and_compares_methods_by_their_goals(tmp_path, split) -> None:
    # both seeds' models alike, so that only the test images' uncertainty is left: with two
    # seeds that disagree the seed part of the interval (one degree of freedom) is wide
    good = _run(tmp_path, split, "good", [_probs(split, 0.9, 0)] * 2)
    bad = _run(tmp_path, split, "bad", [np.full((len(split.test), 3), 1 / 3)] * 2)
    protocol = {"retrain_on": "train_validation", "level": 0.95}
    board = build_leaderboard(
        {"d": split}, {"d": [good, bad]}, bootstrap=200, level=0.95, protocol=protocol
    )
    assert board.primary_metric == {"d": "accuracy"}
    rows = {(r.method, r.metric): r for r in board.rows}
    assert rows[("good", "accuracy")].mean > 0.8 and rows[("good", "accuracy")].n_seeds == 2
    assert {r.goal for r in board.rows if r.metric == "log_loss"} == {PrimaryMetricGoal.MINIMIZE}
    found = {c.metric: c for c in board.comparisons}
    assert (found["accuracy"].method_a, found["accuracy"].method_b) == ("good", "bad")
    assert found["accuracy"].difference > 0 and found["accuracy"].better == "good"
    # lower is better: good's log loss is lower, so the difference is negative and good wins
    assert found["log_loss"].difference < 0 and found["log_loss"].better == "good"
    assert {(c.method, c.class_name) for c in board.per_class if c.metric == "ap"} == {
        (m, c) for m in ("good", "bad") for c in ("c0", "c1", "c2")
    }
    assert [(c.method, c.rank, c.selected) for c in board.configs] == [
        ("good", 1, True),
        ("bad", 1, True),
    ]
    assert [(c.method, c.trials, c.retrained_models) for c in board.compute] == [
        ("good", 2, 2),
        ("bad", 2, 2),
    ]


def test_a_tie_is_not_called_better(tmp_path, split) -> None:
    same = [_probs(split, 0.8, s) for s in range(2)]
    runs = [_run(tmp_path, split, m, same) for m in ("a", "b")]
    board = build_leaderboard(
        {"d": split}, {"d": runs}, bootstrap=200, level=0.95, protocol={"retrain_on": "train"}
    )
    assert {c.better for c in board.comparisons} == {None}
    assert {c.difference for c in board.comparisons} == {0.0}


@pytest.mark.parametrize(
    ("task", "sweeps", "expected"),
    [
        (Task.MULTICLASS, ["accuracy", "accuracy"], "accuracy"),
        (Task.MULTICLASS, ["log_loss"], "log_loss"),
        (Task.MULTICLASS, ["accuracy", "log_loss"], "accuracy"),  # methods disagree
        (Task.MULTILABEL, ["iou"], "map_macro"),  # not a test metric: the task's default
        (Task.MULTILABEL, ["map", "map"], "map_macro"),  # the trainer's name of it
        (Task.MULTILABEL, ["f1_macro_tuned"], "f1_macro_tuned"),
    ],
)
def test_the_primary_metric_of_a_dataset(tmp_path, task, sweeps, expected) -> None:
    runs = [
        CellRun(Cell(tmp_path, "d", f"m{i}"), name, PrimaryMetricGoal.MAXIMIZE, [], {}, 1, {})
        for i, name in enumerate(sweeps)
    ]
    assert primary_metric(task, runs) == expected
