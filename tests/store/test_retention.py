"""Checkpoint retention: exactly the best k trials keep best.safetensors, both goals, across a resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_vision.store.retention import CheckpointRetention
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus


def _trial(tmp: Path, i: int, value: float) -> Trial:
    path = tmp / f"t{i}" / "best.safetensors"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    return Trial(
        trial_id=f"t{i}",
        index=i,
        params={},
        status=TrialStatus.COMPLETED,
        value=value,
        artifacts={"checkpoint": str(path)},
    )


@pytest.mark.parametrize(
    ("goal", "values", "kept"),
    [
        (PrimaryMetricGoal.MAXIMIZE, [0.5, 0.9, 0.1, 0.7, 0.8], {1, 3, 4}),
        (PrimaryMetricGoal.MINIMIZE, [0.5, 0.9, 0.1, 0.7, 0.8], {0, 2, 3}),
    ],
)
def test_top_k_kept_as_trials_finish(tmp_path, goal, values, kept) -> None:
    retention = CheckpointRetention(3, goal)
    trials = []
    for i, v in enumerate(values):
        trials.append(_trial(tmp_path, i, v))
        retention.trial_finished(trials[-1])
        assert sum(
            (tmp_path / f"t{j}" / "best.safetensors").is_file() for j in range(i + 1)
        ) == min(i + 1, 3)
    assert {i for i in range(5) if (tmp_path / f"t{i}" / "best.safetensors").is_file()} == kept


def test_a_shared_checkpoint_of_a_kept_trial_survives(tmp_path) -> None:
    a = _trial(tmp_path, 0, 0.9)
    reused = Trial(
        trial_id="t1",
        index=1,
        params={},
        status=TrialStatus.COMPLETED,
        value=0.9,
        artifacts={"checkpoint": a.artifacts["checkpoint"]},
    )
    CheckpointRetention(1, PrimaryMetricGoal.MAXIMIZE, [a, reused])
    assert Path(a.artifacts["checkpoint"]).is_file()


def _sweep(data: Path, out: Path, metric: str, trials: int):
    from automl_vision import tune

    space = {
        "model_name": "test_resnet",
        "number_of_epochs": 1,
        "training_crop_size": 16,
        "validation_crop_size": 16,
        "validation_resize_size": 16,
        "number_of_workers": 0,
        "learning_rate": "uniform(0.001, 0.1)",
        "training_batch_size": 16,
    }
    return tune(
        data,
        search_space=space,
        max_trials=trials,
        output_dir=out,
        progress=False,
        primary_metric=metric,
        keep_checkpoints=2,
        include_default_trial=False,
        training_options={"pretrained": False},
    )


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["accuracy", "log_loss"])  # maximize, minimize
def test_sweep_and_resume_keep_exactly_the_top_k(digits_folder, tmp_path, metric) -> None:
    from automl_vision.store.retention import ranked_with_checkpoints
    from automl_vision.store.sweep_dir import artifact_path

    out = tmp_path / "sweep"
    for total in (4, 6):  # the second call resumes the sweep and adds two trials
        result = _sweep(digits_folder, out, metric, total)
        files = sorted(out.glob("trials/*/best.safetensors"))
        assert len(files) == 2
        best = ranked_with_checkpoints(_all(result), result.goal, out)
        finished = sorted(
            (t for t in _all(result) if t.value is not None),
            key=lambda t: t.value,
            reverse=result.goal is PrimaryMetricGoal.MAXIMIZE,
        )
        assert {artifact_path(t, "checkpoint", out) for t in finished[:2]} == set(files)
        assert [t.trial_id for t in best] == [t.trial_id for t in finished[:2]]
        assert (out / "best.safetensors").resolve() == artifact_path(
            finished[0], "checkpoint", out
        ).resolve()


def _all(result) -> list[Trial]:
    from automl_vision.store.database import SweepStore

    store = SweepStore(result.output_dir / SweepStore.FILENAME)
    try:
        return store.load_trials()
    finally:
        store.close()
