"""The ten HyperDrive distributions as immutable, validating value objects.

Every distribution is a monotone transform of one uniform number ``u`` in [0, 1):
``from_unit(u)`` is its inverse CDF and ``to_unit(value)`` its CDF. Random and quasi-random
samplers draw ``u`` and transform it; model-based samplers work in the unit cube and map back.
``choice`` is the exception (unordered): its unit transform picks an option by index.

Exact semantics (the public contract, see docs/architecture.md, "Distributions"):

==============================  =================================================
``choice(*options)``            one of the options
``randint(upper)``              integer in [0, upper)
``uniform(lo, hi)``             real in [lo, hi]
``quniform(lo, hi, q)``         round(uniform(lo, hi) / q) * q
``loguniform(lo, hi)``          exp(uniform(lo, hi)) -- bounds are natural-log exponents
``qloguniform(lo, hi, q)``      round(exp(uniform(lo, hi)) / q) * q
``normal(mu, sigma)``           real, unbounded
``qnormal(mu, sigma, q)``       round(normal(mu, sigma) / q) * q
``lognormal(mu, sigma)``        exp(normal(mu, sigma)), positive
``qlognormal(mu, sigma, q)``    round(exp(normal(mu, sigma)) / q) * q
==============================  =================================================
"""

from __future__ import annotations

import abc
import enum
import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from automl_vision.space.errors import DistributionError, LogUniformBoundsWarning, short_repr

__all__ = [
    "Distribution",
    "Kind",
    "Support",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]

_STD_NORMAL = NormalDist()
# Keep the normal quantile finite: u is clipped to [EPS, 1 - EPS] before the inverse CDF.
_EPS = 1e-12


class Kind(enum.Enum):
    """What kind of values a distribution produces."""

    CATEGORICAL = "categorical"
    INTEGER = "integer"
    REAL = "real"


@dataclass(frozen=True)
class Support:
    """The set of values a distribution can produce, for validation and for samplers.

    ``low``/``high`` are inclusive bounds of the produced values (``-inf``/``inf`` when
    unbounded); ``log`` says the natural scale is logarithmic; ``q`` is the quantum of
    quantized distributions; ``options`` lists the values of a ``choice``.
    """

    kind: Kind
    low: float = -math.inf
    high: float = math.inf
    log: bool = False
    q: float | None = None
    options: tuple[Any, ...] = ()

    @property
    def bounded(self) -> bool:
        return self.kind is Kind.CATEGORICAL or (
            math.isfinite(self.low) and math.isfinite(self.high)
        )

    @property
    def discrete(self) -> bool:
        return self.kind is not Kind.REAL or self.q is not None

    def contains(self, value: Any) -> bool:
        if self.kind is Kind.CATEGORICAL:
            return any(_same(value, option) for option in self.options)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        try:  # as the bounds are: floats (an int past 2**53 rounds as they did)
            if not self.low <= float(value) <= self.high:
                return False
        except OverflowError:
            return False
        if self.kind is Kind.INTEGER and not isinstance(value, int) and not value.is_integer():
            return False  # (an int is whole, also past 2**53 where float() would round it)
        return self.q is None or _is_multiple(value, self.q)

    def describe(self) -> str:
        """Human-readable description, e.g. ``values in [0.001, 0.1] (log scale)``."""
        if self.kind is Kind.CATEGORICAL:
            return "one of " + ", ".join(repr(o) for o in self.options)
        what = "integers" if self.kind is Kind.INTEGER else "values"
        text = f"{what} in [{_short(self.low)}, {_short(self.high)}]"
        if self.q is not None:
            text += f", multiples of {_fmt(self.q)}"
        if self.log:
            text += " (log scale)"
        return text


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _short(x: float) -> str:
    return _fmt(x) if math.isinf(x) or float(x).is_integer() else f"{x:.6g}"


