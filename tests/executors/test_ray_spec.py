"""The Ray options of a sweep (no cluster needed): one spec from keywords, YAML and the CLI,
one clear error per bad value, the install hint without Ray, the dry-run plan, how the data
reaches the nodes, and the pickled objective target."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers_sweep import write_job

from automl_vision.config.spec import SweepSpec
from automl_vision.executors.backend import ExecutorKind
from automl_vision.executors.function import ObjectiveTarget
from automl_vision.executors.ray_cluster import (
    RAY_INSTALL_HINT,
    DataTransport,
    local_dataset,
    packed_files,
)

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason="Ray is not installed")


@needs_ray
def test_keywords_yaml_and_cli_give_the_same_ray_spec(tmp_path, digits_folder) -> None:
    options = {
        "executor": "ray",
        "ray_address": "127.0.0.1:6379",
        "resources_per_trial": {"cpu": 2, "gpu": 0.25},
    }
    job = write_job(tmp_path / "job.yaml", str(digits_folder), **options)
    from_yaml = SweepSpec.from_yaml(job)
    cli = SweepSpec.from_cli(
        ["-c", str(job), "--executor", "RAY", "--ray-address", "127.0.0.1:6379",
         "--resources-per-trial", "cpu=2,gpu=0.25"]
    )  # fmt: skip
    keywords = SweepSpec(**{**from_yaml.options(), **options})
    assert from_yaml == cli == keywords
    assert from_yaml.executor is ExecutorKind.RAY
    assert from_yaml.resources_per_trial == {"cpu": 2.0, "gpu": 0.25}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "cluster"}, "executor"),
        ({"executor": "process", "ray_address": "auto"}, "ray_address is only used with"),
        ({"resources_per_trial": {"cpu": 1}}, "resources_per_trial is only used with"),
        ({"executor": "inline", "max_concurrent_trials": 3}, "'inline' runs one trial"),
        pytest.param({"executor": "ray", "ray_address": "head"}, "ray_address must be",
                     marks=needs_ray),
        pytest.param({"executor": "ray", "ray_address": "h:99999"}, "ray_address must be",
                     marks=needs_ray),
        pytest.param({"executor": "ray", "resources_per_trial": {"gpu": 1.5}},
                     "fraction of one GPU", marks=needs_ray),
        pytest.param({"executor": "ray", "resources_per_trial": {"cpu": 0}}, "cpu must be > 0",
                     marks=needs_ray),
        pytest.param({"executor": "ray", "resources_per_trial": {"gpu": -1}},
                     "resources_per_trial.gpu", marks=needs_ray),
        pytest.param({"executor": "ray", "resources_per_trial": []}, "must be a mapping",
                     marks=needs_ray),
    ],
)  # fmt: skip
def test_bad_ray_options_are_one_clear_line(options, message) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        SweepSpec(data=".", **options)
    assert len(str(caught.value).splitlines()) == 1


def test_without_ray_the_error_says_how_to_install(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    with pytest.raises(ValueError, match="executor") as caught:
        SweepSpec(data=".", executor="ray")
    assert RAY_INSTALL_HINT in str(caught.value)
    assert 'pip install "automl-vision[ray]"' in str(caught.value)


def test_cli_without_ray_exits_2_with_the_hint(monkeypatch, capsys, digits_folder) -> None:
    from automl_vision.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    code = main(["tune", "--data", str(digits_folder), "--executor", "ray", "--dry-run"])
    assert code == 2
    err = capsys.readouterr().err
    assert "automl-vision[ray]" in err and "Traceback" not in err


def test_the_default_executor_is_unchanged(digits_folder) -> None:
    from automl_vision.planning.plan import plan_sweep

    one = plan_sweep(digits_folder, search_space="cpu_tiny", max_concurrent_trials=1)
    two = plan_sweep(digits_folder, search_space="cpu_tiny", max_concurrent_trials=2)
    assert one.executor is ExecutorKind.INLINE and two.executor is ExecutorKind.PROCESS
    forced = plan_sweep(
        digits_folder, search_space="cpu_tiny", max_concurrent_trials=1, executor="process"
    )
    assert forced.executor is ExecutorKind.PROCESS


@needs_ray
def test_the_dry_run_says_where_trials_run_and_how_data_travels(digits_folder, capsys) -> None:
    from automl_vision import tune

    tune(
        digits_folder, search_space="cpu_tiny", executor="ray", max_concurrent_trials=3,
        resources_per_trial={"cpu": 2, "gpu": 0.25}, dry_run=True,
    )  # fmt: skip
    text = capsys.readouterr().out
    assert "executor: ray at a local Ray instance started for the sweep" in text
    assert "3 trial(s) at once, each 2 CPU, 0.25 GPU" in text
    assert "every node sees it" in text
    tune(
        digits_folder, search_space="cpu_tiny", executor="ray", ray_address="10.0.0.5:6379",
        dry_run=True,
    )  # fmt: skip
    assert "else sent once through Ray's object store" in capsys.readouterr().out


class _FakeSession:
    """A connected cluster whose nodes see some paths and not others."""

    def __init__(self, lacking: dict[str, list[str]], address: str | None = "h:1") -> None:
        self.lacking = lacking
        self.address = address

    def nodes_not_seeing(self, paths):
        return {node: [p for p in ps if p in map(str, paths)] for node, ps in self.lacking.items()}


def test_data_travels_by_path_when_every_node_sees_it_else_by_object_store(
    digits_folder, tmp_path
) -> None:
    from automl_vision.data import load_dataset
    from automl_vision.executors.ray_backend import data_transport

    dataset = load_dataset(digits_folder)
    out = tmp_path / "sweep"
    assert data_transport(_FakeSession({}), dataset, out) is DataTransport.SHARED_PATH
    files = [str(Path(p).absolute()) for p in dataset.images.images]
    blind_to_data = _FakeSession({"10.0.0.2 node2": files})
    assert data_transport(blind_to_data, dataset, out) is DataTransport.OBJECT_STORE
    blind_to_output = _FakeSession({"10.0.0.2 node2": [str(out.absolute())]})
    with pytest.raises(ValueError, match="must be on a filesystem every node shares"):
        data_transport(blind_to_output, dataset, out)
    local = _FakeSession({"x": files}, address=None)  # a local instance: one machine
    assert data_transport(local, dataset, out) is DataTransport.SHARED_PATH


def test_a_node_copy_of_the_data_decodes_to_the_same_images(digits_folder, tmp_path) -> None:
    from automl_vision.data import load_dataset

    dataset = load_dataset(digits_folder, cache_dir=tmp_path / "cache")
    files = packed_files(dataset)
    assert len(files) == len(dataset.images.images)
    copy = local_dataset(dataset, files)
    assert all(not str(p).startswith(str(digits_folder)) for p in copy.images.images)
    (train_a, val_a), (train_b, val_b) = dataset.decode(16), copy.decode(16)
    np.testing.assert_array_equal(train_a.images, train_b.images)
    np.testing.assert_array_equal(val_a.images, val_b.images)
    assert copy.fingerprint == dataset.fingerprint
    again = local_dataset(dataset, files)  # written once per node: the same folder
    assert again.images.images == copy.images.images


def test_objective_target_pickles_and_reports_under_the_metric() -> None:
    import pickle

    seen = []

    def report(step, metrics):
        seen.append((step, dict(metrics)))
        return False

    target = pickle.loads(pickle.dumps(ObjectiveTarget(_objective, metric="loss")))
    assert target({"x": 2.0}, report, None) == 4.0
    assert seen == [(1, {"loss": 2.0}), (2, {"loss": 4.0})]
    assert ObjectiveTarget(_plain)({"x": 3.0}, report, None) == 9.0


def _objective(params, report):
    report(1, params["x"])
    report(2, params["x"] ** 2)
    return params["x"] ** 2


def _plain(params):
    return params["x"] ** 2


def test_job_yaml_ray_keys_round_trip(tmp_path, digits_folder) -> None:
    job = write_job(tmp_path / "job.yaml", str(digits_folder), executor="process")
    assert yaml.safe_load(job.read_text())["executor"] == "process"
    assert SweepSpec.from_yaml(job).executor is ExecutorKind.PROCESS
