"""``optimize``: tune any black-box function with the samplers and policies of a sweep."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automl_vision.executors.base import (
    Executor,
    ExecutorKind,
    FunctionExecutor,
    ObjectiveTarget,
)
from automl_vision.policies.base import EarlyTerminationPolicy
from automl_vision.policies.window import JudgingWindow
from automl_vision.reporting.result import NoTrialValueError, OptimizeResult
from automl_vision.sampling.base import Sampler
from automl_vision.scheduling.criteria import StopCriterion, Timeout
from automl_vision.scheduling.scheduler import Scheduler, SweepObserver
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["NoTrialValueError", "OptimizeResult", "optimize"]


def _sampler(sampling: Any, parameter_space: Any, seed: int) -> Sampler:
    if isinstance(sampling, Sampler):
        return sampling
    from automl_vision.sampling import create_sampler

    return create_sampler(sampling, parameter_space, seed=seed)


def _policy(policy: Any) -> EarlyTerminationPolicy | None:
    if policy is None or isinstance(policy, EarlyTerminationPolicy):
        return policy
    if isinstance(policy, Mapping):
        from automl_vision.policies import policy_from_dict

        return policy_from_dict(policy)
    raise ValueError(
        f"policy must be an early-termination policy (e.g. BanditPolicy(...)) or a mapping "
        f"with a 'type' key, got {policy!r}"
    )


def optimize(
    objective: Callable[..., float],
    parameter_space: Any,
    *,
    sampling: str | Sampler = "random",
    max_trials: int | None = None,
    goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
    seed: int = 0,
    policy: EarlyTerminationPolicy | Mapping[str, Any] | None = None,
    max_concurrent_trials: int = 1,
    timeout: float | None = None,
    criteria: Sequence[StopCriterion] = (),
    observers: Sequence[SweepObserver] = (),
    windows: Callable[[Trial], JudgingWindow | None] | None = None,
    executor: ExecutorKind | str = ExecutorKind.INLINE,
    ray_address: str | None = None,
    resources_per_trial: Mapping[str, float] | None = None,
) -> OptimizeResult:
    """Tune ``objective`` over ``parameter_space``.

    ``objective(params) -> float``, or ``objective(params, report) -> float`` where
    ``report(step, value) -> bool`` feeds the early-termination ``policy`` and answers True
    when the trial should stop now (a stopped trial keeps its last reported value). An
    objective that raises or returns NaN fails its trial; the sweep goes on.

    ``parameter_space``: an ``ImageClassificationSearchSpace``, a list of them, or a plain
    ``dict`` of fixed values and distributions. ``sampling``: ``"random"``, ``"sobol"``,
    ``"grid"``, ``"bayesian"`` or a ``Sampler``. ``max_trials`` defaults to the grid size for
    grid sampling and is required otherwise. ``timeout`` is in seconds. ``windows(trial)``
    gives each trial's ``JudgingWindow`` for a ``schedule_aware`` policy (e.g. where the
    objective's learning rate drops).

    ``executor``: ``"inline"`` (default: in this process, in threads when
    ``max_concurrent_trials`` > 1) or ``"ray"``: each trial in a Ray worker process of its own
    (the objective is pickled by value, so a lambda works), on the cluster at ``ray_address``
    (``None``: a local Ray instance for this call; ``"auto"``; ``"host:port"``), each asking
    ``resources_per_trial`` (default ``{"cpu": 1}``). Reports and stop decisions work the same.
    """
    goal = PrimaryMetricGoal.parse(goal)
    sampler = _sampler(sampling, parameter_space, seed)
    if max_trials is None:
        if sampler.size is None:
            raise ValueError("max_trials is required unless the sampler is a finite grid")
        max_trials = sampler.size
    stop_criteria = list(criteria)
    if timeout is not None:
        stop_criteria.append(Timeout(float(timeout)))
    kind = ExecutorKind.parse(getattr(executor, "value", executor), "executor")
    if kind not in (ExecutorKind.INLINE, ExecutorKind.AUTO, ExecutorKind.RAY):
        raise ValueError(
            f"executor: optimize runs objectives 'inline' (threads for max_concurrent_trials > 1) "
            f"or on 'ray', got {kind.value!r}"
        )
    if kind is not ExecutorKind.RAY and (ray_address is not None or resources_per_trial):
        raise ValueError("ray_address and resources_per_trial are only used with executor='ray'")
    with contextlib.ExitStack() as stack:
        if kind is ExecutorKind.RAY:
            runner: Executor = _ray_executor(
                stack, objective, ray_address, resources_per_trial, max_concurrent_trials
            )
        else:
            runner = FunctionExecutor.for_objective(objective, capacity=max_concurrent_trials)
        scheduler = Scheduler(
            sampler,
            runner,
            goal=goal,
            max_trials=max_trials,
            policy=_policy(policy),
            criteria=stop_criteria,
            observers=observers,
            windows=windows,
        )
        outcome = scheduler.run()
    return OptimizeResult(outcome.trials, goal, outcome.end_reason)


def _ray_executor(
    stack: contextlib.ExitStack,
    objective: Callable[..., float],
    address: str | None,
    resources: Mapping[str, float] | None,
    capacity: int,
) -> Executor:
    from automl_vision.config.spec import SweepSpec
    from automl_vision.executors.ray_cluster import ray_session
    from automl_vision.executors.ray_executor import RayExecutor, TrialResources

    # the same checks as a sweep's (one message per bad option)
    spec = SweepSpec(
        data=".", executor=ExecutorKind.RAY, ray_address=address, resources_per_trial=resources
    )
    given = dict(spec.resources_per_trial or {})
    asked = TrialResources(given.pop("cpu", 1.0), given.pop("gpu", 0.0), given)
    session = stack.enter_context(ray_session(spec.ray_address))
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="optimize-ray-")))
    return RayExecutor(
        ObjectiveTarget(objective),
        ray=session.ray,
        capacity=capacity,
        output_dir=workdir,
        resources=asked,
    )