def _same(a: Any, b: Any) -> bool:
    """Equality that does not confuse True with 1 or 1 with '1'."""
    return (type(a) is type(b) and a == b) or (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def _same_key(option: Hashable) -> tuple[str, Hashable]:
    """A key equal for two options exactly when ``_same`` says they are the same."""
    if isinstance(option, (int, float)) and not isinstance(option, bool):
        return ("number", option)
    return (type(option).__name__, option)


def _is_multiple(value: float, q: float) -> bool:
    k = round(value / q)
    return math.isclose(value, k * q, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, abs(q)))


def _number(name: str, dist: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DistributionError(
            f"{dist}: {name} must be a number, got {value!r} ({type(value).__name__})"
        )
    value = float(value)
    if not math.isfinite(value):
        raise DistributionError(f"{dist}: {name} must be a finite number, got {value!r}")
    return value


def _plain(value: float) -> int | float:
    """Integral bounds as int, so ``str`` prints ``uniform(0, 1)``, not ``uniform(0.0, 1.0)``."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _quantize(x: float, q: float) -> int | float:
    """``round(x / q) * q`` without binary noise: 0.3 rather than 0.30000000000000004.

    The result is an ``int`` when ``q`` is integral (so ``quniform(16, 128, 16)`` yields batch
    sizes), else the float nearest to the exact decimal multiple.
    """
    k = round(x / q)
    if float(q).is_integer():
        return int(k * int(q))
    return float(Decimal(k) * Decimal(repr(float(q))))


def _normal_ppf(u: float) -> float:
    return _STD_NORMAL.inv_cdf(min(max(u, _EPS), 1.0 - _EPS))


def _check_representable(dist: Distribution) -> None:
    """Refuse arguments whose values overflow a float (``quniform(0, 1e308, 1e-308)``,
    ``lognormal(0, 1e300)``): found now, not as a traceback when a sampler draws."""
    try:
        dist.support  # noqa: B018 -- a quantized support rounds its bounds: it may overflow
        finite = all(math.isfinite(float(dist.from_unit(u))) for u in (0.0, 0.5, 1.0 - _EPS))
    except OverflowError:
        finite = False
    if not finite:
        raise DistributionError(
            f"{dist.name}: its values overflow (too large to represent); use smaller bounds, "
            "a smaller sigma or a larger q"
        )


@dataclass(frozen=True, repr=False)
class Distribution(abc.ABC):
    """Base class. Subclasses are frozen dataclasses; equality is by value."""

    name: ClassVar[str]
    # argument names in their public (positional) order, e.g. ("min_value", "max_value")
    arg_names: ClassVar[tuple[str, ...]]

    # -- sampling ---------------------------------------------------------------------------
    @abc.abstractmethod
    def from_unit(self, u: float) -> Any:
        """Inverse CDF: map ``u`` in [0, 1) to a value."""

    @abc.abstractmethod
    def to_unit(self, value: Any) -> float:
        """CDF: map a value back into [0, 1] (approximately, for quantized ones)."""

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value with ``rng`` (a ``numpy.random.Generator``)."""
        return self.from_unit(float(rng.random()))

    @property
    @abc.abstractmethod
    def support(self) -> Support:
        """The values this distribution can produce."""

    # -- text and dict forms ----------------------------------------------------------------
    def args(self) -> tuple[Any, ...]:
        return tuple(getattr(self, a) for a in self.arg_names)

    def __str__(self) -> str:
        return f"{self.name}({', '.join(repr(a) for a in self.args())})"

    __repr__ = __str__

    def to_dict(self) -> dict[str, Any]:
        """Azure's mapping form: ``{"type": "uniform", "min_value": 0.1, "max_value": 1}``."""
        return {"type": self.name, **{a: getattr(self, a) for a in self.arg_names}}


# ------------------------------------------------------------------------------------------
# bounded continuous families
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class _Bounded(Distribution):
    min_value: float
    max_value: float
    arg_names: ClassVar[tuple[str, ...]] = ("min_value", "max_value")

    def __post_init__(self) -> None:
        lo = _number("min_value", self.name, self.min_value)
        hi = _number("max_value", self.name, self.max_value)
        if lo > hi:
            raise DistributionError(
                f"{self.name}: min_value ({_fmt(lo)}) must not exceed max_value ({_fmt(hi)})"
            )
        object.__setattr__(self, "min_value", _plain(lo))
        object.__setattr__(self, "max_value", _plain(hi))

    def _internal(self, u: float) -> float:
        x = self.min_value + u * (self.max_value - self.min_value)
        return min(max(x, self.min_value), self.max_value)  # no rounding past the bounds

    def _internal_unit(self, x: float) -> float:
        span = self.max_value - self.min_value
        return 0.5 if span == 0 else min(max((x - self.min_value) / span, 0.0), 1.0)


_MAX_EXPONENT = 700.0


def _check_log_bounds(dist: _Bounded) -> None:
    """loguniform bounds are exponents: keep exp() finite and warn about the usual mix-up."""
    for bound in (dist.min_value, dist.max_value):
        if abs(bound) > _MAX_EXPONENT:
            raise DistributionError(
                f"{dist.name}: bound {bound!r} is a natural-log exponent and exp({bound!r}) "
                f"is not a usable number; keep the bounds within [-700, 700]"
            )
    lo, hi = dist.min_value, dist.max_value
    if 0 < lo < 1 and 0 < hi < 1:
        warnings.warn(
            f"{dist}: the bounds of {dist.name} are natural-log exponents, so this samples values "
            f"in [{math.exp(lo):.4g}, {math.exp(hi):.4g}] (e^{lo!r} to e^{hi!r}). For values "
            f"between {lo!r} and {hi!r} write {dist.name}({math.log(lo):.4g}, {math.log(hi):.4g}"
            + (f", {dist.q!r})" if hasattr(dist, "q") else ")"),
            LogUniformBoundsWarning,
            stacklevel=4,
        )


@dataclass(frozen=True, repr=False)
class uniform(_Bounded):
    """Real value uniformly distributed in [min_value, max_value]."""

    name: ClassVar[str] = "uniform"

    def from_unit(self, u: float) -> float:
        return float(self._internal(u))

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(float(value))

    @property
    def support(self) -> Support:
        return Support(Kind.REAL, float(self.min_value), float(self.max_value))


@dataclass(frozen=True, repr=False)
class loguniform(_Bounded):
    """``exp(uniform(min_value, max_value))``: the bounds are natural-log exponents."""

    name: ClassVar[str] = "loguniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_log_bounds(self)

    def from_unit(self, u: float) -> float:
        return float(math.exp(self._internal(u)))

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(math.log(max(float(value), 1e-300)))

    @property
    def support(self) -> Support:
        return Support(Kind.REAL, math.exp(self.min_value), math.exp(self.max_value), log=True)


@dataclass(frozen=True, repr=False)
class _QBounded(_Bounded):
    q: float
    arg_names: ClassVar[tuple[str, ...]] = ("min_value", "max_value", "q")

    def __post_init__(self) -> None:
        super().__post_init__()
        q = _number("q", self.name, self.q)
        if q <= 0:
            raise DistributionError(f"{self.name}: q must be > 0, got {_fmt(q)}")
        object.__setattr__(self, "q", _plain(q))

    def _quantized_support(self, lo: float, hi: float, log: bool) -> Support:
        kind = Kind.INTEGER if float(self.q).is_integer() else Kind.REAL
        return Support(
            kind, float(_quantize(lo, self.q)), float(_quantize(hi, self.q)), log, self.q
        )


@dataclass(frozen=True, repr=False)
class quniform(_QBounded):
    """``round(uniform(min_value, max_value) / q) * q``."""

    name: ClassVar[str] = "quniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_representable(self)

    def from_unit(self, u: float) -> int | float:
        return _quantize(self._internal(u), self.q)

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(float(value))

    @property
    def support(self) -> Support:
        return self._quantized_support(self.min_value, self.max_value, log=False)


@dataclass(frozen=True, repr=False)
class qloguniform(_QBounded):
    """``round(exp(uniform(min_value, max_value)) / q) * q`` (bounds are log exponents)."""

    name: ClassVar[str] = "qloguniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_log_bounds(self)
        _check_representable(self)

    def from_unit(self, u: float) -> int | float:
        return _quantize(math.exp(self._internal(u)), self.q)

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(math.log(max(float(value), 1e-300)))

    @property
    def support(self) -> Support:
        return self._quantized_support(math.exp(self.min_value), math.exp(self.max_value), log=True)


# ------------------------------------------------------------------------------------------
# unbounded (normal) families
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class _Gaussian(Distribution):
    mu: float
    sigma: float
    arg_names: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def __post_init__(self) -> None:
        mu = _number("mu", self.name, self.mu)
        sigma = _number("sigma", self.name, self.sigma)
        if sigma <= 0:
            raise DistributionError(f"{self.name}: sigma must be > 0, got {_fmt(sigma)}")
        object.__setattr__(self, "mu", _plain(mu))
        object.__setattr__(self, "sigma", _plain(sigma))

    def _internal(self, u: float) -> float:
        return self.mu + self.sigma * _normal_ppf(u)

    def _internal_unit(self, x: float) -> float:
        return _STD_NORMAL.cdf((x - self.mu) / self.sigma)


@dataclass(frozen=True, repr=False)
class normal(_Gaussian):
    """Real value ~ N(mu, sigma²), unbounded."""

    name: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_representable(self)

    def from_unit(self, u: float) -> float:
        return float(self._internal(u))

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(float(value))

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.mu, self.sigma))

    @property
    def support(self) -> Support:
        return Support(Kind.REAL)


