"""``optimize``: tune any black-box function with the samplers, policies and executors of a
sweep. The options it shares with ``tune`` (sampling, policy, goal, max_trials, seed, timeout,
max_concurrent_trials, executor, ray_address, resources_per_trial) are checked by their one
definition (``config.options.SweepOptions``), so a bad value reads the same in both."""

from __future__ import annotations

import contextlib
import inspect
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from automl_vision.config.checks import check_keywords
from automl_vision.config.options import SweepOptions, executor_request
from automl_vision.executors.backend import ExecutorKind, Purpose
from automl_vision.executors.function import ObjectiveTarget
from automl_vision.executors.machine import DeviceKind, Devices, Machine
from automl_vision.executors.registry import backend, check_request, resolve
from automl_vision.policies.base import EarlyTerminationPolicy
from automl_vision.policies.window import JudgingWindow
from automl_vision.reporting.result import NoTrialValueError, OptimizeResult
from automl_vision.sampling import create_sampler
from automl_vision.sampling.base import Sampler
from automl_vision.scheduling.criteria import StopCriterion, Timeout
from automl_vision.scheduling.observer import SweepObserver
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.system import available_cpus
from automl_vision.trial import PrimaryMetricGoal, Trial

__all__ = ["NoTrialValueError", "OptimizeResult", "optimize"]


def optimize(
    objective: Callable[..., float],
    parameter_space: Any,
    *,
    sampling: str | Sampler = "random",
    max_trials: int | None = None,
    goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
    seed: int = 0,
    policy: EarlyTerminationPolicy | Mapping[str, Any] | str | None = None,
    max_concurrent_trials: int | str = 1,
    timeout: float | None = None,
    criteria: Sequence[StopCriterion] = (),
    observers: Sequence[SweepObserver] = (),
    windows: Callable[[Trial], JudgingWindow | None] | None = None,
    executor: ExecutorKind | str = ExecutorKind.INLINE,
    ray_address: str | None = None,
    resources_per_trial: Mapping[str, float] | None = None,
    **unknown: Any,
) -> OptimizeResult:
    """Tune ``objective`` over ``parameter_space``.

    ``objective(params) -> float``, or ``objective(params, report) -> float`` where
    ``report(step, value) -> bool`` feeds the early-termination ``policy`` and answers True
    when the trial should stop now (a stopped trial keeps its last reported value). An
    objective that raises or returns NaN fails its trial; the sweep goes on.
    ``report(step, value, progress=p, cost=c)`` (keyword-only, each optional) also says where
    the trial is: ``progress`` the fraction of its own schedule done, in [0, 1] (its last
    report: 1), ``cost`` what it has spent so far, cumulative from its start, >= 0 (e.g.
    seconds). They travel in the report's metrics (``trial.PROGRESS_KEY`` / ``COST_KEY``;
    ``Report.progress`` / ``Report.cost``) for the policy to judge by; a progress outside
    [0, 1], a negative or non-finite cost, or a non-number is a ValueError naming it.

    ``parameter_space``: an ``ImageClassificationSearchSpace``, a list of them, or a plain
    ``dict`` of fixed values and distributions. ``sampling``: ``"random"``, ``"sobol"``,
    ``"grid"``, ``"bayesian"`` or a ``Sampler``. ``max_trials`` defaults to the grid size for
    grid sampling and is required otherwise. ``timeout`` is in seconds. ``policy``: a policy, its
    dict form or its text form (``"bandit:slack_factor=0.2"``). ``windows(trial)`` gives each
    trial's ``JudgingWindow`` for a ``schedule_aware`` policy (e.g. where the objective's
    learning rate drops).

    ``executor``: ``"inline"`` (default: in this process, in threads when
    ``max_concurrent_trials`` > 1) or ``"ray"``: each trial in a Ray worker process of its own
    (the objective is pickled by value, so a lambda works), on the cluster at ``ray_address``
    (``None``: a local Ray instance for this call; ``"auto"``; ``"host:port"``), each asking
    ``resources_per_trial`` (default ``{"cpu": 1}``). Reports and stop decisions work the same.
    A misspelt keyword is a ``TypeError`` naming the closest one.
    """
    if unknown:
        known = inspect.signature(optimize).parameters
        check_keywords(unknown, [n for n in known if n != "unknown"], "optimize")
    checked = {
        name: SweepOptions.check(name, value)
        for name, value in (
            ("sampling", sampling), ("max_trials", max_trials), ("goal", goal), ("seed", seed),
            ("policy", policy), ("max_concurrent_trials", max_concurrent_trials),
            ("timeout", timeout), ("executor", executor), ("ray_address", ray_address),
            ("resources_per_trial", resources_per_trial),
        )
    }  # fmt: skip
    sampler = checked["sampling"]
    if not isinstance(sampler, Sampler):
        sampler = create_sampler(sampler, parameter_space, seed=checked["seed"])
    trials = checked["max_trials"]
    if trials is None:
        if sampler.size is None:
            raise ValueError("max_trials is required unless the sampler is a finite grid")
        trials = sampler.size
    stop_criteria = list(criteria)
    if checked["timeout"] is not None:
        stop_criteria.append(Timeout(checked["timeout"]))
    request = executor_request({**checked, "device": DeviceKind.CPU.value, "max_trials": trials})
    check_request(request, Purpose.OBJECTIVE)
    chosen = backend(request.kind)
    with contextlib.ExitStack() as stack:
        connection = stack.enter_context(chosen.connect(request))
        machine = Machine(Devices(DeviceKind.CPU), available_cpus())
        capacity = resolve(request, Purpose.OBJECTIVE, machine, connection)
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="optimize-")))
        runner = backend(capacity.kind).executor(
            ObjectiveTarget(objective), capacity, output_dir=workdir, connection=connection
        )
        scheduler = Scheduler(
            sampler,
            runner,
            goal=checked["goal"],
            max_trials=trials,
            policy=checked["policy"],
            criteria=stop_criteria,
            observers=observers,
            windows=windows,
        )
        outcome = scheduler.run()
    return OptimizeResult(outcome.trials, checked["goal"], outcome.end_reason)
