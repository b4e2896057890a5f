"""Learning-curve models: where a partial training curve is going.

``CurveModel`` (``model.py``) predicts a trial's final value, with an interval, from its curve so
far, judged by its schedule position (the fraction of its learning-rate schedule done), learned
from the curves of the sweep's finished trials. Numpy only; no torch, no I/O, no randomness.
Used by the curve policy (``policies/curve.py``).
"""

from automl_vision.curves.model import Curve, CurveModel, Prediction

__all__ = ["Curve", "CurveModel", "Prediction"]
