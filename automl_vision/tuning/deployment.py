"""Deployment metrics in a sweep: measured once per architecture, recorded on every trial, and
checked against the constraints before a configuration is trained.

``SweepDeployment.for_plan(plan)`` is None unless the plan's objectives or constraints name a
deployment metric (``metric_catalog.DEPLOYMENT_METRICS``): a single-objective sweep measures
nothing and changes nothing.

An architecture is (model name, inference crop size, class count). The inference crop is the
configuration's ``validation_crop_size`` (the model's default when the space leaves it out): the
size a deployed model is served at. Each distinct architecture is measured once, in the sweep's
process, with the intra-op threads one trial gets (``plan.threads_per_trial``) on the sweep's
device kind, through ``training.deployment.measure_cached`` into the sweep directory's
``DeploymentCache``: a resumed sweep reads the file and measures nothing it already holds.
The measurement happens when a configuration is suggested (``refuse``, the check
``ConstrainedSampler`` runs) or at the latest when its trial starts (``DeploymentRecord``), so
always before that architecture's first trial trains.

``DeploymentRecord`` puts the metrics in each trial's artifacts under ``"deployment"``
(``latency_ms``, ``latency_p90_ms``, ``throughput_ips``, ``params_m``, ``macs_g``, ``model_mb``
and where they were measured), so ``TuneResult.trials`` and ``metrics.json`` carry them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from automl_vision.deployment_cache import DeploymentCache, DeploymentMetrics
from automl_vision.metric_catalog import DEPLOYMENT_METRICS
from automl_vision.pareto import Constraint, feasible
from automl_vision.planning.plan import SweepPlan
from automl_vision.reporting.front import DEPLOYMENT_ARTIFACT
from automl_vision.sampling.base import Suggestion
from automl_vision.sampling.constrained import ConstrainedSampler
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.trial import Trial

__all__ = [
    "DeploymentRecord",
    "SweepDeployment",
]

_RECORDED = (*DEPLOYMENT_METRICS, "throughput_batch", "runtime", "device", "device_name", "threads")

Architecture = tuple[str, int, int]


def _measure(cache: DeploymentCache, arch: Architecture, device: str, threads: int | None) -> Any:
    from automl_vision.training.deployment import measure_cached  # lazy: torch

    model_name, crop_size, num_classes = arch
    return measure_cached(
        cache,
        model_name,
        crop_size=crop_size,
        num_classes=num_classes,
        device=device,
        threads=threads,
    )


class SweepDeployment:
    """The deployment metrics of one sweep's architectures (see the module's text)."""

    def __init__(
        self,
        cache: DeploymentCache,
        *,
        num_classes: int,
        device: str,
        threads: int | None,
        multilabel: bool,
        constraints: tuple[Constraint, ...],
    ) -> None:
        self.cache = cache
        self.num_classes = num_classes
        self.device = device
        self.threads = threads
        self.multilabel = multilabel
        self.constraints = constraints
        self._known: dict[Architecture, DeploymentMetrics] = {}

    @classmethod
    def for_plan(cls, plan: SweepPlan) -> SweepDeployment | None:
        """The plan's deployment measurer, or None when no objective or constraint names a
        deployment metric."""
        objectives = plan.spec.objectives or ()
        constraints = tuple(plan.spec.constraints or ())
        names = [o.name for o in objectives] + [c.name for c in constraints]
        if not any(n in DEPLOYMENT_METRICS for n in names):
            return None
        threads = plan.threads_per_trial
        return cls(
            DeploymentCache.in_folder(plan.output_dir),
            num_classes=len(plan.dataset.class_names),
            device=plan.device.kind.value,
            threads=threads if threads > 0 else None,
            multilabel=plan.multilabel,
            # constraints on trainer metrics are not known before training: not checked here
            constraints=tuple(c for c in constraints if c.name in DEPLOYMENT_METRICS),
        )

    def architecture(self, params: Mapping[str, Any]) -> Architecture:
        """(model name, inference crop = ``validation_crop_size``, class count) of a config."""
        defaults = azure_defaults(params.get("model_name"), self.multilabel)
        model = str(params.get("model_name") or defaults["model_name"])
        crop = int(params.get("validation_crop_size") or defaults["validation_crop_size"])
        return model, crop, self.num_classes

    def metrics(self, params: Mapping[str, Any]) -> DeploymentMetrics:
        """The configuration's architecture's metrics, measured at most once per sweep."""
        arch = self.architecture(params)
        if arch not in self._known:
            self._known[arch] = _measure(self.cache, arch, self.device, self.threads)
        return self._known[arch]

    def known(self, params: Mapping[str, Any]) -> dict[str, float]:
        """The configuration's deployment metrics by name (``DEPLOYMENT_METRICS``): the known
        objectives of the multi-objective search, from the same cached measurement."""
        measured = self.metrics(params)
        return {name: float(getattr(measured, name)) for name in DEPLOYMENT_METRICS}

    def refuse(self, suggestion: Suggestion) -> str | None:
        """None when the suggestion meets every deployment constraint, else the first one it
        breaks, e.g. ``"params_m 11.2 > 5"`` (the reason ``ConstrainedSampler`` counts)."""
        if not self.constraints:
            return None
        values = self.metrics(suggestion.params).model_dump()
        for constraint in self.constraints:
            if not bool(feasible([values], [constraint])[0]):
                sign = ">" if constraint.bound.value == "<=" else "<"
                return f"{constraint.name} {sign} {constraint.limit:g}"
        return None


class DeploymentRecord(SweepObserver):
    """Measures a starting trial's architecture (when not yet measured) and records its
    deployment metrics in the trial's artifacts."""

    def __init__(self, deployment: SweepDeployment) -> None:
        self.deployment = deployment

    def trial_started(self, trial: Trial) -> None:
        dumped = self.deployment.metrics(trial.params).model_dump(mode="json")
        trial.artifacts[DEPLOYMENT_ARTIFACT] = {k: dumped[k] for k in _RECORDED}


class RefusalsRecord(SweepObserver):
    """Keeps the sweep's record of refusals current while it runs: when a trial starts after
    new refusals, ``write()`` records them (the store's settings), so ``automl-vision status``
    and the dashboard count them live, not only when the sweep ends."""

    def __init__(self, sampler: ConstrainedSampler, write: Callable[[], None]) -> None:
        self.sampler = sampler
        self.write = write
        self._written = sampler.refused

    def trial_started(self, trial: Trial) -> None:
        if self.sampler.refused != self._written:
            self._written = self.sampler.refused
            self.write()
