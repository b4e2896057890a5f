"""The pieces under the Bayesian sampler: the GP, log EI, the unit-cube encoding, and the
enumeration of finite spaces."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import optimize, stats

from automl_vision.sampling.combinations import (
    count_combinations,
    finite_values,
    iter_combinations,
    union_combinations,
)
from automl_vision.sampling.encoding import INACTIVE, UnitEncoder
from automl_vision.sampling.gp import (
    GaussianProcess,
    GPPriors,
    log_expected_improvement,
    negative_log_posterior,
)
from automl_vision.space import (
    ImageClassificationSearchSpace,
    LogUniformBoundsWarning,
    ParameterSpace,
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


def data(n: int = 25, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    y = np.sin(4 * x).sum(1) + 0.3 * x[:, 0] ** 2
    return x, (y - y.mean()) / y.std()


# -- GP -----------------------------------------------------------------------------------------
def test_negative_log_posterior_gradient_matches_finite_differences() -> None:
    x, y = data()
    theta = np.array([math.log(0.3), math.log(0.8), math.log(1.5), 0.2, math.log(1e-2)])
    priors = GPPriors()
    error = optimize.check_grad(
        lambda t: negative_log_posterior(t, x, y, priors)[0],
        lambda t: negative_log_posterior(t, x, y, priors)[1],
        theta,
    )
    scale = np.linalg.norm(negative_log_posterior(theta, x, y, priors)[1])
    assert error < 1e-4 * max(scale, 1.0)


def test_fit_interpolates_a_smooth_function_and_predicts_held_out_points() -> None:
    x, y = data(40)
    model = GaussianProcess.fit(x, y)
    mean, var = model.predict(x)
    assert np.abs(mean - y).max() < 0.05
    assert np.all(var >= 0)
    x_new, y_new = data(20, seed=1)
    # same standardization: compare correlation, not values
    assert stats.pearsonr(model.predict(x_new)[0], y_new)[0] > 0.95


def test_predict_with_gradient_agrees_with_predict_and_finite_differences() -> None:
    x, y = data()
    model = GaussianProcess.fit(x, y)
    points = np.random.default_rng(2).random((4, 3))
    mean, var, d_mean, d_var = model.predict_with_gradient(points)
    mean2, var2 = model.predict(points)
    np.testing.assert_allclose(mean, mean2, atol=1e-10)
    np.testing.assert_allclose(var, var2, atol=1e-10)
    for i, p in enumerate(points):
        for which, grad in ((0, d_mean[i]), (1, d_var[i])):
            numeric = optimize.approx_fprime(
                p, lambda q, w=which: model.predict(q[None, :])[w][0], 1e-7
            )
            np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


def test_conditioning_on_believed_values_collapses_the_variance_there() -> None:
    x, y = data()
    model = GaussianProcess.fit(x, y)
    point = np.array([[0.5, 0.5, 0.5]])
    mean, var = model.predict(point)
    believer = model.condition_on(point, mean)
    mean_after, var_after = believer.predict(point)
    assert var_after[0] < 1e-2 * var[0]
    assert var_after[0] <= 2e-6 * model.signal  # only the jitter that keeps it well-posed
    np.testing.assert_allclose(mean_after, mean, atol=1e-6)


def test_fit_is_deterministic() -> None:
    x, y = data()
    a, b = GaussianProcess.fit(x, y), GaussianProcess.fit(x, y)
    np.testing.assert_array_equal(a.lengthscales, b.lengthscales)
    assert (a.signal, a.noise) == (b.signal, b.noise)


# -- log EI -------------------------------------------------------------------------------------
def direct_ei(mean: float, var: float, best: float) -> float:
    s = math.sqrt(var)
    z = (mean - best) / s
    return s * (z * stats.norm.cdf(z) + stats.norm.pdf(z))


@pytest.mark.parametrize("mean", [-3.0, -2.0, -1.0, -0.3, 0.0, 0.5, 3.0])
@pytest.mark.parametrize("var", [0.25, 1.0, 4.0])
def test_log_ei_matches_the_formula(mean: float, var: float) -> None:
    value, d_mean, d_var = log_expected_improvement(np.array([mean]), np.array([var]), 0.0)
    assert value[0] == pytest.approx(math.log(direct_ei(mean, var, 0.0)), rel=1e-9, abs=1e-9)
    h = 1e-6
    num_mean = (
        math.log(direct_ei(mean + h, var, 0.0)) - math.log(direct_ei(mean - h, var, 0.0))
    ) / (2 * h)
    num_var = (
        math.log(direct_ei(mean, var + h, 0.0)) - math.log(direct_ei(mean, var - h, 0.0))
    ) / (2 * h)
    assert d_mean[0] == pytest.approx(num_mean, rel=1e-4, abs=1e-7)
    assert d_var[0] == pytest.approx(num_var, rel=1e-4, abs=1e-7)


def test_log_ei_stays_finite_and_ordered_far_below_the_incumbent() -> None:
    means = -np.array([10.0, 40.0, 1e3, 1e5])
    value, d_mean, _ = log_expected_improvement(means, np.ones(4), 0.0)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(d_mean))
    assert np.all(np.diff(value) < 0)  # worse mean, lower EI
    assert np.all(d_mean > 0)


# -- encoding -----------------------------------------------------------------------------------
with warnings.catch_warnings():
    warnings.simplefilter("ignore", LogUniformBoundsWarning)
    MIXED = ParameterSpace(
        {
            "c": choice("a", "b", "c"),
            "ri": randint(5),
            "u": uniform(-1, 1),
            "qu": quniform(16, 128, 16),
            "lu": loguniform(-5, -1),
            "qlu": qloguniform(0, 4, 2),
            "n": normal(0, 1),
            "qn": qnormal(0, 2, 0.5),
            "ln": lognormal(0, 1),
            "qln": qlognormal(1, 0.5, 1),
            "fixed": "x",
        }
    )


def test_encode_decode_round_trip_for_every_kind() -> None:
    encoder = UnitEncoder([MIXED])
    rng = np.random.default_rng(0)
    for _ in range(30):
        config = MIXED.sample(rng)
        row = encoder.encode(config, 0)
        assert row.shape == (encoder.width,)
        assert np.all((row >= 0) & (row <= 1))
        back = encoder.decode(row, 0)
        for name, value in config.items():
            assert back[name] == pytest.approx(value, rel=1e-9), name


def test_canonicalize_gives_encodings_of_real_configurations() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam", "adamw"),
        momentum=uniform(0.8, 0.99),
        beta1=uniform(0.8, 0.95),
        learning_rate_scheduler=choice("warmup_cosine", "step"),
        step_lr_gamma=uniform(0.1, 0.9),
        step_lr_step_size=quniform(1, 10, 1),
        training_batch_size=quniform(16, 64, 16),
    ).to_parameter_space()
    spaces = [space, MIXED]
    encoder = UnitEncoder(spaces)
    raw = encoder.random_rows(200, np.random.default_rng(1))
    for index, parameter_space in enumerate(spaces):
        rows = encoder.canonicalize(raw, index)
        for row in rows:
            config = encoder.decode(row, index)
            assert parameter_space.contains(config), config
            np.testing.assert_allclose(encoder.encode(config, index), row, atol=1e-9)


def test_inactive_parameters_take_the_constant() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"), momentum=uniform(0.8, 0.99), nesterov=choice(True, False)
    ).to_parameter_space()
    encoder = UnitEncoder([space])
    sgd = encoder.encode({"optimizer": "sgd", "momentum": 0.9, "nesterov": True}, 0)
    adam = encoder.encode({"optimizer": "adam"}, 0)
    other_adam = encoder.canonicalize(np.array([[0.1, 0.9, 0.3, 0.7, 0.2]]), 0)[0]
    momentum = encoder.dims[0]["momentum"].column
    nesterov = encoder.dims[0]["nesterov"].columns
    assert adam[momentum] == INACTIVE and np.all(adam[nesterov] == 0)
    assert sgd[momentum] != INACTIVE
    np.testing.assert_array_equal(adam, other_adam)  # two adam points: no distance at all


def test_sub_spaces_share_columns_of_identical_parameters() -> None:
    a = ParameterSpace({"m": "a", "lr": uniform(0, 1), "bs": choice(16, 32)})
    b = ParameterSpace({"m": "b", "lr": uniform(0, 1), "bs": choice(16, 64)})
    encoder = UnitEncoder([a, b])
    assert encoder.dims[0]["lr"] is encoder.dims[1]["lr"]
    assert encoder.dims[0]["bs"] is not encoder.dims[1]["bs"]
    assert encoder.width == 2 + 1 + 2 + 2  # sub-space indicators, lr, two bs blocks


# -- finite spaces ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dist", "values"),
    [
        (randint(4), (0, 1, 2, 3)),
        (quniform(16, 64, 16), (16, 32, 48, 64)),
        (quniform(0.5, 2.5, 1), (0, 1, 2)),
        (quniform(0, 0.3, 0.1), (0.0, 0.1, 0.2, 0.3)),
        (qloguniform(0, math.log(10), 3), (0, 3, 6, 9)),
        (choice("a", 1), ("a", 1)),
        (uniform(0, 1), None),
        (qnormal(0, 1, 1), None),
    ],
)
def test_finite_values(dist, values) -> None:
    assert finite_values(dist, 1000) == values


def test_finite_values_respects_the_limit() -> None:
    assert finite_values(randint(100), 99) is None
    assert finite_values(randint(100), 100) == tuple(range(100))


def test_count_matches_the_enumeration_with_conditions() -> None:
    space = ImageClassificationSearchSpace(
        optimizer=choice("sgd", "adam"),
        momentum=choice(0.8, 0.9, 0.95),
        beta1=choice(0.9, 0.95),
        weighted_loss=choice(0, 1, 2),
    ).to_parameter_space()

    def options(name, dist):
        return dist.support.options

    configs = list(iter_combinations(space, options))
    assert count_combinations(space, options) == len(configs) == (3 + 2) * 3


def test_union_combinations_deduplicates_and_knows_when_to_give_up() -> None:
    spaces = [ParameterSpace({"a": randint(3)}), ParameterSpace({"a": choice(2, 3)})]
    combos = union_combinations(spaces, 100)
    assert [(i, c["a"]) for i, c in combos] == [(0, 0), (0, 1), (0, 2), (1, 3)]
    assert union_combinations(spaces, 3) is None
    assert union_combinations([ParameterSpace({"x": uniform(0, 1)})], 100) is None
