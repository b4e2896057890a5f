"""The search-space language: distributions, typed image-classification spaces, presets.

Pure Python + numpy: importing this package never imports torch. May import the foundations
only (``enums``, ``trial``); timm only lazily, to check a model name Azure does not list.
"""

from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.space.base import Condition, ParameterSpace, as_parameter_spaces
from automl_vision.space.distributions import (
    Distribution,
    Kind,
    Support,
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
from automl_vision.space.errors import (
    DistributionError,
    InactiveParameterWarning,
    LogUniformBoundsWarning,
    SearchSpaceError,
)
from automl_vision.space.fields import (
    AZURE_FIELDS,
    CONDITIONS,
    EXTENSION_FIELDS,
    FIELDS,
    FieldSpec,
    LossFunction,
    ValueType,
)
from automl_vision.space.image_classification import (
    ImageClassificationMultilabelSearchSpace,
    ImageClassificationSearchSpace,
)
from automl_vision.space.load import load_search_space, preset_names, search_space_from_data
from automl_vision.space.model_names import AZURE_MODELS, timm_model_name
from automl_vision.space.parse import parse_distribution

__all__ = [
    "AZURE_FIELDS",
    "AZURE_MODELS",
    "CONDITIONS",
    "EXTENSION_FIELDS",
    "FIELDS",
    "Condition",
    "Distribution",
    "DistributionError",
    "FieldSpec",
    "ImageClassificationMultilabelSearchSpace",
    "ImageClassificationSearchSpace",
    "InactiveParameterWarning",
    "Kind",
    "LogUniformBoundsWarning",
    "LossFunction",
    "ParameterSpace",
    "SearchSpaceError",
    "Support",
    "ValueType",
    "as_parameter_spaces",
    "azure_defaults",
    "choice",
    "load_search_space",
    "lognormal",
    "loguniform",
    "normal",
    "parse_distribution",
    "preset_names",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "search_space_from_data",
    "timm_model_name",
    "uniform",
]