@dataclass(frozen=True, repr=False)
class lognormal(_Gaussian):
    """``exp(normal(mu, sigma))``, positive."""

    name: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_representable(self)

    def from_unit(self, u: float) -> float:
        return float(math.exp(self._internal(u)))

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(math.log(max(float(value), 1e-300)))

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.normal(self.mu, self.sigma)))

    @property
    def support(self) -> Support:
        return Support(Kind.REAL, 0.0, math.inf, log=True)


@dataclass(frozen=True, repr=False)
class _QGaussian(_Gaussian):
    q: float
    arg_names: ClassVar[tuple[str, ...]] = ("mu", "sigma", "q")

    def __post_init__(self) -> None:
        super().__post_init__()
        q = _number("q", self.name, self.q)
        if q <= 0:
            raise DistributionError(f"{self.name}: q must be > 0, got {_fmt(q)}")
        object.__setattr__(self, "q", _plain(q))

    def _kind(self) -> Kind:
        return Kind.INTEGER if float(self.q).is_integer() else Kind.REAL


@dataclass(frozen=True, repr=False)
class qnormal(_QGaussian):
    """``round(normal(mu, sigma) / q) * q``."""

    name: ClassVar[str] = "qnormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_representable(self)

    def from_unit(self, u: float) -> int | float:
        return _quantize(self._internal(u), self.q)

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(float(value))

    def sample(self, rng: np.random.Generator) -> int | float:
        return _quantize(float(rng.normal(self.mu, self.sigma)), self.q)

    @property
    def support(self) -> Support:
        return Support(self._kind(), q=self.q)


