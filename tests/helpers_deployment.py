"""A fake deployment measurement for sweep tests: fixed sizes and latencies per model, and the
list of architectures it was asked to measure (so a test can count measurements)."""

from __future__ import annotations

import pytest

import automl_vision.training.deployment as deployment
from automl_vision.deployment_cache import DeploymentMetrics, Runtime

#: fake sizes and latencies: the large model is slower and bigger (params_m, latency_ms)
FAKE = {"test_resnet": (0.05, 1.0), "resnet18": (11.2, 9.0)}


def fake_measurement(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace ``measure_deployment`` by the fake; return the list of models it measures."""
    calls: list[str] = []

    def fake(model_name: str, **kw) -> DeploymentMetrics:
        calls.append(model_name)
        params_m, latency = FAKE[model_name]
        return DeploymentMetrics(
            latency_ms=latency, latency_p90_ms=latency, latency_runs=30, throughput_ips=1.0,
            throughput_batch=kw["throughput_batch"], params_m=params_m, macs_g=0.1, model_mb=1.0,
            runtime=Runtime.TORCH, device="cpu", device_name="fake", threads=kw["threads"] or 1,
            versions={},
        )  # fmt: skip

    monkeypatch.setattr(deployment, "measure_deployment", fake)
    return calls
