"""The public surface of automl_vision, measured from the outside: what a user can name.

``measure()`` returns it as plain JSON-able data: the names in ``automl_vision.__all__`` and
the parameter names of each public callable, every command of the CLI with its options (and
its ``--help`` text, kept for a reader of the snapshot), and every key a sweep job YAML accepts
(with a value that is valid there, so that the test can check the key is still accepted by
loading it), the early-termination types with their keys, and the search-space fields.

``python tests/surface/public_surface.py`` rewrites ``public_surface.json``: run it only to
record additions; ``test_public_surface.py`` fails when anything recorded there disappears.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).with_name("public_surface.json")

#: every key of a sweep job, by its dotted place in the YAML, with a value valid there;
#: "<data>" stands for an existing folder of images (the test makes one)
JOB_KEYS: dict[str, Any] = {
    "$schema": "https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json",
    "type": "automl",
    "experiment_name": "x",
    "description": "x",
    "display_name": "x",
    "tags": {"a": "b"},
    "log_verbosity": "debug",
    "outputs": {"best_model": {"type": "mlflow_model"}},
    "compute": "azureml:gpu-cluster",
    "resources": {"instance_count": 1},
    "task": "image_classification",
    "primary_metric": "accuracy",
    "goal": "maximize",
    "target_column_name": "label",
    "allow_outside_root": True,
    "training_data": {"path": "<data>", "type": "uri_folder"},
    "training_data.path": "<data>",
    "training_data.type": "uri_folder",
    "validation_data": {"path": "<data>", "type": "uri_folder"},
    "validation_data_size": 0.25,
    "limits.max_trials": 3,
    "limits.max_total_trials": 3,
    "limits.max_concurrent_trials": 1,
    "limits.recycle_workers_after": 2,
    "limits.timeout_minutes": 5,
    "limits.timeout": 300,
    "limits.trial_timeout_minutes": 2,
    "limits.trial_timeout": 120,
    "limits.max_consecutive_failures": 4,
    "limits.target_value": 0.9,
    "limits.no_improvement_trials": 3,
    "limits.min_improvement": 0.02,
    "sweep.sampling_algorithm": "grid",
    "sweep.early_termination": {"type": "bandit", "slack_factor": 0.2},
    "sweep.seed": 3,
    "training_parameters": {"number_of_epochs": 2, "pretrained": False},
    "log_to": ["tensorboard"],
    "executor": "process",
    "search_space": [{"learning_rate": "uniform(0.001, 0.01)"}],
}


def _parameters(obj: Any) -> list[str] | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p.name for p in signature.parameters.values()]


def python_surface() -> dict[str, Any]:
    import automl_vision

    out: dict[str, Any] = {}
    for name in sorted(automl_vision.__all__):
        value = getattr(automl_vision, name)
        params = _parameters(value) if callable(value) else None
        out[name] = {"kind": type(value).__name__, "parameters": params}
    return out


def tune_options() -> list[str]:
    """Every keyword option of ``tune`` (those of its spec and its own)."""
    from automl_vision import SweepSpec, tune

    own = [p for p in _parameters(tune) or [] if p not in ("options",)]
    return sorted({*own, *SweepSpec.model_fields})


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    flags: list[str] = []
    positionals: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            positionals.append(action.dest)
        elif action.option_strings:
            flags += action.option_strings
        else:
            positionals.append(action.dest)
    return {"flags": sorted(flags), "positionals": positionals}


def cli_surface() -> dict[str, Any]:
    from automl_vision.cli import build_parser

    parser = build_parser()
    out: dict[str, Any] = {"": {**_options(parser), "help": parser.format_help()}}
    for name, sub in sorted(_commands(parser).items()):
        entry: dict[str, Any] = {**_options(sub), "help": sub.format_help()}
        nested = _commands(sub)
        if nested:
            entry["commands"] = {n: _options(p) for n, p in sorted(nested.items())}
        out[name] = entry
    return out


def policy_surface() -> dict[str, Any]:
    """Each early-termination type with a dict that sets every key it accepts."""
    return {
        "bandit": {"type": "bandit", "slack_factor": 0.2, "evaluation_interval": 2,
                   "delay_evaluation": 3, "schedule_aware": True},
        "bandit_amount": {"type": "bandit", "slack_amount": 0.1},
        "median_stopping": {"type": "median_stopping", "evaluation_interval": 1,
                            "delay_evaluation": 4, "schedule_aware": False},
        "truncation_selection": {"type": "truncation_selection", "truncation_percentage": 20,
                                 "evaluation_interval": 1, "delay_evaluation": 2,
                                 "exclude_finished_jobs": True, "schedule_aware": False},
        "hyperband": {"type": "hyperband", "min_resource": 1, "max_resource": 27,
                      "reduction_factor": 3, "brackets": 2, "schedule_aware": False,
                      "promotion": True, "rung_system": "shared"},
        "asha": {"type": "asha", "min_resource": 1, "max_resource": 9, "reduction_factor": 3,
                 "schedule_aware": True, "promotion": False},
        "no_termination": {"type": "no_termination"},
        "none": {"type": "none"},
    }  # fmt: skip


def measure() -> dict[str, Any]:
    from automl_vision import ImageClassificationSearchSpace, optimize, plan_sweep

    return {
        "python": python_surface(),
        "tune_options": tune_options(),
        "optimize_parameters": _parameters(optimize),
        "plan_sweep_parameters": _parameters(plan_sweep),
        "cli": cli_surface(),
        "job_keys": JOB_KEYS,
        "policies": policy_surface(),
        "search_space_fields": sorted(ImageClassificationSearchSpace.model_fields),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    SNAPSHOT.write_text(json.dumps(measure(), indent=1, sort_keys=True) + "\n")
    print(f"written {SNAPSHOT}")