@dataclass(frozen=True, repr=False)
class qlognormal(_QGaussian):
    """``round(exp(normal(mu, sigma)) / q) * q`` (non-negative; 0 when exp(...) < q/2)."""

    name: ClassVar[str] = "qlognormal"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_representable(self)

    def from_unit(self, u: float) -> int | float:
        return _quantize(math.exp(self._internal(u)), self.q)

    def to_unit(self, value: Any) -> float:
        return self._internal_unit(math.log(max(float(value), 1e-300)))

    def sample(self, rng: np.random.Generator) -> int | float:
        return _quantize(math.exp(rng.normal(self.mu, self.sigma)), self.q)

    @property
    def support(self) -> Support:
        return Support(self._kind(), 0.0, math.inf, log=True, q=self.q)


# ------------------------------------------------------------------------------------------
# discrete families
# ------------------------------------------------------------------------------------------
_MAX_UPPER = 2**63 - 1


@dataclass(frozen=True, repr=False)
class randint(Distribution):
    """Integer uniformly distributed in [0, upper)."""

    upper: int
    name: ClassVar[str] = "randint"
    arg_names: ClassVar[tuple[str, ...]] = ("upper",)

    def __post_init__(self) -> None:
        number = _number("upper", self.name, self.upper)
        if not number.is_integer():
            raise DistributionError(f"{self.name}: upper must be an integer, got {self.upper!r}")
        upper = self.upper if isinstance(self.upper, int) else int(number)  # exact, if an int
        if upper < 1:
            raise DistributionError(f"{self.name}: upper must be >= 1, got {upper}")
        if upper > _MAX_UPPER:  # numpy draws 64-bit integers
            raise DistributionError(
                f"{self.name}: upper must be at most 2**63 - 1, got {_fmt(number)}"
            )
        object.__setattr__(self, "upper", int(upper))

    def from_unit(self, u: float) -> int:
        return min(int(u * self.upper), self.upper - 1)

    def to_unit(self, value: Any) -> float:
        return (int(value) + 0.5) / self.upper

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.upper))

    @property
    def support(self) -> Support:
        return Support(Kind.INTEGER, 0.0, float(self.upper - 1))


