"""The benchmark spec: its keys in Python and in a YAML file (paths relative to the file), and
each mistake refused in one line naming the key (and, on the command line, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers_bench_runs import METHOD, METHOD_YAML

from automl_vision import BenchmarkSpec
from automl_vision.benchmarking.spec import BenchmarkSpecError, RetrainOn
from automl_vision.cli import main

GOOD = {"datasets": {"d": "data.jsonl"}, "methods": {"m": {"max_trials": 2}}}


def test_defaults() -> None:
    spec = BenchmarkSpec(**GOOD)
    assert (spec.seeds, spec.top_k, spec.retrain_on) == (3, 1, RetrainOn.TRAIN_VALIDATION)
    assert (spec.test_size, spec.validation_size, spec.split_seed) == (0.2, 0.2, 0)
    assert (spec.bootstrap, spec.level) == (1000, 0.95)
    assert spec.datasets["d"].data == Path("data.jsonl") and spec.datasets["d"].test_data is None
    assert spec.resolved_output_dir() == BenchmarkSpec(**GOOD).resolved_output_dir()
    assert spec.resolved_output_dir() != spec.replace(methods={"m": {}}).resolved_output_dir()


def test_a_yaml_file_gives_the_same_spec_with_paths_relative_to_it(tmp_path) -> None:
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "space.yaml").write_text(yaml.safe_dump(METHOD_YAML["search_space"]))
    keys = {
        "datasets": {
            "plain": "train/labels.jsonl",
            "given": {"data": "a.jsonl", "test_data": "/abs/test.jsonl", "task": "multilabel"},
        },
        "methods": {"grid": METHOD_YAML, "file": {"search_space": "space.yaml", "max_trials": 1}},
        "seeds": 2,
        "top_k": 2,
        "retrain_on": "train",
        "test_size": 0.25,
        "validation_size": 0.15,
        "split_seed": 4,
        "bootstrap": 300,
        "level": 0.9,
        "output_dir": "out",
    }
    (folder / "bench.yaml").write_text(yaml.safe_dump(keys))
    spec = BenchmarkSpec.from_yaml(folder / "bench.yaml")
    assert spec.datasets["plain"].data == folder / "train" / "labels.jsonl"
    assert spec.datasets["given"].data == folder / "a.jsonl"
    assert spec.datasets["given"].test_data == Path("/abs/test.jsonl")
    assert spec.methods["file"]["search_space"] == str(folder / "space.yaml")
    assert spec.output_dir == Path("out")  # where the command runs, as --output-dir
    python = BenchmarkSpec(
        **{
            **keys,
            "datasets": {
                "plain": folder / "train" / "labels.jsonl",
                "given": {"data": folder / "a.jsonl", "test_data": "/abs/test.jsonl",
                          "task": "multilabel"},
            },
            "methods": {**keys["methods"], "file": spec.methods["file"]},
        }
    )  # fmt: skip
    assert spec == python
    assert BenchmarkSpec.from_yaml(folder / "bench.yaml", seeds=5).seeds == 5
    assert BenchmarkSpec(**python.keys()) == python
    assert BenchmarkSpec(**{**GOOD, "methods": {"grid": METHOD}}).methods["grid"] == METHOD


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sedes": 2}, "unknown key 'sedes'; did you mean 'seeds'\\? allowed: datasets, methods"),
        ({"datasets": {"d": {"data": "x", "tst_data": "y"}}},
         "datasets.d: unknown key 'tst_data'; did you mean 'test_data'"),
        ({"datasets": {"a/b": "x"}}, "'a/b' is not allowed: it names a folder"),
        ({"datasets": {}}, "datasets must be a mapping"),
        ({"datasets": {"d": {"test_data": "t"}}}, "datasets.d.data is required"),
        ({"methods": {"m": {"max_trails": 2}}},
         "methods.m: 'max_trails' is not a tune option; did you mean 'max_trials'"),
        ({"methods": {"m": {"output_dir": "x"}}}, "methods.m.output_dir: the benchmark protocol sets it"),
        ({"methods": {"m": {"validation_size": 0.3}}}, "methods.m.validation_size: the benchmark"),
        ({"methods": {"m": {"resume": False}}}, "methods.m.resume: the benchmark protocol sets it"),
        ({"methods": {"m": {"max_trials": 0}}}, "methods.m.max_trials must be >= 1, got 0"),
        ({"methods": {"m": {"sampling": "annealing"}}}, "methods.m.sampling='annealing' is not allowed"),
        ({"methods": {"m": 3}}, "methods.m must be a mapping of tune options"),
        ({"seeds": 0}, "seeds must be in \\[1, 20\\], got 0"),
        ({"seeds": 21}, "seeds must be in \\[1, 20\\]"),
        ({"top_k": True}, "top_k must be an integer"),
        ({"retrain_on": "test"}, "retrain_on='test' is not allowed; retrain_on must be one of"),
        ({"level": 1.0}, "level must be in \\(0, 1\\)"),
        ({"bootstrap": 10}, "bootstrap must be in \\[100, 100000\\]"),
        ({"test_size": 0.5, "validation_size": 0.5}, "test_size \\+ validation_size must be below 1"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_line_naming_its_key(change, message) -> None:
    with pytest.raises(BenchmarkSpecError, match=message) as err:
        BenchmarkSpec(**{**GOOD, **change})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datasets: {d: x.jsonl}\nmethods: {m: {max_trail: 2}}\n", "did you mean 'max_trials'"),
        ("datasets: {d: x.jsonl}\nmethods: {m: {}}\nlevle: 0.9\n", "unknown key 'levle'"),
        ("- just\n- a list\n", "expected a mapping of keys"),
        ("datasets: [unclosed\n", "bench.yaml"),
    ],
)
def test_the_command_refuses_a_bad_file_in_one_line_with_exit_2(
    tmp_path, capsys, text, message
) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(text)
    assert main(["benchmark", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("automl-vision: error: ") and err.count("\n") == 1, err
    assert message.replace("\\", "") in err or message in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_the_command_refuses_missing_data_before_writing(tmp_path, capsys) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("datasets: {d: missing.jsonl}\nmethods: {m: {}}\n")
    assert main(["benchmark", str(path), "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "datasets.d: data path" in err and "does not exist" in err
    assert not (tmp_path / "out").exists()
