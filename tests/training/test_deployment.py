"""Deployment metrics measured on this CPU: latency ordering, the counts, the runtimes, the
cache in front of the measurement, and the argument checks."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from automl_vision.deployment_cache import DeploymentCache, DeploymentMetrics, Runtime
from automl_vision.system import cpu_name
from automl_vision.training import deployment
from automl_vision.training.deployment import (
    TimingRule,
    count_model,
    deployment_key,
    measure_cached,
    measure_deployment,
    time_runs,
)
from automl_vision.training.model_factory import build_model


@pytest.fixture(scope="module")
def tiny_and_resnet18() -> tuple[DeploymentMetrics, DeploymentMetrics]:
    """test_resnet (0.37 M parameters) and resnet18 (11.2 M) at 64 px through onnxruntime on
    one thread (on this 2-core box resnet18 measured 13x slower: 2.5 ms against 0.19 ms)."""
    tiny = measure_deployment("test_resnet", crop_size=64, num_classes=3, threads=1)
    big = measure_deployment("resnet18", crop_size=64, num_classes=3, threads=1)
    return tiny, big


def test_a_much_larger_model_measures_slower(tiny_and_resnet18) -> None:
    tiny, big = tiny_and_resnet18
    assert big.latency_ms > 3 * tiny.latency_ms
    assert tiny.throughput_ips > 3 * big.throughput_ips
    assert big.params_m > 25 * tiny.params_m and big.macs_g > 5 * tiny.macs_g


def test_the_measurement_says_how_and_where_it_ran(tiny_and_resnet18) -> None:
    tiny, _ = tiny_and_resnet18
    assert tiny.runtime is Runtime.ONNXRUNTIME and tiny.device == "cpu" and tiny.threads == 1
    assert tiny.device_name == cpu_name() and tiny.throughput_batch == 32
    assert set(tiny.versions) == {"torch", "timm", "onnxruntime"}
    assert tiny.latency_p90_ms >= tiny.latency_ms and tiny.latency_runs >= 30
    assert DeploymentMetrics.model_validate_json(tiny.model_dump_json()) == tiny


def test_counts_are_the_models_own(tiny_and_resnet18, tmp_path: Path) -> None:
    tiny, _ = tiny_and_resnet18
    model = build_model("test_resnet", 3)
    assert tiny.params_m == sum(p.numel() for p in model.parameters()) / 1e6
    # model_mb: a safetensors file of the state dict, less its header, in MiB
    path = tmp_path / "model.safetensors"
    save_file(model.state_dict(), str(path))
    with path.open("rb") as f:
        header = 8 + struct.unpack("<Q", f.read(8))[0]
    assert tiny.model_mb * 2**20 == path.stat().st_size - header


def test_macs_of_resnet18_at_224_are_the_published_1_82_billion() -> None:
    counts = count_model(build_model("resnet18", 1000).eval(), 224)
    assert counts.macs_g == pytest.approx(1.82, rel=0.05)
    assert counts.params_m == pytest.approx(11.69, rel=0.01)
    assert counts.model_mb == pytest.approx(44.6, rel=0.01)


def test_torch_eager_measures_too_and_leaves_threads_and_rng_as_they_were() -> None:
    torch.manual_seed(7)
    rng = torch.random.get_rng_state()
    torch.set_num_threads(2)  # measured on 1 (2 threads on a busy 2-core box stall), then back
    m = measure_deployment("test_resnet", crop_size=32, num_classes=3, runtime="torch", threads=1)
    assert m.runtime is Runtime.TORCH and m.threads == 1 and "onnxruntime" not in m.versions
    assert m.latency_ms > 0 and m.throughput_ips > 0
    assert torch.get_num_threads() == 2
    assert torch.equal(torch.random.get_rng_state(), rng)


def test_auto_is_onnxruntime_on_the_cpu_and_torch_without_the_onnx_extra(monkeypatch) -> None:
    args = {"crop_size": 32, "num_classes": 3, "threads": 1}
    key = deployment_key("ResNet18", **args)
    assert key.runtime is Runtime.ONNXRUNTIME and key.model_name == "resnet18"
    assert key.device == "cpu" and key.device_name == cpu_name()
    monkeypatch.setattr(deployment, "_onnx_available", lambda: False)
    fallback = deployment_key("resnet18", **args)
    assert fallback.runtime is Runtime.TORCH and fallback.runtime_version == torch.__version__
    with pytest.raises(ValueError, match=r"runtime='onnxruntime' needs onnx"):
        deployment_key("resnet18", runtime="onnxruntime", **args)


def test_measure_cached_measures_once_per_key(
    tiny_and_resnet18, tmp_path: Path, monkeypatch
) -> None:
    tiny, _ = tiny_and_resnet18
    calls: list[dict] = []

    def counting(model_name: str, **kwargs) -> DeploymentMetrics:
        calls.append({"model_name": model_name, **kwargs})
        return tiny

    monkeypatch.setattr(deployment, "measure_deployment", counting)
    cache = DeploymentCache.in_folder(tmp_path)
    args = {"crop_size": 64, "num_classes": 3, "threads": 1, "repeats": 5}
    assert measure_cached(cache, "test_resnet", **args) == tiny
    assert measure_cached(DeploymentCache.in_folder(tmp_path), "test_resnet", **args) == tiny
    assert calls == [
        {
            "model_name": "test_resnet",
            "device": "cpu",
            "runtime": Runtime.ONNXRUNTIME,
            "throughput_batch": 32,
            **args,
        }
    ]
    measure_cached(cache, "test_resnet", runtime="torch", **args)
    assert len(calls) == 2 and calls[1]["runtime"] is Runtime.TORCH
    stored = json.loads((tmp_path / "deployment.json").read_text())["entries"]
    assert [e["key"]["runtime"] for e in stored] == ["onnxruntime", "torch"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"crop_size": 0}, "crop_size=0"),
        ({"crop_size": 32.5}, "crop_size=32.5"),
        ({"num_classes": 0}, "num_classes=0"),
        ({"throughput_batch": 0}, "throughput_batch=0"),
        ({"threads": 0}, "threads=0"),
        ({"repeats": 0}, "repeats=0"),
        ({"runtime": "tensorrt"}, "runtime='tensorrt'"),
        ({"device": "tpu"}, "device='tpu'"),
        ({"model_name": "no_such_net"}, "model_name='no_such_net'"),
    ],
)
def test_a_bad_argument_is_one_value_error_naming_it(changes: dict, named: str) -> None:
    args = {"model_name": "test_resnet", "crop_size": 32, "num_classes": 3, **changes}
    with pytest.raises(ValueError, match=re.escape(named)):
        measure_deployment(args.pop("model_name"), **args)


class FakeClock:
    """A clock that each run advances by ``step`` seconds."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.runs = 0.0, step, 0

    def __call__(self) -> float:
        return self.now

    def run(self) -> None:
        self.runs += 1
        self.now += self.step


@pytest.mark.parametrize(
    ("step", "timed", "why"),
    [
        (1 / 128, 64, "30 runs take 0.23 s: the minimum time decides"),
        (1 / 8, 30, "30 runs take 3.75 s: the minimum count decides"),
        (1.0, 10, "10 s passed with at least 5 runs: the cap decides"),
        (4.0, 5, "a slow model: the floor of 5 runs"),
    ],
)
def test_timing_runs_until_both_minimums_or_the_cap(step: float, timed: int, why: str) -> None:
    rule = TimingRule(warmup=3, min_runs=30, min_seconds=0.5, max_seconds=10.0, floor_runs=5)
    clock = FakeClock(step)
    times = time_runs(clock.run, rule, clock)
    assert len(times) == timed, why
    assert clock.runs == timed + 3 and times == [pytest.approx(step)] * timed
