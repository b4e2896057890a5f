"""Reports with schedule progress and cost are stored, loaded and resumed unchanged."""

from __future__ import annotations

from automl_vision.executors.function import FunctionExecutor
from automl_vision.policies.base import Decision, EarlyTerminationPolicy
from automl_vision.reporting.result import TuneResult
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.store.database import SweepStore

CONFIGS = [{"rate": r, "seconds": s} for r, s in [(0.1, 1.5), (0.3, 0.25), (0.2, 2.0)]]
EPOCHS = 4


def objective(params, report):
    value = 0.0
    for step in range(1, EPOCHS + 1):
        value += params["rate"]
        report(step, value, progress=step / EPOCHS, cost=step * params["seconds"])
    return value


class Recording(EarlyTerminationPolicy):
    """Never stops; keeps the last ``PolicyContext.reports`` it was shown."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict = {}

    def rule(self, context):
        self.seen = {t: list(rs) for t, rs in context.reports.items()}
        return Decision(False, "go on")


def _run(store: SweepStore, max_trials: int, trials=(), policy=None):
    scheduler = Scheduler(
        FixedConfigurations(CONFIGS),
        FunctionExecutor.for_objective(objective),
        max_trials=max_trials,
        policy=policy,
        observers=[store],
        trials=trials,
    )
    return scheduler.run().trials


def _reports(trials):
    return {t.trial_id: [(r.step, r.value, dict(r.metrics)) for r in t.reports] for t in trials}


def test_progress_and_cost_are_stored_loaded_and_resumed(tmp_path) -> None:
    path = tmp_path / SweepStore.FILENAME
    store = SweepStore(path)
    first = _run(store, max_trials=2)
    store.close()
    expected = _reports(first)
    assert [r.cost for r in first[1].reports] == [0.25, 0.5, 0.75, 1.0]
    assert [r.progress for r in first[0].reports] == [0.25, 0.5, 0.75, 1.0]

    loaded = TuneResult.load(tmp_path)
    assert _reports(loaded.trials) == expected
    assert [r.cost for r in loaded.trials[0].reports] == [1.5, 3.0, 4.5, 6.0]

    # resumed: the policy's context holds the earlier trials' reports, progress and cost kept
    reopened = SweepStore(path)
    policy = Recording()
    resumed = _run(reopened, max_trials=3, trials=reopened.load_trials(), policy=policy)
    reopened.close()
    for trial_id, reports in expected.items():
        shown = [(r.step, r.value, dict(r.metrics)) for r in policy.seen[trial_id]]
        assert shown == reports
    new = resumed[2]
    assert [(r.progress, r.cost) for r in policy.seen[new.trial_id]] == [
        (s / EPOCHS, s * 2.0) for s in range(1, EPOCHS + 1)
    ]
    assert _reports(TuneResult.load(tmp_path).trials) == _reports(resumed)
