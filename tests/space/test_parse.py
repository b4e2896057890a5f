"""Text and mapping forms of distributions, including Azure's spellings."""

from __future__ import annotations

import pytest

from automl_vision import choice, parse_distribution, qloguniform, quniform, randint, uniform
from automl_vision.space import DistributionError
from automl_vision.space.parse import looks_like_distribution


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice('a', 'b')", choice("a", "b")),
        ('choice("vitb16r224", "vits16r224")', choice("vitb16r224", "vits16r224")),
        ("choice([16, 32, 64])", choice(16, 32, 64)),
        ("choice(values=[0.1, 0.2])", choice(0.1, 0.2)),
        ("choice(True, False)", choice(True, False)),
        ("uniform(0.001, 0.01)", uniform(0.001, 0.01)),
        ("  uniform( 1e-3 , 1E-2 )  ", uniform(0.001, 0.01)),
        ("uniform(min_value=0.1, max_value=0.9)", uniform(0.1, 0.9)),
        ("Uniform(0.1, 0.9)", uniform(0.1, 0.9)),
        ("QUniform(16, 64, 16)", quniform(16, 64, 16)),
        ("quniform(16, 64, q=16)", quniform(16, 64, 16)),
        ("qloguniform(-2, 4, 1)", qloguniform(-2, 4, 1)),
        ("randint(10)", randint(10)),
        ("randint(upper=10)", randint(10)),
    ],
)
def test_parses_text_forms(text: str, expected) -> None:
    assert parse_distribution(text) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"type": "choice", "values": ["vitb16r224", "vits16r224"]},
            choice("vitb16r224", "vits16r224"),
        ),
        ({"type": "uniform", "min_value": 0.001, "max_value": 0.01}, uniform(0.001, 0.01)),
        ({"type": "quniform", "min_value": 16, "max_value": 64, "q": 16}, quniform(16, 64, 16)),
        ({"type": "randint", "upper": 5}, randint(5)),
    ],
)
def test_parses_azure_mapping_forms(data, expected) -> None:
    assert parse_distribution(data) == expected
    assert parse_distribution(expected.to_dict()) == expected


def test_string_form_is_what_yaml_uses() -> None:
    assert str(uniform(0.001, 0.01)) == "uniform(0.001, 0.01)"
    assert str(choice("a", "b")) == "choice('a', 'b')"
    assert str(quniform(16, 64, 16)) == "quniform(16, 64, 16)"
    assert uniform(0, 1).to_dict() == {"type": "uniform", "min_value": 0, "max_value": 1}
    assert choice("a", 1).to_dict() == {"type": "choice", "values": ["a", 1]}


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("uniform(0.1", r"cannot parse distribution 'uniform\(0\.1'"),
        (
            "unifrom(0.1, 0.2)",
            r"unknown distribution 'unifrom' in 'unifrom\(0\.1, 0\.2\)'; did you mean 'uniform'",
        ),
        ("uniform(0.1)", r"'uniform\(0\.1\)': expected uniform\(min_value, max_value\), got 1"),
        ("uniform(0.1, 0.2, 0.3)", "expected uniform"),
        (
            "uniform(0.1, foo)",
            r"cannot parse distribution 'uniform\(0\.1, foo\)': arguments must be literal",
        ),
        ("uniform(__import__('os'), 1)", "arguments must be literal"),
        (
            "uniform(0.2, 0.1)",
            r"'uniform\(0\.2, 0\.1\)': uniform: min_value \(0\.2\) must not exceed",
        ),
        ("quniform(0, 1, 0)", r"'quniform\(0, 1, 0\)': quniform: q must be > 0"),
        ("normal(0, -1)", "sigma must be > 0"),
        ("choice()", "at least one option"),
        ("uniform(a=1, b=2)", "unknown argument"),
        ("0.5", "expected name"),
        ("x.y(1)", "expected name"),
    ],
)
def test_bad_text_raises_one_clear_error_quoting_it(bad: str, match: str) -> None:
    with pytest.raises(DistributionError, match=match):
        parse_distribution(bad)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"min_value": 0, "max_value": 1}, "no 'type' key"),
        ({"type": "uniform", "min_value": 0}, "missing max_value"),
        ({"type": "uniform", "min_value": 0, "max_value": 1, "q": 1}, "unknown argument"),
        ({"type": "choice", "values": "abc"}, "choice needs 'values"),
        ({"type": "gauss", "mu": 0, "sigma": 1}, "unknown distribution 'gauss'"),
        (42, "cannot parse a distribution from 42"),
    ],
)
def test_bad_mappings_raise(bad, match: str) -> None:
    with pytest.raises(DistributionError, match=match):
        parse_distribution(bad)


def test_what_counts_as_a_distribution_string() -> None:
    assert looks_like_distribution("choice('a')")
    assert looks_like_distribution(" uniform (0, 1) ")
    assert not looks_like_distribution("resnet50")
    assert not looks_like_distribution("vit_base_patch16_224.augreg_in21k")


def test_yaml_booleans_in_choice() -> None:
    assert parse_distribution("choice(true, false)") == choice(True, False)
    assert parse_distribution("choice(True, null)") == choice(True, None)
