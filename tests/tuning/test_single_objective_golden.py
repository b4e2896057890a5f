"""A seeded single-objective sweep reproduces, bit for bit, the trials and decisions it made
before objectives and constraints existed (``data/single_objective_golden.json``, recorded on
the code before them, by running this test with ``RECORD_GOLDEN=1``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from helpers_sweep import tiny_space

from automl_vision import BanditPolicy, choice, tune, uniform

GOLDEN = Path(__file__).parent / "data" / "single_objective_golden.json"


def _rounded(value: Any) -> Any:
    return round(float(value), 9) if isinstance(value, float) else value


def snapshot(data: Path, output: Path) -> list[dict[str, Any]]:
    """The sweep's trials: ids, params, statuses, stop reasons, every report's metrics."""
    result = tune(
        data,
        search_space=tiny_space(
            learning_rate=uniform(0.01, 0.2), optimizer=choice("sgd", "adamw"), number_of_epochs=3
        ),
        sampling="random",
        policy=BanditPolicy(slack_factor=0.05, evaluation_interval=1, delay_evaluation=1),
        max_trials=4,
        seed=7,
        executor="inline",
        threads_per_trial=1,
        include_default_trial=False,
        output_dir=output,
        progress=False,
    )
    return [
        {
            "trial_id": t.trial_id,
            "params": {k: _rounded(v) for k, v in sorted(t.params.items())},
            "status": t.status.value,
            "stop_reason": t.stop_reason,
            "value": _rounded(t.value),
            "reports": [
                {
                    "step": r.step,
                    "value": _rounded(r.value),
                    "metrics": {k: _rounded(v) for k, v in sorted(r.model_metrics.items())},
                }
                for r in t.reports
            ],
        }
        for t in sorted(result.trials, key=lambda t: t.index)
    ]


def test_single_objective_sweep_unchanged(digits_folder, tmp_path) -> None:
    got = snapshot(digits_folder, tmp_path / "run")
    if os.environ.get("RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(GOLDEN.read_text())
