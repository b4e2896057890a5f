"""Samplers: what to try next (random/Sobol, grid, fixed, Bayesian, multi-objective Bayesian).

Pure numpy/scipy. May import the foundations and ``space``; never a policy, the trainer or a
sweep package: a sampler reads the history of trials it is given.
"""

from automl_vision.sampling.base import Sampler, Suggestion
from automl_vision.sampling.bayesian import BayesianParameterSampling
from automl_vision.sampling.factory import SamplingAlgorithm, create_sampler
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.sampling.grid import GridParameterSampling
from automl_vision.sampling.multiobjective import (
    DeferredKnown,
    MultiObjectiveAcquisition,
    ParetoBayesianSampling,
)
from automl_vision.sampling.random import RandomParameterSampling, SamplingRule

__all__ = [
    "BayesianParameterSampling",
    "DeferredKnown",
    "FixedConfigurations",
    "GridParameterSampling",
    "MultiObjectiveAcquisition",
    "ParetoBayesianSampling",
    "RandomParameterSampling",
    "Sampler",
    "SamplingAlgorithm",
    "SamplingRule",
    "Suggestion",
    "create_sampler",
]
