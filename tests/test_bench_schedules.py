"""The schedules benchmark: each trial replays its own row's schedule and cost, the budget is in
median full trainings, regret counts only trials that completed their schedule, and the script
runs end to end (tiny CIFAR- and DeBERTa-shaped files written here)."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import schedules  # noqa: E402

from automl_vision.sampling import RandomParameterSampling  # noqa: E402
from automl_vision.sampling.base import Suggestion  # noqa: E402
from automl_vision.scheduling.scheduler import Scheduler  # noqa: E402
from automl_vision.trial import COST_KEY, PROGRESS_KEY  # noqa: E402

EPOCHS = 6
CIFAR = "metaqnn_cifar10"
DEBERTA = "deberta-base_mnli"


def cifar_file(folder: Path, rows: int = 40) -> Path:
    rng = np.random.default_rng(0)
    path = folder / f"{CIFAR}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["num_params", "depth", "lr", *(f"acc_{e}" for e in range(1, EPOCHS + 1))])
        for _ in range(rows):
            top = rng.uniform(0.4, 0.9)
            acc = top * (1 - np.exp(-rng.uniform(0.3, 1.0) * np.arange(1, EPOCHS + 1)))
            lr = float(rng.choice([0.001, 0.0004]))
            size = int(10 ** rng.uniform(3, 7))
            writer.writerow([size, int(rng.integers(2, 12)), lr, *acc.round(4)])
    return path


def deberta_row(epochs: int, batch: int, lr: float, rng: np.random.Generator) -> dict:
    total = epochs * 96_000 // batch  # steps: a fixed number of examples per epoch
    steps = [*range(1000, total + 1, 1000), total]  # the end may repeat the last 1000-step report
    top = 0.9 - 30 * abs(math.log10(lr) + 4.5) ** 2 / 100 + 0.01 * epochs
    matched = [[s, float(top * (1 - math.exp(-3 * s / total)))] for s in steps]
    return {
        "num_train_epochs": epochs,
        "train_batch_size": batch,
        "total_model_steps": total,
        "learning_rate": lr,
        "warmup_steps": int(rng.uniform(0, 0.6) * total / epochs),
        "cls_drop_out": float(rng.uniform(0, 0.3)),
        "learning_curves": {"matched": matched, "mismatched": matched},
    }


def deberta_file(folder: Path, rows: int = 40) -> Path:
    rng = np.random.default_rng(1)
    path = folder / f"{DEBERTA}.jsonl"
    lines = [
        deberta_row(
            int(rng.integers(1, 5)),
            int(rng.integers(16, 65)),
            float(10 ** rng.uniform(-6, -3)),
            rng,
        )
        for _ in range(rows)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def curves(tmp_path: Path) -> Path:
    cifar_file(tmp_path)
    deberta_file(tmp_path)
    return tmp_path


def test_deberta_rows_replay_their_own_steps_progress_and_batch_cost(curves) -> None:
    problem = schedules.load_problem(curves, DEBERTA)
    rows = [json.loads(line) for line in (curves / f"{DEBERTA}.jsonl").read_text().splitlines()]
    median_batch = np.median([r["train_batch_size"] for r in rows])
    for row, curve in zip(rows, problem.curves, strict=True):
        steps = sorted({s for s, _ in row["learning_curves"]["matched"]})  # the end once
        assert len(curve.values) == len(steps)
        assert curve.progress[-1] == 1.0
        np.testing.assert_allclose(curve.progress, np.array(steps) / row["total_model_steps"])
        np.testing.assert_allclose(
            curve.cost, np.array(steps) * row["train_batch_size"] / median_batch
        )
    # one median full training is the budget's unit; cost grows with steps x batch
    assert problem.full_cost == pytest.approx(np.median([c.cost[-1] for c in problem.curves]))
    # a row's own configuration maps to that row, and to another once it is taken
    r = rows[3]
    params = {
        "num_train_epochs": r["num_train_epochs"],
        "train_batch_size": r["train_batch_size"],
        "learning_rate": r["learning_rate"],
        "warmup_fraction": r["warmup_steps"] / (r["total_model_steps"] / r["num_train_epochs"]),
        "cls_drop_out": r["cls_drop_out"],
    }
    assert problem.nearest(params, set()) == 3
    assert problem.nearest(params, {3}) != 3


def test_cifar_rows_report_each_epoch_at_one_cost_unit(curves) -> None:
    problem = schedules.load_problem(curves, CIFAR)
    assert problem.full_cost == EPOCHS
    for curve in problem.curves:
        np.testing.assert_allclose(curve.cost, np.arange(1, EPOCHS + 1))
        np.testing.assert_allclose(curve.progress, np.arange(1, EPOCHS + 1) / EPOCHS)


@pytest.mark.parametrize("dataset", [CIFAR, DEBERTA])
def test_every_report_carries_progress_and_cumulative_cost(curves, dataset) -> None:
    problem = schedules.load_problem(curves, dataset)
    executor = schedules.ReplayExecutor(problem, capacity=4, seed=0)
    outcome = Scheduler(
        RandomParameterSampling(problem.space, seed=0),
        executor,
        max_trials=6,
        primary_metric=schedules.METRIC,
    ).run()
    for trial in outcome.trials:
        curve = problem.curves[executor.rows[trial.trial_id]]
        progress = [r.metrics[PROGRESS_KEY] for r in trial.reports]
        cost = [r.metrics[COST_KEY] for r in trial.reports]
        np.testing.assert_allclose(progress, curve.progress)
        np.testing.assert_allclose(cost, curve.cost)
        assert progress[-1] == 1.0
    assert len(executor.completions) == 6
    assert executor.spent == pytest.approx(
        sum(problem.curves[r].cost[-1] for r in executor.rows.values())
    )


@pytest.mark.parametrize(
    ("full", "times", "expected"),
    [
        ([], 10, 0.9),  # nothing completed: the regret is the best accuracy itself
        ([[5.0, 0.5], [20.0, 0.8]], 10, 0.4),  # 10x of 1.0 = 10: only the first counts
        ([[5.0, 0.5], [20.0, 0.8]], 25, 0.1),
        ([[5.0, float("nan")], [9.0, 0.7]], 10, 0.2),  # a NaN final is no result
    ],
)
def test_regret_counts_trials_completed_within_the_budget(full, times, expected) -> None:
    record = {"best": 0.9, "full_cost": 1.0, "full": full}
    assert schedules.regret(record, times) == pytest.approx(expected)


@pytest.mark.parametrize("dataset", [CIFAR, DEBERTA])
@pytest.mark.parametrize(
    "method", ["random", "bayesian + hyperband", "optuna TPE + HyperbandPruner"]
)
def test_a_one_seed_search_spends_its_budget(curves, dataset, method) -> None:
    if method.startswith("optuna"):
        pytest.importorskip("optuna")
    if method == "DEHB":  # its own environment (the module docstring)
        pytest.importorskip("dehb")
    record = schedules.run((str(curves), dataset, method, 0))
    limit = max(schedules.BUDGETS) * record["full_cost"]
    # the run ends once the budget is spent (or every row has been started)
    assert record["spent"] >= limit or record["started"] == 40
    assert record["full"], "some trial completed its schedule"
    assert all(spent <= record["spent"] for spent, _ in record["full"])
    assert 0 <= record["regret"]["25"] <= record["regret"]["10"] <= record["best"]


def test_the_cli_runs_tables_and_plots(curves, tmp_path, capsys) -> None:
    pytest.importorskip("optuna")
    out = tmp_path / "runs.jsonl"
    argv = [str(curves), "--seeds", "1", "--datasets", CIFAR, DEBERTA]
    argv += ["--methods", "random", "optuna TPE", "syne-tune DyHPO", "--results", str(out)]
    assert schedules.main(argv) == 0
    text = capsys.readouterr().out
    assert "skipped syne-tune DyHPO: Syne Tune's DyHPO pauses" in text
    assert "| random | 1 |" in text and "| optuna TPE | 1 |" in text
    assert "### Summed median regret" in text
    assert len(out.read_text().splitlines()) == 2 * 2  # files x runnable methods
    assert schedules.main([*argv, "--table", "--plot", str(tmp_path / "plots")]) == 0
    assert len(out.read_text().splitlines()) == 4  # --table runs nothing
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        f"schedules_{DEBERTA}.png",
        f"schedules_{CIFAR}.png",
    ]


def test_a_missing_file_is_refused_by_name(tmp_path) -> None:
    with pytest.raises(ValueError, match="no nowhere.csv or nowhere.jsonl"):
        schedules.load_problem(tmp_path, "nowhere")


@pytest.mark.parametrize(("reruns", "same_row"), [(False, False), (True, True)])
def test_the_same_configuration_trains_the_same_row_only_for_a_method_that_retrains(
    curves, reruns, same_row
) -> None:
    """Without replacement by default; DEHB retrains a promoted configuration from scratch, so
    with ``reruns`` the same parameters train (and pay for) their row again."""
    problem = schedules.load_problem(curves, CIFAR)
    executor = schedules.ReplayExecutor(problem, capacity=4, seed=0)
    executor.reruns = reruns
    params = {"num_params": 5000.0, "depth": 4.0, "lr": 0.001}

    class Twice(RandomParameterSampling):
        def suggest(self, history, goal, rng):
            return Suggestion(dict(params))

    Scheduler(
        Twice(problem.space, seed=0), executor, max_trials=2, primary_metric=schedules.METRIC
    ).run()
    first, second = executor.rows.values()
    assert (first == second) is same_row
    assert executor.spent == pytest.approx(
        problem.curves[first].cost[-1] + problem.curves[second].cost[-1]
    )
