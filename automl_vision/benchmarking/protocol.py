"""One cell of the protocol: tune the method on the dataset's train/validation split, retrain
its top configurations with the benchmark's seeds, evaluate them on the test images.

``run_cell`` goes through the cell's phases, recording each in ``cell.json``:

1. tuning: ``tune(split.tuning_dataset(), output_dir=<cell>/sweep, **method options)`` (an
   ordinary sweep; a killed one resumes where it stopped, its finished trials kept);
2. retraining: the ``top_k`` configurations (``ranking.top_trials``), each with seeds
   ``0..K-1`` (``retrain.retrain``); a model whose ``result.json`` exists is not retrained;
3. finished: the selected rank (``ranking.select_rank``) and the compute spent are recorded.

A finished cell under the same protocol is read back, never run again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automl_vision.benchmarking.cells import Cell, CellState
from automl_vision.benchmarking.ranking import select_rank, top_trials
from automl_vision.benchmarking.retrain import RetrainJob, read_result, retrain
from automl_vision.benchmarking.spec import RetrainOn
from automl_vision.benchmarking.splits import FixedSplit
from automl_vision.config.options import SweepOptions
from automl_vision.reporting.result import NoTrialValueError, TuneResult
from automl_vision.trial import PrimaryMetricGoal, Trial
from automl_vision.tuning.tune import tune

__all__ = ["CellRun", "run_cell"]

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass(frozen=True)
class CellRun:
    """What a cell produced: the sweep's metric and goal, its ranked configurations (rank,
    trial_id, params, value), each rank's retrained models (``result.json`` records, seed
    order), the selected rank and the compute spent."""

    cell: Cell
    primary_metric: str
    goal: PrimaryMetricGoal
    ranked: list[dict[str, Any]]
    models: dict[int, list[dict[str, Any]]]
    selected_rank: int
    compute: dict[str, Any]


def _tune_seconds(trials: list[Trial]) -> float:
    total = 0.0
    for t in trials:
        seconds = t.artifacts.get("seconds")
        if isinstance(seconds, (int, float)) and math.isfinite(seconds):
            total += float(seconds)
        elif t.started_at is not None and t.finished_at is not None:
            total += max(0.0, t.finished_at - t.started_at)
    return total


def _thresholds(trial: Trial, split: FixedSplit, cell: Cell) -> list[float] | None:
    """The per-class thresholds the tuning trial tuned on the validation images."""
    if split.task.value != "multilabel":
        return None
    found = trial.artifacts.get("class_thresholds")
    if isinstance(found, dict) and all(name in found for name in split.class_names):
        return [float(found[name]) for name in split.class_names]
    log.warning(
        "cell %s: trial %s recorded no tuned thresholds; its models predict at 0.5",
        cell.name,
        trial.trial_id,
    )
    return [0.5] * len(split.class_names)


def _sweep(cell: Cell, split: FixedSplit, options: dict[str, Any], progress: bool) -> TuneResult:
    result = tune(split.tuning_dataset(), output_dir=cell.sweep_dir, progress=progress, **options)
    assert isinstance(result, TuneResult)
    return result


def run_cell(
    cell: Cell,
    split: FixedSplit,
    options: dict[str, Any],
    protocol: dict[str, Any],
    *,
    seeds: int,
    top_k: int,
    retrain_on: RetrainOn,
    progress: bool,
    say: Say,
) -> CellRun:
    """Run (or read back) ``cell`` under ``protocol`` (see the module docstring)."""
    record = cell.read()
    if record is not None and cell.finished(protocol):
        say(f"cell {cell.name}: finished earlier, kept")
        return _read_back(cell, record, seeds)
    state = record.get("state") if record is not None else None
    if state in (None, CellState.TUNING.value):
        cell.write(protocol, CellState.TUNING)
        say(f"cell {cell.name}: tuning on {len(split.train)} training and "
            f"{len(split.validation)} validation images")  # fmt: skip
        result = _sweep(cell, split, options, progress)
    else:
        say(f"cell {cell.name}: sweep finished earlier, kept")
        result = TuneResult.load(cell.sweep_dir)
    ranked_trials = top_trials(result.trials, result.goal, top_k)
    if not ranked_trials:
        raise NoTrialValueError(
            f"cell {cell.name}: no trial of its sweep produced a value ({len(result.trials)} "
            f"trials; see {cell.sweep_dir})"
        )
    if len(ranked_trials) < top_k:
        log.warning(
            "cell %s: top_k=%d but the sweep has %d configurations with a value; retraining "
            "those", cell.name, top_k, len(ranked_trials),
        )  # fmt: skip
    ranked = [
        {"rank": r, "trial_id": t.trial_id, "params": dict(t.params), "value": t.value}
        for r, t in enumerate(ranked_trials, start=1)
    ]
    compute = {"trials": len(result.trials), "tune_seconds": _tune_seconds(result.trials)}
    facts = {"primary_metric": result.primary_metric, "goal": result.goal.value, "ranked": ranked}
    cell.write(protocol, CellState.RETRAINING, **facts, compute=compute)
    models = _retrain_all(cell, split, options, result, ranked_trials, seeds, retrain_on, say)
    validation = {r: [m["validation_value"] for m in ms] for r, ms in models.items()}
    selected = select_rank(validation, result.goal, retrain_on)
    compute |= {
        "retrain_seconds": sum(m["seconds"] for ms in models.values() for m in ms),
        "retrained_models": sum(len(ms) for ms in models.values()),
    }
    cell.write(protocol, CellState.FINISHED, **facts, compute=compute, selected_rank=selected)
    say(
        f"cell {cell.name}: finished; rank {selected} selected ({ranked[selected - 1]['trial_id']})"
    )
    return CellRun(cell, result.primary_metric, result.goal, ranked, models, selected, compute)


def _retrain_all(
    cell: Cell,
    split: FixedSplit,
    options: dict[str, Any],
    result: TuneResult,
    ranked: list[Trial],
    seeds: int,
    retrain_on: RetrainOn,
    say: Say,
) -> dict[int, list[dict[str, Any]]]:
    validated = SweepOptions(data="<benchmark>", **options)
    dataset = split.retraining_dataset(retrain_on)
    inputs = split.test_inputs()
    total = len(ranked) * seeds
    models: dict[int, list[dict[str, Any]]] = {}
    done = 0
    for rank, trial in enumerate(ranked, start=1):
        models[rank] = []
        for seed in range(seeds):
            done += 1
            job = RetrainJob(
                cell=cell.name,
                rank=rank,
                seed=seed,
                trial_id=trial.trial_id,
                params=trial.params,
                primary_metric=result.primary_metric,
                training_options=validated.training_options,
                device=validated.device.value,
                retrain_on=retrain_on,
                thresholds=_thresholds(trial, split, cell),
                folder=cell.model_dir(rank, seed),
            )
            record = read_result(job.folder)
            if record is None:
                say(f"cell {cell.name}: retraining rank {rank} ({trial.trial_id}) seed {seed} "
                    f"({done}/{total}) on {retrain_on.value}")  # fmt: skip
                record = retrain(job, dataset, inputs)
                say(f"cell {cell.name}: rank {rank} seed {seed} done in {record['seconds']:.1f} s")
            models[rank].append(record)
    return models


def _read_back(cell: Cell, record: dict[str, Any], seeds: int) -> CellRun:
    ranked = list(record["ranked"])
    models = {
        int(r["rank"]): [read_result(cell.model_dir(int(r["rank"]), s)) or {} for s in range(seeds)]
        for r in ranked
    }
    missing = [f"rank{r}-seed{s}" for r, ms in models.items() for s, m in enumerate(ms) if not m]
    if missing:
        raise ValueError(
            f"cell {cell.name}: cell.json says finished but {', '.join(missing)} has no "
            f"{'result.json'}; remove {cell.folder / 'cell.json'} to run the cell again"
        )
    return CellRun(
        cell,
        str(record["primary_metric"]),
        PrimaryMetricGoal.parse(record["goal"]),
        ranked,
        models,
        int(record["selected_rank"]),
        dict(record["compute"]),
    )
