"""automl_vision: tune image classifiers on your own GPU box.

The search-space language is imported eagerly (it is pure Python + numpy); everything that needs
torch is imported lazily, on first use of its name, so ``import automl_vision`` stays light.
"""

import importlib as _importlib

from automl_vision.policies import (
    ASHAPolicy,
    BanditPolicy,
    Decision,
    EarlyTerminationPolicy,
    HyperbandPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PolicyConfigError,
    TruncationSelectionPolicy,
    policy_from_dict,
)
from automl_vision.reporting.result import NoTrialValueError, OptimizeResult
from automl_vision.sampling import (
    BayesianParameterSampling,
    FixedConfigurations,
    GridParameterSampling,
    RandomParameterSampling,
    Sampler,
    SamplingAlgorithm,
    SamplingRule,
    Suggestion,
    create_sampler,
)
from automl_vision.space import (
    AZURE_MODELS,
    Distribution,
    DistributionError,
    ImageClassificationMultilabelSearchSpace,
    ImageClassificationSearchSpace,
    ParameterSpace,
    SearchSpaceError,
    azure_defaults,
    choice,
    load_search_space,
    lognormal,
    loguniform,
    normal,
    parse_distribution,
    preset_names,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)
from automl_vision.trial import PrimaryMetricGoal, Trial, TrialStatus
from automl_vision.tuning.optimize import optimize

__version__ = "0.1.0"

# public name -> module that defines it, imported on first access (PEP 562)
_LAZY: dict[str, str] = {
    "tune": "automl_vision.tuning.tune",
    "plan_sweep": "automl_vision.planning.plan",
    "SweepPlan": "automl_vision.planning.plan",
    "TuneResult": "automl_vision.reporting.result",
    "tune_job": "automl_vision.tuning.tune",
    "SweepSpec": "automl_vision.config.spec",
    "SweepJob": "automl_vision.config.job",
    "load_sweep_job": "automl_vision.config.job",
    "load_dataset": "automl_vision.data",
    "ImageDataset": "automl_vision.data",
    "Task": "automl_vision.data",
    "TrainingConfig": "automl_vision.training",
    "TrainResult": "automl_vision.training",
    "train": "automl_vision.training",
    "export_onnx": "automl_vision.training",
    "load_checkpoint": "automl_vision.training",
    "Checkpoint": "automl_vision.training",
    "StopReason": "automl_vision.training",
    "CorruptImageWarning": "automl_vision.data",
    "OutsideDataRootError": "automl_vision.data",
    "METRICS": "automl_vision.metric_catalog",
    "load_model": "automl_vision.predict",
    "Predictor": "automl_vision.predict",
    "Prediction": "automl_vision.predict",
    "PRIMARY_METRIC": "automl_vision.metric_catalog",
    "benchmark": "automl_vision.benchmarking.run",
    "BenchmarkResult": "automl_vision.benchmarking.run",
    "BenchmarkSpec": "automl_vision.benchmarking.spec",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl_vision' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API (``__all__``): not the modules, helpers and imports of this file."""
    return sorted(__all__)


__all__ = [
    "AZURE_MODELS",
    "ASHAPolicy",
    "Prediction",
    "Predictor",
    "load_model",
    "BanditPolicy",
    "BayesianParameterSampling",
    "Decision",
    "Distribution",
    "DistributionError",
    "EarlyTerminationPolicy",
    "FixedConfigurations",
    "GridParameterSampling",
    "HyperbandPolicy",
    "ImageClassificationMultilabelSearchSpace",
    "ImageClassificationSearchSpace",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "NoTrialValueError",
    "OptimizeResult",
    "ParameterSpace",
    "PolicyConfigError",
    "PrimaryMetricGoal",
    "RandomParameterSampling",
    "Sampler",
    "SamplingAlgorithm",
    "SamplingRule",
    "SearchSpaceError",
    "Suggestion",
    "Trial",
    "TrialStatus",
    "TruncationSelectionPolicy",
    "__version__",
    "azure_defaults",
    "choice",
    "create_sampler",
    "load_search_space",
    "lognormal",
    "loguniform",
    "normal",
    "optimize",
    "parse_distribution",
    "policy_from_dict",
    "preset_names",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
    *_LAZY,
]
