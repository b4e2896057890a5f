"""``optimize`` with ``CurvePolicy`` and schedules that differ per trial: the objective reports
its progress, the policy judges on the schedule's axis, and its reasons carry the prediction."""

from __future__ import annotations

from automl_vision import choice, optimize
from automl_vision.policies import CurvePolicy, HyperbandPolicy
from automl_vision.trial import TrialStatus


def _objective(params, report):
    """A curve rising to ``quality`` over ``epochs`` reports; long schedules rise later."""
    epochs, quality = params["epochs"], params["quality"]
    value = 0.0
    for epoch in range(1, epochs + 1):
        progress = epoch / epochs
        value = 0.1 + (quality - 0.1) * progress**2
        if report(epoch, value, progress=progress, cost=float(epoch)):
            break
    return value


SPACE = {"epochs": choice(4, 16), "quality": choice(*[round(0.5 + 0.04 * i, 2) for i in range(10)])}


def test_the_curve_policy_stops_on_predictions_on_the_schedules_axis() -> None:
    result = optimize(
        _objective, SPACE, sampling="random", max_trials=30, seed=1,
        policy=CurvePolicy(level=0.6, min_finished=4),
    )  # fmt: skip
    stopped = [t for t in result.trials if t.status is TrialStatus.STOPPED]
    assert stopped
    for trial in stopped:
        assert "predicted final" in (trial.stop_reason or "")
        assert "at progress" in (trial.stop_reason or "")
    best = max(t.value for t in result.trials if t.status is TrialStatus.COMPLETED)
    assert result.best_value == best >= 0.8


def test_hyperband_on_the_schedules_axis_judges_each_trial_at_its_own_report() -> None:
    result = optimize(
        _objective, SPACE, sampling="random", max_trials=20, seed=2,
        policy=HyperbandPolicy(0.25, 1.0, reduction_factor=2, resource="fraction"),
    )  # fmt: skip
    for trial in result.trials:
        if trial.status is TrialStatus.STOPPED:
            epochs = trial.params["epochs"]
            # stopped at a rung of its own schedule: a quarter or a half of its epochs
            assert len(trial.reports) in (epochs // 4, epochs // 2), trial.stop_reason
