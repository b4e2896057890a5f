"""``ConstrainedSampler``: refused suggestions never become trials, are counted, and end the
sampling after too many in a row; a check that refuses nothing changes nothing."""

from __future__ import annotations

from automl_vision import choice, uniform
from automl_vision.sampling.constrained import ConstrainedSampler
from automl_vision.sampling.random import RandomParameterSampling as RandomSampler

SPACE = {"model_name": choice("small", "big"), "learning_rate": uniform(0.01, 0.1)}


def _big(suggestion) -> str | None:
    return "params_m > 5" if suggestion.params["model_name"] == "big" else None


def test_refused_suggestions_are_skipped_and_counted() -> None:
    sampler = ConstrainedSampler(RandomSampler(SPACE, seed=3), _big)
    asked = [sampler.ask([]) for _ in range(6)]
    assert all(s is not None and s.params["model_name"] == "small" for s in asked)
    assert sampler.refused == sampler.refusals["params_m > 5"] >= 1


def test_a_check_that_refuses_nothing_changes_no_suggestion() -> None:
    plain, wrapped = RandomSampler(SPACE, seed=5), RandomSampler(SPACE, seed=5)
    sampler = ConstrainedSampler(wrapped, lambda s: None)
    assert [plain.ask([]).params for _ in range(3)] == [sampler.ask([]).params for _ in range(3)]
    assert sampler.refused == 0 and sampler.size == plain.size


def test_too_many_refusals_in_a_row_end_the_sampling() -> None:
    sampler = ConstrainedSampler(RandomSampler(SPACE, seed=1), lambda s: "latency_ms > 0.1",
                                 max_refusals=7)  # fmt: skip
    assert sampler.ask([]) is None
    assert sampler.refused == 7 and "7 configurations in a row refused" in sampler.ended
