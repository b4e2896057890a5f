"""The configuration a retrained model trains: the tuning trial's params with the benchmark's
seed; on train+validation, one evaluation after the last epoch (its weights are kept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_vision.benchmarking.retrain import SEED_BASE, RetrainJob, _config
from automl_vision.benchmarking.spec import RetrainOn
from automl_vision.data.task import Task

PARAMS = {
    "model_name": "test_resnet",
    "number_of_epochs": 4,
    "early_stopping": True,
    "evaluation_frequency": 1,
    "learning_rate": 0.02,
    "random_seed": 5,  # a space that searched the seed: the benchmark's seeds replace it
}


@pytest.mark.parametrize(
    ("on", "frequency", "early_stopping"),
    [(RetrainOn.TRAIN, 1, True), (RetrainOn.TRAIN_VALIDATION, 4, False)],
)
def test_the_retraining_config(on, frequency, early_stopping) -> None:
    job = RetrainJob(
        cell="d/m",
        rank=1,
        seed=2,
        trial_id="trial_0003",
        params=PARAMS,
        primary_metric="iou",
        training_options={"pretrained": False},
        device="cpu",
        retrain_on=on,
        thresholds=None,
        folder=Path("unused"),
    )
    config = _config(job, Task.MULTILABEL)
    assert (config.evaluation_frequency, config.early_stopping) == (frequency, early_stopping)
    assert config.random_seed == SEED_BASE + 2
    assert (config.learning_rate, config.number_of_epochs) == (0.02, 4)
    assert (config.primary_metric, config.task) == ("iou", Task.MULTILABEL)
    assert str(config.pretrained) == "false"  # the method's training_options
