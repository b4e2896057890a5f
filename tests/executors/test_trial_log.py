"""Trials run in the sweep's own process write ``trials/<id>/log.txt`` as worker processes do:
their log records, and a failure's traceback."""

from __future__ import annotations

import logging
import threading

from automl_vision.artifacts import LOG_FILE
from automl_vision.executors.base import AttemptEnd
from automl_vision.executors.function import FunctionExecutor
from automl_vision.trial import Trial

log = logging.getLogger("automl_vision.tests.trial_log")


def _target(params, report, context) -> float:
    log.warning("training %s", params["name"])
    if params["name"] == "bad":
        raise RuntimeError("the loss went to NaN")
    return 0.5


def _run(executor: FunctionExecutor, trials: list[Trial]) -> dict[str, AttemptEnd]:
    for trial in trials:
        executor.start(trial)
    ends: dict[str, AttemptEnd] = {}
    while len(ends) < len(trials):
        for outcome in executor.wait():
            ends[outcome.trial_id] = outcome.end
    return ends


def test_an_inline_trial_writes_its_log_and_its_error(tmp_path) -> None:
    executor = FunctionExecutor.for_target(_target, output_dir=tmp_path)
    good = Trial(index=0, params={"name": "good"}, trial_id="t0")
    bad = Trial(index=1, params={"name": "bad"}, trial_id="t1")
    ends = _run(executor, [good, bad])
    assert ends["t0"] is not ends["t1"]
    text = (tmp_path / "trials" / "t0" / LOG_FILE).read_text()
    assert text.startswith("trial t0 starts with {'name': 'good'}")
    assert "training good" in text and "trial t0 ended" in text
    failed = (tmp_path / "trials" / "t1" / LOG_FILE).read_text()
    assert "Traceback" in failed and "RuntimeError: the loss went to NaN" in failed
    assert not logging.getLogger("automl_vision").handlers  # nothing left behind


def test_threaded_trials_each_log_only_their_own_records(tmp_path) -> None:
    both_running = threading.Barrier(2, timeout=60)

    def target(params, report, context) -> float:
        both_running.wait()  # the two trials log at the same time
        return _target(params, report, context)

    executor = FunctionExecutor.for_target(target, capacity=2, output_dir=tmp_path)
    trials = [Trial(index=i, params={"name": f"n{i}"}, trial_id=f"t{i}") for i in range(2)]
    _run(executor, trials)
    for i in range(2):
        text = (tmp_path / "trials" / f"t{i}" / LOG_FILE).read_text()
        assert f"training n{i}" in text and f"training n{1 - i}" not in text
