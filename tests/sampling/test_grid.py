"""Grid sampling: completeness, uniqueness, order, size, resume, conditions, unions, errors."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sampling_loop import completed, run_loop

from automl_vision.sampling import GridParameterSampling
from automl_vision.space import (
    ImageClassificationSearchSpace,
    InactiveParameterWarning,
    choice,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from automl_vision.trial import Trial, TrialStatus

SPACE = {"a": choice(1, 2, 3), "b": choice("x", "y"), "fixed": 7, "c": choice(True, False)}


def zero(params: dict[str, Any]) -> float:
    return 0.0


def all_params(sampler: GridParameterSampling, limit: int = 1000) -> list[dict[str, Any]]:
    return [t.params for t in run_loop(sampler, zero, limit)]


def test_every_combination_once_in_order_last_field_fastest() -> None:
    got = all_params(GridParameterSampling(SPACE))
    expected = [
        {"a": a, "b": b, "fixed": 7, "c": c}
        for a, b, c in itertools.product((1, 2, 3), ("x", "y"), (True, False))
    ]
    assert got == expected  # same order as itertools.product over the fields in order


def test_size_reports_the_number_of_configurations() -> None:
    sampler = GridParameterSampling(SPACE)
    assert sampler.size == 12
    assert len(all_params(sampler)) == sampler.size


def test_exhausted_grid_returns_none() -> None:
    sampler = GridParameterSampling(SPACE)
    history = run_loop(sampler, zero, 100)
    assert len(history) == 12
    assert sampler.ask(history) is None


def test_combinations_lists_the_same_order() -> None:
    sampler = GridParameterSampling(SPACE)
    assert [s.params for s in sampler.combinations()] == all_params(sampler)


@pytest.mark.parametrize(
    ("done", "status"),
    [
        (range(5), TrialStatus.COMPLETED),
        ((0, 3, 4), TrialStatus.FAILED),
        ((2,), TrialStatus.RUNNING),
    ],
)
def test_resume_continues_with_the_first_untried_combination(
    done: Any, status: TrialStatus
) -> None:
    """Configurations already in the history, whatever their status, are not proposed again."""
    full = all_params(GridParameterSampling(SPACE))
    history = [Trial(i, full[j], 0, status) for i, j in enumerate(done)]
    rest = all_params_from(GridParameterSampling(SPACE), history)
    assert rest == [p for j, p in enumerate(full) if j not in set(done)]


def all_params_from(sampler: GridParameterSampling, history: list[Trial]) -> list[dict[str, Any]]:
    out = run_loop(sampler, zero, 100, history=history)
    return [t.params for t in out[len(history) :]]


def test_history_order_does_not_matter_for_the_next_combination() -> None:
    full = all_params(GridParameterSampling(SPACE))
    history = [completed(i, full[j], 0.0) for i, j in enumerate((4, 0, 1, 2, 3))]
    assert GridParameterSampling(SPACE).ask(history).params == full[5]


def test_inactive_children_are_skipped() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"), momentum=choice(0.8, 0.9)
    )
    sampler = GridParameterSampling(space)
    got = all_params(sampler)
    assert got == [
        {"optimizer": "sgd", "momentum": 0.8},
        {"optimizer": "sgd", "momentum": 0.9},
        {"optimizer": "adam"},
    ]
    assert sampler.size == 3


def test_conditions_on_a_fixed_parent() -> None:
    with pytest.warns(InactiveParameterWarning, match="momentum"):
        space = ImageClassificationSearchSpace(
            optimizer="adam", momentum=choice(0.8, 0.9), beta1=choice(0.8, 0.9)
        )
    got = all_params(GridParameterSampling(space))
    assert got == [
        {"optimizer": "adam", "beta1": 0.8},
        {"optimizer": "adam", "beta1": 0.9},
    ]


def test_a_larger_conditional_grid_has_the_counted_size() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam", "adamw"),
        momentum=choice(0.8, 0.9),
        nesterov=choice(True, False),
        beta1=choice(0.85, 0.9, 0.95),
        learning_rate_scheduler=choice("step", "warmup_cosine"),
        step_lr_gamma=choice(0.1, 0.5),
        learning_rate=choice(0.01, 0.001),
    )
    sampler = GridParameterSampling(space)
    # (sgd: 2*2 + adam: 3 + adamw: 3) * (step: 2 + warmup: 1) * lr 2
    assert sampler.size == (4 + 3 + 3) * (2 + 1) * 2
    configs = all_params(sampler)
    assert len(configs) == sampler.size
    assert len({tuple(sorted(c.items())) for c in configs}) == sampler.size
    parameter_space = space.to_parameter_space()
    assert all(parameter_space.contains(c) for c in configs)


def test_union_of_spaces_in_order_without_duplicates() -> None:
    spaces = [
        {"model": choice("a", "b"), "lr": choice(0.1, 0.01)},
        {"model": choice("b", "c"), "lr": choice(0.01, 0.001)},
    ]
    sampler = GridParameterSampling(spaces)
    trials = run_loop(sampler, zero, 100)
    got = [(t.space_index, t.params["model"], t.params["lr"]) for t in trials]
    assert got == [
        (0, "a", 0.1),
        (0, "a", 0.01),
        (0, "b", 0.1),
        (0, "b", 0.01),
        (1, "b", 0.001),  # ("b", 0.01) came from the first space already
        (1, "c", 0.01),
        (1, "c", 0.001),
    ]
    assert sampler.size == 7


def test_identical_sub_spaces_count_once() -> None:
    sampler = GridParameterSampling([SPACE, dict(SPACE)])
    assert sampler.size == 12
    assert len(all_params(sampler)) == 12


def test_fixed_only_space_is_one_configuration() -> None:
    sampler = GridParameterSampling({"a": 1, "b": "x"})
    assert sampler.size == 1
    assert all_params(sampler) == [{"a": 1, "b": "x"}]


def test_true_and_one_are_different_options() -> None:
    sampler = GridParameterSampling({"v": choice(True, 1, "1")})
    assert sampler.size == 3
    assert [p["v"] for p in all_params(sampler)] == [True, 1, "1"]


@pytest.mark.parametrize(
    "dist",
    [
        randint(3),
        uniform(0, 1),
        quniform(0, 4, 1),
        loguniform(-3, -1),
        qloguniform(0, 2, 1),
        normal(0, 1),
        qnormal(0, 1, 1),
        lognormal(0, 1),
        qlognormal(0, 1, 1),
    ],
)
def test_non_choice_distributions_are_a_clear_error(dist: Any) -> None:
    with pytest.raises(ValueError, match=r"field lr=") as err:
        GridParameterSampling({"ok": choice(1, 2), "lr": dist})
    message = str(err.value)
    assert str(dist) in message
    assert "choice" in message
    assert "ok" not in message.split("fixed values;")[1]


def test_the_error_names_every_offending_field_and_its_sub_space() -> None:
    with pytest.raises(ValueError) as err:
        GridParameterSampling([{"a": choice(1, 2)}, {"a": uniform(0, 1), "b": randint(4)}])
    message = str(err.value)
    assert "a=uniform(0, 1) (search_space[1])" in message
    assert "b=randint(4) (search_space[1])" in message


def test_image_space_with_a_non_choice_field_names_it() -> None:
    space = ImageClassificationSearchSpace(
        model_name=choice("resnet18", "resnet50"), learning_rate=uniform(0.001, 0.01)
    )
    with pytest.raises(ValueError, match=r"learning_rate=uniform\(0.001, 0.01\)"):
        GridParameterSampling(space)


def test_grid_ignores_goal_and_generator() -> None:
    sampler = GridParameterSampling(SPACE)
    assert sampler.ask([], "minimize") == sampler.ask([], "maximize")


def test_image_space_order_is_the_field_table_with_parents_first() -> None:
    space = ImageClassificationSearchSpace(
        weighted_loss=choice(0, 1),
        ams_gradient=choice(True, False),
        optimizer=choice("sgd", "adam"),
    )
    got = [
        (p["optimizer"], p.get("ams_gradient"), p["weighted_loss"])
        for p in all_params(GridParameterSampling(space))
    ]
    assert got == [
        ("sgd", None, 0),
        ("sgd", None, 1),
        ("adam", True, 0),
        ("adam", True, 1),
        ("adam", False, 0),
        ("adam", False, 1),
    ]
