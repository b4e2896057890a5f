"""Training losses and the class weights of ``weighted_loss``.

Class weights come from the training labels (``counts[c]``: images of class c, or images carrying
label c; ``n``: training images):

- multiclass: ``w[c] = 1 / counts[c]``, used as ``CrossEntropyLoss(weight=...)``. PyTorch's
  weighted mean divides by the summed weights of the batch's targets
  (``sum_i w[y_i] * loss_i / sum_i w[y_i]``), so the scale of ``w`` does not matter and no
  normalization is applied.
- multilabel: ``w[c] = (n - counts[c]) / counts[c]``, used as
  ``BCEWithLogitsLoss(pos_weight=...)`` (mean over all image-label pairs); no normalization.

``weighted_loss`` 0: no weights; 1: ``sqrt(w)``; 2: ``w``. A class with no training example gets
weight 1 (it never appears as a multiclass target, and has no positive term in BCE).
The validation loss (``log_loss``) is never weighted.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from automl_vision.data.task import Task

__all__ = ["class_weights", "make_loss"]


def class_weights(
    counts: np.ndarray, n_images: int, task: Task, weighted_loss: int
) -> np.ndarray | None:
    """The weight vector for ``weighted_loss`` (None for 0), see the module docstring."""
    if weighted_loss not in (0, 1, 2):
        raise ValueError(f"weighted_loss={weighted_loss} must be 0, 1 or 2")
    if weighted_loss == 0:
        return None
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    safe = np.where(present, counts, 1.0)
    if task is Task.MULTICLASS:
        w = np.where(present, 1.0 / safe, 1.0)
    else:
        w = np.where(present, (n_images - counts) / safe, 1.0)
    return np.sqrt(w) if weighted_loss == 1 else w


def make_loss(task: Task, weights: np.ndarray | None = None) -> nn.Module:
    """CrossEntropy (multiclass) or BCE-with-logits (multilabel), weighted when given."""
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if task is Task.MULTICLASS:
        return nn.CrossEntropyLoss(weight=w)
    return nn.BCEWithLogitsLoss(pos_weight=w)
