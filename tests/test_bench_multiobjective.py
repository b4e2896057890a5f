"""The multi-objective benchmark: its exact 2-D hypervolume, its fixed objective space, and a
one-seed search on a 30-row recorded-curve file written here (the script stays runnable)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import multiobjective  # noqa: E402

EPOCHS = 6
MAX_MIN = ("max", "min")


def curves_file(folder: Path, rows: int = 30, seed: int = 0) -> Path:
    """A metaqnn-shaped file: (num_params, depth, lr) and rising accuracy curves, the bigger
    models more accurate on average (so accuracy and size trade off)."""
    rng = np.random.default_rng(seed)
    path = folder / "metaqnn_cifar10.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["num_params", "depth", "lr", *(f"acc_{e}" for e in range(1, EPOCHS + 1))])
        for _ in range(rows):
            size = float(rng.uniform(3, 7))
            top = 0.3 + 0.08 * size + rng.normal(0, 0.05)
            t = np.arange(1, EPOCHS + 1)
            acc = top * (1 - np.exp(-rng.uniform(0.3, 1.0) * t))
            lr = float(rng.choice([0.001, 0.0004]))
            writer.writerow([int(10**size), int(rng.integers(2, 12)), lr, *acc.round(4)])
    return path


@pytest.mark.parametrize(
    ("points", "objectives", "reference", "expected"),
    [
        ([], MAX_MIN, (0.5, 1.0), 0.0),
        ([(0.8, 0.2)], MAX_MIN, (0.5, 1.0), 0.3 * 0.8),
        # a second point on the front adds its own strip
        ([(0.8, 0.2), (0.6, 0.1)], MAX_MIN, (0.5, 1.0), 0.3 * 0.8 + 0.1 * 0.1),
        # dominated, duplicated and tied points add nothing
        ([(0.8, 0.2), (0.7, 0.5), (0.8, 0.2), (0.8, 0.3), (0.6, 0.2)], MAX_MIN, (0.5, 1.0), 0.24),
        # no better than the reference in one objective: nothing
        ([(0.5, 0.1), (0.9, 1.0), (0.4, 0.0)], MAX_MIN, (0.5, 1.0), 0.0),
        # both minimized, both maximized
        ([(1.0, 2.0), (2.0, 1.0)], ("min", "min"), (3.0, 3.0), 3.0),
        ([(1.0, 2.0), (2.0, 1.0)], ("max", "max"), (0.0, 0.0), 3.0),
    ],
)
def test_hypervolume(points, objectives, reference, expected) -> None:
    got = multiobjective.hypervolume(points, objectives, reference)
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("objectives", "reference", "message"),
    [
        (("max", "min", "min"), (0.0, 1.0, 1.0), "two-objective"),
        (("max", "lowest"), (0.0, 1.0), "'lowest'"),
    ],
)
def test_hypervolume_refuses_what_it_cannot_measure(objectives, reference, message) -> None:
    with pytest.raises(ValueError, match=message):
        multiobjective.hypervolume([(0.5, 0.5)], objectives, reference)


def test_the_objective_space_is_the_files_own(tmp_path) -> None:
    problem = multiobjective.Problem(curves_file(tmp_path))
    objectives = multiobjective.Objectives.of(problem)
    assert objectives.reference == (pytest.approx(np.percentile(problem.curves[:, -1], 5)), 1.0)
    assert objectives.cost(problem.log_params.min()) == pytest.approx(0.0)
    assert objectives.cost(problem.log_params.max()) == pytest.approx(1.0)
    assert 0 < objectives.ceiling < 1


@pytest.mark.parametrize(
    "method",
    ["random", "optuna TPE", "optuna NSGA-II", "automl_vision", "automl_vision (scalarization)"],
)
def test_a_one_seed_search_gives_one_record_per_budget(tmp_path, method) -> None:
    if method.startswith("optuna"):
        pytest.importorskip("optuna")
    records = multiobjective.run((str(curves_file(tmp_path)), method, 0))
    assert [r["budget"] for r in records] == list(multiobjective.BUDGETS)
    small, large = records
    assert 0 < small["hypervolume"] <= large["hypervolume"] <= large["ceiling"]
    assert 0 < small["completed"] <= large["completed"]
    for r in records:  # every completed trial fits the budget, 4 running at a time
        assert r["completed"] * EPOCHS <= r["budget_epochs"]
        assert r["hypervolume"] == pytest.approx(
            multiobjective.hypervolume(r["points"], MAX_MIN, r["reference"])
        )


def test_the_cli_runs_our_method_beside_random_and_tables_both(tmp_path, capsys) -> None:
    out = tmp_path / "mo.jsonl"
    argv = [str(curves_file(tmp_path).parent), "--seeds", "2", "--workers", "1"]
    argv += ["--datasets", "metaqnn_cifar10", "--methods", "random", "automl_vision"]
    assert multiobjective.main([*argv, "--results", str(out)]) == 0
    text = capsys.readouterr().out
    assert "skipped" not in text
    assert "| random | 2 |" in text and "| automl_vision | 2 |" in text
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 2 * 2 * len(multiobjective.BUDGETS)  # methods x seeds x budgets
    assert multiobjective.main([*argv, "--results", str(out), "--table"]) == 0
    assert "| random | 2 |" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == len(lines)  # --table runs nothing


def test_an_unknown_method_is_refused_with_the_known_ones(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        multiobjective.main([str(tmp_path), "--methods", "moasha"])
    assert "unknown 'moasha'; known: random" in capsys.readouterr().err
