"""Every sweep option has one definition (``config/options.py``) and three ways in: a keyword,
its key in a job file and its flag. Each is reachable all three ways, gives the same value, and
a bad value gets the same line (the job file names the option by its key, the flag's line is
argparse's ``argument --flag: <the line>``). Nothing else declares an option."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from automl_vision.cli import build_parser, main
from automl_vision.config.job import AZURE_ONLY_KEYS, Limits, SweepJob, SweepSettings
from automl_vision.config.options import OptionError, SweepOptions
from automl_vision.config.spec import SweepSpec
from automl_vision.config.surfaces import Form

SURFACES = SweepOptions.surfaces()
#: options a job file writes in a shape of Azure's own (data as {path, type}, Azure's task
#: names, a list of spaces): reachable, but not compared value for value
AZURE_SHAPED = {"data", "task", "validation_data", "search_space"}
RAY = {"executor": "ray"}

#: option -> (a good value, a bad value or None when only planning can tell, options it needs)
TABLE: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "sampling": ("grid", "annealing", {}),
    "policy": ("bandit:slack_factor=0.2", "bandit:slack_factor=-1", {}),
    "primary_metric": ("accuracy", None, {}),
    "goal": ("minimize", "up", {}),
    "objectives": ("accuracy=max,latency_ms=min", "accuracy=up", {}),
    "constraints": ("params_m=25,latency_ms=10", "latency_ms=fast", {}),
    "max_trials": (6, 0, {}),
    "max_concurrent_trials": (2, 0, {}),
    "timeout": (30, 0, {}),  # minutes in a job file and a flag
    "trial_timeout": (5, -1, {}),
    "output_dir": ("runs/x", None, {}),
    "device": ("cpu", "tpu", {}),
    "seed": (7, -1, {}),
    "validation_size": (0.25, 1.5, {}),
    "target_value": (0.9, "abc", {}),
    "no_improvement_trials": (4, 0, {}),
    "min_improvement": (0.02, -0.1, {}),
    "max_consecutive_failures": (3, 0, {}),
    "warm_start_from": (["runs/a", "runs/b"], None, {}),
    "reuse_from": (["runs/a"], None, {}),
    "include_default_trial": (False, None, {}),
    "export_onnx": (True, None, {}),
    "training_options": ("pretrained=false,amp=true", "pretrained=maybe", {}),
    "cache_dir": ("cache", None, {}),
    "target_column_name": ("labels", None, {}),
    "allow_outside_root": (True, None, {}),
    "keep_checkpoints": (2, 0, {}),
    "threads_per_trial": (2, 0, {}),
    "recycle_workers_after": (2, 0, {}),
    "log_to": ("tensorboard", "wandb", {}),
    "executor": ("process", "gpu-farm", {}),
    "ray_address": ("auto", "head", RAY),
    "resources_per_trial": ("cpu=2,gpu=0.5", "cpu=0", RAY),
}


def _keyword(name: str, value: Any) -> Any:
    """The value as a Python caller writes it (the text forms parsed as a job file would)."""
    form = SURFACES[name].form
    if form is Form.PAIRS:
        return {k: yaml.safe_load(v) for k, v in (p.split("=") for p in value.split(","))}
    if name == "policy":
        kind, _, rest = value.partition(":")
        return {"type": kind, **{k: yaml.safe_load(v) for k, v in (rest.split("="),)}}
    return value


def _yaml_value(name: str, value: Any) -> Any:
    return _keyword(name, value)


def _flag(name: str, value: Any) -> list[str]:
    option = SURFACES[name]
    flag = option.flag_name(name)
    if option.form is Form.SWITCH:
        return [flag if value else "--no-" + flag.removeprefix("--")]
    if option.form is Form.LIST:
        return [flag, *value]
    return [flag, str(value)]


def _job(tmp_path: Path, name: str, value: Any, data: Path, extra: dict[str, Any]) -> Path:
    job: dict[str, Any] = {"training_data": {"path": str(data)}}
    for key, given in {**{k: v for k, v in extra.items()}, name: value}.items():
        *sections, leaf = SURFACES[key].yaml.split(".")
        node = job
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = _yaml_value(key, given)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    return path


@pytest.mark.parametrize("name", sorted(TABLE))
def test_an_option_is_the_same_by_keyword_job_file_and_flag(name, tmp_path) -> None:
    good, _, extra = TABLE[name]
    data = tmp_path
    minutes = 60 if SURFACES[name].minutes else 1
    by_keyword = SweepSpec(data=data, **extra, **{name: _keyword(name, good)})
    if minutes != 1:  # the keyword is in seconds
        by_keyword = SweepSpec(data=data, **extra, **{name: good * minutes})
    by_job = SweepSpec.from_yaml(_job(tmp_path, name, good, data, extra))
    extra_flags = [t for k, v in extra.items() for t in _flag(k, v)]
    by_flag = SweepSpec.from_cli(["--data", str(data), *extra_flags, *_flag(name, good)])
    assert getattr(by_job, name) == getattr(by_keyword, name) == getattr(by_flag, name)


@pytest.mark.parametrize("name", sorted(n for n, row in TABLE.items() if row[1] is not None))
def test_a_bad_option_gets_the_same_line_all_three_ways(name, tmp_path, capsys) -> None:
    _, bad, extra = TABLE[name]
    data = tmp_path
    with pytest.raises(ValueError) as by_keyword:
        SweepSpec(data=data, **extra, **{name: _keyword(name, bad)})
    line = str(by_keyword.value)
    assert "\n" not in line and name.split("_")[0] in line
    job = _job(tmp_path, name, bad, data, extra)
    with pytest.raises(ValueError) as by_job:
        SweepSpec.from_yaml(job)
    key = SURFACES[name].yaml
    assert str(by_job.value) == f"{job}: " + re.sub(rf"(?<![\w.]){name}(?!\w)", key, line)
    extra_flags = [t for k, v in extra.items() for t in _flag(k, v)]
    code = main(["tune", "--data", str(data), *extra_flags, *_flag(name, bad), "--dry-run"])
    flag = SURFACES[name].flag_name(name)
    assert code == 2
    assert f"automl-vision: error: argument {flag}: {line}" in capsys.readouterr().err
    with pytest.raises(ValueError) as by_flags_in_python:  # not an exit
        SweepSpec.from_cli(["--data", str(data), *extra_flags, *_flag(name, bad)])
    assert str(by_flags_in_python.value) == f"argument {flag}: {line}"


def test_every_option_is_in_the_table_or_has_a_job_shape_of_azure() -> None:
    assert set(SURFACES) == set(TABLE) | AZURE_SHAPED


@pytest.mark.parametrize("name", sorted(AZURE_SHAPED))
def test_the_azure_shaped_options_are_reachable_all_three_ways(name, digits_folder, tmp_path):
    job = {"training_data": {"path": str(digits_folder), "type": "uri_folder"}}
    keyword: dict[str, Any] = {"data": digits_folder}
    flags = ["--data", str(digits_folder)]
    if name == "task":
        job["task"] = "image_classification_multilabel"
        keyword["task"] = "multilabel"
        flags += ["--task", "multilabel"]
    elif name == "validation_data":
        job["validation_data"] = {"path": str(digits_folder)}
        keyword["validation_data"] = digits_folder
        flags += ["--validation-data", str(digits_folder)]
    elif name == "search_space":
        space = {"model_name": "test_resnet", "learning_rate": "uniform(0.01, 0.1)"}
        job["search_space"] = [space]
        keyword["search_space"] = [space]
        (tmp_path / "s.yaml").write_text(yaml.safe_dump({"search_space": [space]}))
        flags += ["--search-space", str(tmp_path / "s.yaml")]
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    by_job, by_keyword = SweepSpec.from_yaml(path), SweepSpec(**keyword)
    by_flag = SweepSpec.from_cli(flags)
    assert getattr(by_job, name) == getattr(by_keyword, name) == getattr(by_flag, name)


# -- nothing declares an option outside the specification -------------------------------------
RUN_FLAGS = {"-h", "--help", "-c", "--config", "--no-resume", "--force", "--dry-run", "-q",
             "--quiet"}  # fmt: skip


def _tune_parser():
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices["tune"]


def test_the_tune_flags_are_the_options_flags() -> None:
    flags = {f for a in _tune_parser()._actions for f in a.option_strings} - RUN_FLAGS
    derived = set()
    for name, option in SURFACES.items():
        flag = option.flag_name(name)
        derived.add(flag)
        if option.form is Form.SWITCH:
            derived.add("--no-" + flag.removeprefix("--"))
        derived |= {f"--{key.replace('_', '-')}" for key in option.key_flags}
    assert flags == derived


def test_the_job_file_keys_are_the_options_keys() -> None:
    azure_structure = {"training_data", "validation_data", "task", "search_space", "limits",
                       "sweep", "training_parameters"}  # fmt: skip
    top = set(SweepJob.model_fields) - {"ignored_keys", "pretrained"} - azure_structure
    keys = {f"limits.{k}" for k in Limits.model_fields} | {
        f"sweep.{k}" for k in SweepSettings.model_fields
    }
    placed = {o.yaml for n, o in SURFACES.items() if n not in AZURE_SHAPED}
    assert top | keys == placed
    for model in (Limits, SweepSettings, SweepJob):  # each a generated option's own type
        for key, field in model.model_fields.items():
            section = {Limits: "limits.", SweepSettings: "sweep."}.get(model, "")
            name = next((n for n, o in SURFACES.items() if o.yaml == section + key), None)
            if name is not None and name not in AZURE_SHAPED:
                assert field.annotation == SweepOptions.model_fields[name].annotation, key
    assert not set(AZURE_ONLY_KEYS) & placed


def _option_declarations(path: Path) -> list[str]:
    """Pydantic fields and argparse flags named like a sweep option, in one source file."""
    flags = {o.flag_name(n) for n, o in SURFACES.items()}
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            found += [
                a.value for a in node.args if isinstance(a, ast.Constant) and a.value in flags
            ]
        if isinstance(node, ast.ClassDef) and any(
            getattr(b, "id", getattr(b, "attr", "")) in ("BaseModel", "_Strict") for b in node.bases
        ):
            found += [
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign)
                and isinstance(s.target, ast.Name)
                and s.target.id in SURFACES
                and s.target.id not in AZURE_SHAPED
            ]
    return found


#: where a sweep option could be declared again: the sweep's packages and the tune command (the
#: trainer's own options, and other commands' --device or --output-dir, are other things)
SWEEP_CODE = ("config", "planning", "tuning", "executors", "scheduling", "store", "reporting",
              "cli/tune.py")  # fmt: skip


#: fields that share a sweep option's name but are something else: a benchmark leaderboard's
#: rows carry each metric's goal, and its primary metric per dataset (the file's schema, read by
#: the dashboard), not a sweep's options
NOT_OPTIONS = {"reporting/leaderboard.py": ["goal", "primary_metric"]}


def test_no_module_but_the_specification_declares_an_option() -> None:
    package = Path(__file__).resolve().parents[2] / "automl_vision"
    paths = [p for part in SWEEP_CODE for p in sorted((package / part).glob("**/*.py"))
             or [package / part]]  # fmt: skip
    elsewhere = {
        str(path.relative_to(package)): found
        for path in paths
        if path.name != "options.py" and (found := _option_declarations(path))
    }
    assert elsewhere == NOT_OPTIONS


@pytest.mark.parametrize(
    ("name", "bad"),
    [("max_trials", 0), ("seed", -1), ("goal", "up"), ("max_concurrent_trials", 0),
     ("timeout", 0), ("executor", "gpu-farm"), ("policy", {"type": "bandit", "slack_factor": -1}),
     ("sampling", "annealing"), ("ray_address", "head")],
)  # fmt: skip
def test_optimize_checks_the_options_it_shares_as_tune_does(name, bad, tmp_path) -> None:
    from automl_vision import optimize, uniform

    with pytest.raises(ValueError) as by_keyword:
        SweepSpec(data=tmp_path, **{name: bad})
    with pytest.raises(ValueError) as by_optimize:
        optimize(lambda p: p["x"], {"x": uniform(0, 1)}, **{"max_trials": 1, name: bad})
    assert str(by_optimize.value) == str(by_keyword.value)
    assert isinstance(by_optimize.value, OptionError)
