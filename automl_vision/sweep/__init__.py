"""Sweeps: the scheduler loop, executors, stop criteria, ``optimize`` (and ``tune``).

Importing this package does not import torch; training executors import it when used.
"""

from automl_vision.sweep.criteria import MaxConsecutiveFailures, NoImprovement, TargetValue, Timeout
from automl_vision.sweep.executors import AttemptOutcome, Executor, FunctionExecutor
from automl_vision.sweep.judging import judging_window
from automl_vision.sweep.optimize import OptimizeResult, best_trial, optimize
from automl_vision.sweep.scheduler import Scheduler, SweepObserver, SweepOutcome
from automl_vision.sweep.simulated import SimulatedExecutor, load_learning_curves

__all__ = [
    "Executor",
    "FunctionExecutor",
    "MaxConsecutiveFailures",
    "NoImprovement",
    "OptimizeResult",
    "Scheduler",
    "SimulatedExecutor",
    "SweepObserver",
    "SweepOutcome",
    "TargetValue",
    "Timeout",
    "AttemptOutcome",
    "best_trial",
    "judging_window",
    "load_learning_curves",
    "optimize",
]
