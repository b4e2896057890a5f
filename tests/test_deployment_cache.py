"""The deployment metrics' records and the sweep directory's cache of them (no torch: the
measurement is a stub that counts its calls)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from automl_vision.artifacts import DEPLOYMENT_FILE
from automl_vision.deployment_cache import (
    DeploymentCache,
    DeploymentKey,
    DeploymentMetrics,
    Runtime,
)

KEY = DeploymentKey(
    model_name="resnet18",
    crop_size=64,
    num_classes=3,
    throughput_batch=32,
    device="cpu",
    device_name="AMD EPYC",
    runtime=Runtime.ONNXRUNTIME,
    runtime_version="1.30.0",
    threads=2,
)


def metrics(latency_ms: float = 2.5, **changes) -> DeploymentMetrics:
    values = {
        "latency_ms": latency_ms,
        "latency_p90_ms": latency_ms * 1.2,
        "latency_runs": 30,
        "throughput_ips": 700.0,
        "throughput_batch": 32,
        "params_m": 11.18,
        "macs_g": 0.148,
        "model_mb": 42.7,
        "runtime": "onnxruntime",
        "device": "cpu",
        "device_name": "AMD EPYC",
        "threads": 2,
        "versions": {"torch": "2.14.1", "onnxruntime": "1.30.0"},
    }
    return DeploymentMetrics(**{**values, **changes})


class CountingMeasure:
    """A stub measurement: the metrics it returns say which call made them."""

    def __init__(self) -> None:
        self.keys: list[DeploymentKey] = []

    def __call__(self, key: DeploymentKey) -> DeploymentMetrics:
        self.keys.append(key)
        return metrics(latency_ms=float(len(self.keys)), threads=key.threads)


def test_metrics_and_key_round_trip_through_json() -> None:
    m = metrics()
    assert DeploymentMetrics.model_validate_json(m.model_dump_json()) == m
    assert DeploymentKey.model_validate_json(KEY.model_dump_json()) == KEY
    assert json.loads(m.model_dump_json())["runtime"] == "onnxruntime"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("runtime", "auto"),  # a measurement names the runtime it used
        ("latency_ms", 0.0),
        ("latency_ms", float("nan")),
        ("throughput_batch", 0),
        ("params_m", -1.0),
        ("threads", 0),
        ("unknown_field", 1),
    ],
)
def test_metrics_refuse_values_no_measurement_gives(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        metrics(**{field: value})


def test_runtime_is_parsed_in_any_spelling_and_refused_by_name() -> None:
    assert Runtime.parse("ORT") is Runtime.ONNXRUNTIME
    assert Runtime.parse("PyTorch") is Runtime.TORCH
    with pytest.raises(ValueError, match=r"runtime='tensorrt' is not allowed"):
        Runtime.parse("tensorrt", "runtime")


def test_a_key_measures_once_also_after_a_resume(tmp_path: Path) -> None:
    measure = CountingMeasure()
    cache = DeploymentCache.in_folder(tmp_path)
    first = cache.measure_once(KEY, measure)
    assert cache.measure_once(KEY, measure) == first
    assert len(measure.keys) == 1
    # a resumed sweep: a new cache object over the same file
    again = DeploymentCache(tmp_path / DEPLOYMENT_FILE)
    assert again.measure_once(KEY, measure) == first and again.get(KEY) == first
    assert len(measure.keys) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"device": "cuda", "device_name": "NVIDIA H100 80GB HBM3"},
        {"device_name": "Intel(R) Xeon(R) Platinum 8480+"},
        {"runtime": Runtime.TORCH, "runtime_version": "2.14.1"},
        {"runtime_version": "1.31.0"},
        {"threads": 1},
        {"crop_size": 96},
        {"num_classes": 10},
        {"throughput_batch": 8},
        {"model_name": "resnet34"},
    ],
)
def test_another_device_runtime_or_configuration_measures_again(
    tmp_path: Path, change: dict
) -> None:
    measure = CountingMeasure()
    cache = DeploymentCache.in_folder(tmp_path)
    cache.measure_once(KEY, measure)
    other = KEY.model_copy(update=change)
    cache.measure_once(other, measure)
    assert measure.keys == [KEY, other]
    reread = DeploymentCache.in_folder(tmp_path)
    assert reread.get(KEY).latency_ms == 1.0 and reread.get(other).latency_ms == 2.0


def test_the_file_is_written_atomically_in_its_format(tmp_path: Path) -> None:
    cache = DeploymentCache.in_folder(tmp_path / "sweep")
    cache.put(KEY, metrics())
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == [DEPLOYMENT_FILE]
    document = json.loads((tmp_path / "sweep" / DEPLOYMENT_FILE).read_text())
    assert document["format"] == 1
    assert document["entries"] == [
        {"key": KEY.model_dump(mode="json"), "metrics": metrics().model_dump(mode="json")}
    ]
    cache.put(KEY, metrics(latency_ms=9.0))  # replaced, not added
    assert len(DeploymentCache.in_folder(tmp_path / "sweep")) == 1


def _good_entry() -> dict:
    return {"key": KEY.model_dump(mode="json"), "metrics": metrics().model_dump(mode="json")}


def _write_text(path: Path, text: str) -> None:
    path.write_text(text)


def _write_link(path: Path, _text: str) -> None:
    target = path.with_name("elsewhere.json")
    target.write_text(json.dumps({"format": 1, "entries": [_good_entry()]}))
    path.symlink_to(target)


@pytest.mark.parametrize(
    ("text", "write", "problem"),
    [
        ('{"format": 1, "entr', _write_text, "not readable JSON"),
        ("[1, 2]", _write_text, "not a format-1 deployment cache"),
        ('{"format": 99, "entries": []}', _write_text, "not a format-1"),
        ('{"format": 1, "entries": {}}', _write_text, "no list of entries"),
        ('{"format": 1, "entries": [3]}', _write_text, "1 of 1 entries unusable"),
        (
            json.dumps({"format": 1, "entries": [{"key": {}, "metrics": {}}]}),
            _write_text,
            "1 of 1 entries unusable",
        ),
        ("", _write_link, "a symbolic link"),
    ],
)
def test_a_corrupt_file_is_ignored_with_one_warning_and_rewritten(
    tmp_path: Path, caplog, text: str, write, problem: str
) -> None:
    path = tmp_path / DEPLOYMENT_FILE
    write(path, text)
    measure = CountingMeasure()
    cache = DeploymentCache(path)
    with caplog.at_level(logging.WARNING, logger="automl_vision"):
        cache.measure_once(KEY, measure)
        cache.measure_once(KEY, measure)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and problem in warnings[0].getMessage()
    assert str(path) in warnings[0].getMessage()
    assert len(measure.keys) == 1
    assert not path.is_symlink()
    assert DeploymentCache(path).get(KEY) == metrics(latency_ms=1.0)


def test_a_file_with_one_bad_entry_keeps_the_good_ones(tmp_path: Path, caplog) -> None:
    other = KEY.model_copy(update={"threads": 1})
    bad = {"key": other.model_dump(mode="json"), "metrics": {"latency_ms": -1}}
    path = tmp_path / DEPLOYMENT_FILE
    path.write_text(json.dumps({"format": 1, "entries": [_good_entry(), bad]}))
    measure = CountingMeasure()
    cache = DeploymentCache(path)
    with caplog.at_level(logging.WARNING, logger="automl_vision"):
        assert cache.measure_once(KEY, measure) == metrics()
        cache.measure_once(other, measure)
    assert measure.keys == [other]
    assert len(caplog.records) == 1 and "1 of 2 entries unusable" in caplog.text
    assert len(DeploymentCache(path)) == 2
