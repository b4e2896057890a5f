"""Property tests for the ten distributions (docs/architecture.md, "Distributions")."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from automl_vision import (
    choice,
    lognormal,
    loguniform,
    normal,
    parse_distribution,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from automl_vision.space import Distribution, DistributionError, Kind, LogUniformBoundsWarning

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
exponent = st.floats(min_value=-20, max_value=20, allow_nan=False)
sigma = st.floats(min_value=1e-3, max_value=5, allow_nan=False)
quantum = st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 16, 100])
option = st.one_of(
    st.text(max_size=8),
    st.integers(-1000, 1000),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.booleans(),
    st.none(),
)


def ordered(pair: tuple[float, float]) -> tuple[float, float]:
    return (min(pair), max(pair))


def quiet(factory, *args):
    """Build a log-scale distribution without the bounds-look-like-values warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogUniformBoundsWarning)
        return factory(*args)


def unique_options(options: list) -> list:
    out: list = []
    for o in options:
        if not any(
            (type(o) is type(p) and o == p)
            or (
                isinstance(o, (int, float))
                and isinstance(p, (int, float))
                and not isinstance(o, bool)
                and not isinstance(p, bool)
                and o == p
            )
            for p in out
        ):
            out.append(o)
    return out


distributions = st.one_of(
    st.tuples(finite, finite).map(ordered).map(lambda b: uniform(*b)),
    st.tuples(st.tuples(finite, finite).map(ordered), quantum).map(lambda a: quniform(*a[0], a[1])),
    st.tuples(exponent, exponent).map(ordered).map(lambda b: quiet(loguniform, *b)),
    st.tuples(st.tuples(exponent, exponent).map(ordered), quantum).map(
        lambda a: quiet(qloguniform, *a[0], a[1])
    ),
    st.tuples(finite, sigma).map(lambda a: normal(*a)),
    st.tuples(finite, sigma, quantum).map(lambda a: qnormal(*a)),
    st.tuples(st.floats(-10, 10), sigma).map(lambda a: lognormal(*a)),
    st.tuples(st.floats(-10, 10), sigma, quantum).map(lambda a: qlognormal(*a)),
    st.integers(1, 10**6).map(randint),
    st.lists(option, min_size=1, max_size=6).map(unique_options).map(choice),
)


def draw(dist: Distribution, seed: int, n: int = 40) -> list:
    rng = np.random.default_rng(seed)
    return [dist.sample(rng) for _ in range(n)]


@given(distributions, st.integers(0, 2**32 - 1))
def test_samples_lie_in_the_support(dist: Distribution, seed: int) -> None:
    support = dist.support
    for value in draw(dist, seed):
        assert support.contains(value), (dist, value, support)


@given(distributions, st.floats(0, 1, exclude_max=True))
def test_unit_transform_lies_in_the_support(dist: Distribution, u: float) -> None:
    assert dist.support.contains(dist.from_unit(u))


@given(
    st.one_of(
        st.tuples(st.tuples(finite, finite).map(ordered), quantum).map(
            lambda a: quniform(*a[0], a[1])
        ),
        st.tuples(st.tuples(exponent, exponent).map(ordered), quantum).map(
            lambda a: quiet(qloguniform, *a[0], a[1])
        ),
        st.tuples(finite, sigma, quantum).map(lambda a: qnormal(*a)),
        st.tuples(st.floats(-10, 10), sigma, quantum).map(lambda a: qlognormal(*a)),
    ),
    st.integers(0, 2**32 - 1),
)
def test_quantized_values_are_multiples_of_q(dist: Distribution, seed: int) -> None:
    for value in draw(dist, seed):
        k = round(value / dist.q)
        assert math.isclose(value, k * dist.q, rel_tol=1e-9, abs_tol=1e-9)
        if float(dist.q).is_integer():
            assert isinstance(value, int)


@given(
    st.one_of(
        st.tuples(exponent, exponent).map(ordered).map(lambda b: quiet(loguniform, *b)),
        st.tuples(st.floats(-10, 10), sigma).map(lambda a: lognormal(*a)),
    ),
    st.integers(0, 2**32 - 1),
)
def test_log_distributions_are_positive(dist: Distribution, seed: int) -> None:
    assert all(v > 0 for v in draw(dist, seed))


@given(st.tuples(exponent, exponent).map(ordered), st.integers(0, 2**32 - 1))
def test_loguniform_bounds_are_exponents(bounds: tuple[float, float], seed: int) -> None:
    lo, hi = bounds
    for value in draw(quiet(loguniform, lo, hi), seed):
        assert math.exp(lo) * (1 - 1e-12) <= value <= math.exp(hi) * (1 + 1e-12)