_OPTION_TYPES = (str, int, float, bool, type(None))


def _freeze_option(option: Any) -> Hashable:
    if isinstance(option, (np.integer, np.floating, np.bool_)):
        option = option.item()
    if isinstance(option, (list, tuple)):
        return tuple(_freeze_option(o) for o in option)
    if not isinstance(option, _OPTION_TYPES):
        raise DistributionError(
            f"choice: options must be strings, numbers, booleans, null or lists of those; "
            f"got {option!r} ({type(option).__name__})"
        )
    if isinstance(option, float) and not math.isfinite(option):
        raise DistributionError(f"choice: options must be finite numbers, got {option!r}")
    return option


@dataclass(frozen=True, init=False, repr=False)
class choice(Distribution):
    """One of the given options: ``choice('a', 'b')`` or ``choice(['a', 'b'])``."""

    options: tuple[Any, ...] = field(default=())
    name: ClassVar[str] = "choice"
    arg_names: ClassVar[tuple[str, ...]] = ("values",)

    def __init__(self, *options: Any, values: Sequence[Any] | None = None) -> None:
        if values is not None:
            if options:
                raise DistributionError(
                    "choice: give the options positionally or as values=, not both"
                )
            options = (values,)
        if len(options) == 1 and isinstance(options[0], (list, tuple, range)):
            options = tuple(options[0])
        frozen = tuple(_freeze_option(o) for o in options)
        if not frozen:
            raise DistributionError("choice: needs at least one option, got none")
        seen: set[tuple[str, Hashable]] = set()  # by _same's rule, in linear time
        for option in frozen:
            key = _same_key(option)
            if key in seen:
                raise DistributionError(
                    f"choice: option {short_repr(option)} is listed twice in {short_repr(frozen)}"
                )
            seen.add(key)
        object.__setattr__(self, "options", frozen)

    @property
    def values(self) -> tuple[Any, ...]:
        return self.options

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, choice)
            and len(self.options) == len(other.options)
            and all(_same(a, b) for a, b in zip(self.options, other.options, strict=True))
        )

    def __hash__(self) -> int:
        return hash(("choice", tuple((type(o).__name__, o) for o in self.options)))

    def args(self) -> tuple[Any, ...]:
        return self.options

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "values": [_thaw(o) for o in self.options]}

    def index(self, value: Any) -> int:
        for i, option in enumerate(self.options):
            if _same(option, value):
                return i
        raise DistributionError(f"{value!r} is not one of the options of {self}")

    def from_unit(self, u: float) -> Any:
        return self.options[min(int(u * len(self.options)), len(self.options) - 1)]

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.options)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    @property
    def support(self) -> Support:
        return Support(Kind.CATEGORICAL, options=self.options)


def _thaw(option: Any) -> Any:
    return [_thaw(o) for o in option] if isinstance(option, tuple) else option


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.name: cls
    for cls in (
        choice,
        randint,
        uniform,
        quniform,
        loguniform,
        qloguniform,
        normal,
        qnormal,
        lognormal,
        qlognormal,
    )
}
