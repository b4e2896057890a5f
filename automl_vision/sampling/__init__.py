"""Samplers: what configuration to try next (random/Sobol, grid, Bayesian). Pure numpy/scipy."""

from automl_vision.sampling.base import Sampler, Suggestion

__all__ = ["Sampler", "Suggestion"]