@given(distributions, st.integers(0, 2**32 - 1))
def test_same_seed_same_samples(dist: Distribution, seed: int) -> None:
    assert draw(dist, seed) == draw(dist, seed)


@given(distributions)
def test_string_round_trip(dist: Distribution) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogUniformBoundsWarning)
        assert parse_distribution(str(dist)) == dist
        assert str(parse_distribution(str(dist))) == str(dist)


@given(distributions)
def test_dict_round_trip(dist: Distribution) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogUniformBoundsWarning)
        assert parse_distribution(dist.to_dict()) == dist


@given(distributions)
def test_distributions_are_immutable_and_hashable(dist: Distribution) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogUniformBoundsWarning)
        assert hash(dist) == hash(parse_distribution(str(dist)))
    with pytest.raises(AttributeError):
        dist.foo = 1  # type: ignore[attr-defined]


def test_semantics_of_each_family() -> None:
    rng = np.random.default_rng(0)
    assert set(randint(3).sample(rng) for _ in range(200)) == {0, 1, 2}
    assert set(choice("a", "b").sample(rng) for _ in range(100)) == {"a", "b"}
    assert choice(["a", "b"]) == choice("a", "b")
    values = [quniform(0, 10, 5).sample(rng) for _ in range(300)]
    assert set(values) == {0, 5, 10}
    assert quniform(0, 1, 0.1).from_unit(0.3) == 0.3  # no binary noise
    assert loguniform(-2, 2).from_unit(0.5) == pytest.approx(1.0)
    assert normal(3, 2).from_unit(0.5) == pytest.approx(3.0)
    assert lognormal(0, 1).from_unit(0.5) == pytest.approx(1.0)
    assert qlognormal(0, 1, 2).from_unit(0.5) == 2 * round(1 / 2)
    samples = np.array([normal(10, 2).sample(rng) for _ in range(4000)])
    assert abs(samples.mean() - 10) < 0.15 and abs(samples.std() - 2) < 0.15


def test_supports_describe_bounds_scale_quantum_options() -> None:
    s = loguniform(-3, 0).support
    assert s.kind is Kind.REAL and s.log and s.low == pytest.approx(math.exp(-3)) and s.high == 1
    s = quniform(16, 128, 16).support
    assert (s.kind, s.low, s.high, s.q) == (Kind.INTEGER, 16, 128, 16)
    assert randint(5).support.low == 0 and randint(5).support.high == 4
    assert normal(0, 1).support.bounded is False
    assert lognormal(0, 1).support.low == 0
    assert choice("x", "y").support.options == ("x", "y")
    assert "log scale" in loguniform(-3, 0).support.describe()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: uniform(2, 1), r"min_value \(2\) must not exceed max_value \(1\)"),
        (lambda: quniform(5, 1, 1), "min_value"),
        (lambda: loguniform(3, -3), "min_value"),
        (lambda: quniform(0, 1, 0), "q must be > 0"),
        (lambda: qnormal(0, 1, -1), "q must be > 0"),
        (lambda: qloguniform(0, 1, 0), "q must be > 0"),
        (lambda: normal(0, 0), "sigma must be > 0"),
        (lambda: lognormal(0, -1), "sigma must be > 0"),
        (lambda: qlognormal(0, 0, 1), "sigma must be > 0"),
        (lambda: choice(), "at least one option"),
        (lambda: choice([]), "at least one option"),
        (lambda: choice("a", "a"), "listed twice"),
        (lambda: randint(0), "upper must be >= 1"),
        (lambda: randint(2.5), "upper must be an integer"),
        (lambda: uniform("a", 1), "min_value must be a number"),
        (lambda: uniform(0, float("nan")), "finite"),
        (lambda: loguniform(-1000, 0), "exponent"),
    ],
)
def test_invalid_arguments_raise_at_construction(make, match: str) -> None:
    with pytest.raises(DistributionError, match=match):
        make()


def test_loguniform_warns_when_bounds_look_like_values() -> None:
    with pytest.warns(LogUniformBoundsWarning, match=r"exponents.*\[1\.001, 1\.105\]"):
        loguniform(0.001, 0.1)
    with pytest.warns(LogUniformBoundsWarning, match=r"loguniform\(-6\.908, -2\.303\)"):
        loguniform(0.001, 0.1)
    with pytest.warns(LogUniformBoundsWarning):
        qloguniform(0.1, 0.5, 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loguniform(-6.9, -2.3)  # the intended spelling does not warn
        loguniform(0, 1)
