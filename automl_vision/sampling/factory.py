"""``create_sampler``: a sampler from HyperDrive's ``sampling_algorithm`` names or an instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automl_vision.enums import ChoiceEnum
from automl_vision.sampling.base import Sampler
from automl_vision.sampling.bayesian import BayesianParameterSampling
from automl_vision.sampling.grid import GridParameterSampling
from automl_vision.sampling.random import RandomParameterSampling, SamplingRule

__all__ = ["SamplingAlgorithm", "create_sampler"]


class SamplingAlgorithm(ChoiceEnum):
    """Azure's ``sampling_algorithm`` values."""

    RANDOM = "random"
    SOBOL = "sobol"
    GRID = "grid"
    BAYESIAN = "bayesian"


_FACTORIES: dict[SamplingAlgorithm, Callable[[Any, int | None], Sampler]] = {
    SamplingAlgorithm.RANDOM: lambda space, seed: RandomParameterSampling(space, seed=seed),
    SamplingAlgorithm.SOBOL: lambda space, seed: RandomParameterSampling(
        space, seed=seed, rule=SamplingRule.SOBOL
    ),
    SamplingAlgorithm.GRID: lambda space, seed: GridParameterSampling(space),
    SamplingAlgorithm.BAYESIAN: lambda space, seed: BayesianParameterSampling(space, seed=seed),
}


def create_sampler(
    spec: Sampler | SamplingAlgorithm | str, parameter_space: Any, *, seed: int | None = None
) -> Sampler:
    """``spec`` as a sampler: an instance is returned as is; a name or ``SamplingAlgorithm``
    builds that sampler over ``parameter_space`` (grid ignores ``seed``)."""
    if isinstance(spec, Sampler):
        return spec
    if not isinstance(spec, str):
        allowed = ", ".join(repr(m.value) for m in SamplingAlgorithm)
        raise ValueError(
            f"sampling={spec!r} is not allowed; sampling must be a Sampler or one of {allowed}"
        )
    return _FACTORIES[SamplingAlgorithm.parse(spec, "sampling", "a Sampler or ")](
        parameter_space, seed
    )
