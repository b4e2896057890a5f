"""The benchmark protocol end to end on a tiny multilabel dataset with a given test set: what the
leaderboard holds, that the test split never reaches tuning or threshold selection (the test
labels poisoned, everything before the test scores unchanged), and that a changed protocol is
refused unless forced, a forced one re-running only what it changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers_bench_runs import METHOD, keys, write_data
from helpers_training import coloured_images

from automl_vision import TuneResult, benchmark, load_checkpoint
from automl_vision.benchmarking.cells import ProtocolChangedError
from automl_vision.store.sweep_dir import read_sweep

CELL = Path("cells") / "colours" / "grid"


def _run(paths, out, test="test_data", **more):
    return _run_keys(**keys(paths, out, test, **more))


def _run_keys(**keywords):
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the same reductions in both runs, whatever the fixture order
    try:
        return benchmark(**keywords)
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    return write_data(tmp_path_factory.mktemp("bench-data"))


@pytest.fixture(scope="module")
def clean(data, tmp_path_factory):
    return _run(data, tmp_path_factory.mktemp("bench") / "out")


@pytest.fixture(scope="module")
def poisoned(data, tmp_path_factory):
    return _run(data, tmp_path_factory.mktemp("bench-poisoned") / "out", test="poisoned")


def _sweep(out: Path) -> list:
    result = TuneResult.load(out / CELL / "sweep")
    return [
        (t.trial_id, t.params, t.value, [(r.step, r.model_metrics) for r in t.reports])
        for t in result.trials
    ]


def _models(out: Path) -> dict[str, dict]:
    found = {}
    for folder in sorted((out / CELL / "retrain").iterdir()):
        record = json.loads((folder / "result.json").read_text())
        found[folder.name] = {
            k: record[k] for k in ("validation_metrics", "validation_value", "thresholds", "params")
        }
    return found


def test_the_leaderboard_has_every_metric_with_its_interval(clean) -> None:
    rows = clean.leaderboard.rows
    assert {(r.dataset, r.method) for r in rows} == {("colours", "grid")}
    metrics = [r.metric for r in rows]
    assert {"map_macro", "f1_micro_tuned", "f1_macro_tuned", "log_loss"} <= set(metrics)
    for row in rows:
        assert row.n_seeds == 2
        assert row.ci_low <= row.mean <= row.ci_high or np.isnan(row.mean)
    out = clean.output_dir
    header = (out / "leaderboard.csv").read_text().splitlines()[0]
    assert header == "dataset,method,metric,mean,ci_low,ci_high,n_seeds"
    assert {c.class_name for c in clean.leaderboard.per_class} == {"blue", "green", "red"}
    assert [c.rank for c in clean.leaderboard.configs] == [1, 2]
    assert sum(c.selected for c in clean.leaderboard.configs) == 1
    (compute,) = clean.leaderboard.compute
    assert (compute.trials, compute.retrained_models) == (2, 4)
    split = json.loads((out / "datasets" / "colours" / "split.json").read_text())
    assert split["counts"]["train"] + split["counts"]["validation"] == 60
    assert abs(split["counts"]["validation"] - 12) <= 1 and split["counts"]["test"] == 20
    assert split["test"] == list(range(60, 80))
    assert json.loads((out / CELL / "cell.json").read_text())["state"] == "finished"
    for folder in (out / CELL / "retrain").iterdir():  # retrain_on=train: the model's own,
        model = json.loads((folder / "result.json").read_text())  # tuned on validation
        checkpoint = load_checkpoint(folder / "best.safetensors")
        assert model["thresholds"] == pytest.approx(checkpoint.class_thresholds, abs=1e-7)
        assert model["random_seed"] == 10_000 + model["seed"]
    assert "colours" in str(clean) and "map_macro" in str(clean)


def test_the_test_split_never_reaches_tuning_or_thresholds(clean, poisoned) -> None:
    """Poisoned test labels: the same sweep (trials, params, every reported metric), the same
    retrained models (validation metrics, thresholds, selection): only the test scores move."""
    a, b = clean.output_dir, poisoned.output_dir
    assert _sweep(a) == _sweep(b)
    fingerprint = [
        read_sweep(o / CELL / "sweep").meta["definition"]["data_fingerprint"] for o in (a, b)
    ]
    assert fingerprint[0] == fingerprint[1]
    assert _models(a) == _models(b)
    cells = [json.loads((o / CELL / "cell.json").read_text()) for o in (a, b)]
    assert cells[0]["selected_rank"] == cells[1]["selected_rank"]
    assert cells[0]["ranked"] == cells[1]["ranked"]
    for folder in (a / CELL / "retrain").iterdir():  # the same models predict the same images
        probs = np.load(folder / "test_probs.npy")
        assert np.array_equal(probs, np.load(b / CELL / "retrain" / folder.name / "test_probs.npy"))
    means = {(r.metric): r.mean for r in clean.leaderboard.rows}
    poisoned_means = {(r.metric): r.mean for r in poisoned.leaderboard.rows}
    assert means["map_macro"] != poisoned_means["map_macro"]
    split = [json.loads((o / "datasets" / "colours" / "split.json").read_text()) for o in (a, b)]
    assert split[0]["fingerprint"] != split[1]["fingerprint"]  # the test labels are in it


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seeds": 3}, "seeds 2 -> 3"),
        ({"top_k": 1}, "top_k 2 -> 1"),
        ({"retrain_on": "train_validation"}, "retrain_on train -> train_validation"),
        ({"level": 0.9}, "level 0.95 -> 0.9"),
        ({"split_seed": 1}, "the dataset or its split"),
        ({"methods": {"grid": {"max_trials": 1, "policy": "none"}}}, "the method's options"),
    ],
)
def test_a_changed_protocol_is_refused_before_anything_is_written(
    clean, data, tmp_path, change, named
) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean.output_dir, out)
    cell_json = (out / CELL / "cell.json").read_bytes()
    split_json = (out / "datasets" / "colours" / "split.json").read_bytes()
    with pytest.raises(ProtocolChangedError, match=f"cell colours/grid .*{named}") as err:
        _run(data, out, **change)
    assert "force" in str(err.value)
    assert (out / CELL / "cell.json").read_bytes() == cell_json
    assert (out / "datasets" / "colours" / "split.json").read_bytes() == split_json


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("rank*-seed*/result.json")}


def test_force_reruns_only_what_the_change_invalidates(clean, data, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(clean.output_dir, out)
    retrain = out / CELL / "retrain"
    before = _mtimes(retrain)
    trials = len(_sweep(out))

    more = _run(data, out, seeds=3, force=True)  # a seed added: the two finished ones kept
    after = _mtimes(retrain)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == {"rank1-seed2", "rank2-seed2"}
    assert len(_sweep(out)) == trials
    assert {r.n_seeds for r in more.leaderboard.rows} == {3}

    _run(data, out, seeds=3, retrain_on="train_validation", force=True)
    moved = out / "replaced" / "colours" / "grid-1"
    assert set(_mtimes(moved)) == set(after)  # the old models moved aside, kept
    assert set(_mtimes(retrain)) == set(after)  # and retrained under the new protocol
    record = json.loads((out / CELL / "cell.json").read_text())
    assert (record["state"], record["protocol"]["retrain_on"]) == ("finished", "train_validation")
    assert record["selected_rank"] == 1
    assert len(_sweep(out)) == trials
    # the thresholds are those the tuning trial tuned on the validation images
    tuned = {
        t.trial_id: t.artifacts["class_thresholds"]
        for t in TuneResult.load(out / CELL / "sweep").trials
    }
    for result in retrain.glob("rank*-seed*/result.json"):
        model = json.loads(result.read_text())
        expected = [tuned[model["trial_id"]][c] for c in model["class_names"]]
        assert model["thresholds"] == pytest.approx(expected, abs=1e-7)


def test_a_multiclass_benchmark_with_a_drawn_split_works_the_same_way(tmp_path) -> None:
    """In-memory multiclass arrays, the test split drawn (stratified) and the default retraining
    on train + validation: the multiclass metrics, each with its interval, and a split that
    keeps every class in every part."""
    images, labels = coloured_images(12, size=16)  # 36 images, 3 colours
    result = _run_keys(
        datasets={"colours": (images, labels)},
        methods={"grid": {**METHOD, "max_trials": 1}},
        seeds=2,
        bootstrap=100,
        output_dir=tmp_path / "out",
        progress=False,
    )
    rows = {r.metric: r for r in result.leaderboard.rows}
    assert set(rows) == {"accuracy", "accuracy_top5", "f1_macro", "log_loss"}
    assert result.leaderboard.primary_metric == {"colours": "accuracy"}
    for row in rows.values():
        assert row.n_seeds == 2 and row.ci_low <= row.mean <= row.ci_high
    split = json.loads((tmp_path / "out" / "datasets" / "colours" / "split.json").read_text())
    parts = [split[k] for k in ("train", "validation", "test")]
    assert sum(map(len, parts)) == 36 and not set(parts[0]) & set(parts[2])
    for part in parts:
        assert {labels[i] for i in part} == set(labels)  # every class in every part
    record = json.loads((tmp_path / "out" / "cells" / "colours" / "grid" / "cell.json").read_text())
    assert record["state"] == "finished"
