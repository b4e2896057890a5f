"""The multi-fidelity benchmarks stay runnable (tiny recorded-curve files written here), and
their Optuna peer without a pruner prunes nothing (Optuna's default is a MedianPruner)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import multifidelity  # noqa: E402
import multifidelity_trials  # noqa: E402

EPOCHS = 9


def curves_file(folder: Path, rows: int = 40, seed: int = 0) -> Path:
    """A deep_resnets-shaped file: (num_params, lr) and 9 rising, crossing accuracy curves."""
    rng = np.random.default_rng(seed)
    path = folder / "deep_resnets_cifar10.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["num_params", "lr", *(f"acc_{e}" for e in range(EPOCHS))])
        for _ in range(rows):
            top, rate = rng.uniform(0.5, 0.9), rng.uniform(0.1, 1.0)
            t = np.arange(1, EPOCHS + 1)
            acc = top * (1 - np.exp(-rate * t)) + rng.normal(0, 0.01, EPOCHS)
            lr = float(rng.choice([0.001, 0.0004]))
            writer.writerow([int(rng.integers(10**5, 2 * 10**6)), lr, *acc.round(4)])
    return path


@pytest.mark.parametrize("method", ["random + hyperband (first rung E/9)",
                                    "bayesian + asha (promotion)", "optuna TPE"])  # fmt: skip
def test_an_epoch_budgeted_search_runs_and_trains_some_trials_fully(tmp_path, method) -> None:
    pytest.importorskip("optuna")
    result = multifidelity.run((str(curves_file(tmp_path)), method, 0))
    budget = max(multifidelity.BUDGETS) * EPOCHS
    assert result["full"] and all(spent <= budget + 4 * EPOCHS for spent, _ in result["full"])
    assert 0 <= multifidelity.regret(result, budget) <= result["best"]


def test_optuna_without_a_pruner_stops_nothing(tmp_path) -> None:
    pytest.importorskip("optuna")
    path = curves_file(tmp_path)
    result = multifidelity_trials.run((str(path), "optuna TPE", 0, 12))
    assert result["full"] == 12 and result["share"] == pytest.approx(1.0)
    pruned = multifidelity_trials.run((str(path), "optuna TPE + HyperbandPruner", 0, 12))
    assert pruned["share"] < 1.0


def test_a_trial_bounded_promotion_search_ends_with_a_fully_trained_trial(tmp_path) -> None:
    result = multifidelity_trials.run(
        (str(curves_file(tmp_path)), "bayesian + asha (promotion)", 0, 5)
    )
    assert result["full"] >= 1 and result["share"] < 1.0


def test_the_anytime_plot_is_written(tmp_path) -> None:
    result = multifidelity.run((str(curves_file(tmp_path)), "random + asha", 0))
    path = tmp_path / "anytime.png"
    multifidelity.plot([result], ["deep_resnets_cifar10"], ["random + asha"], path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
