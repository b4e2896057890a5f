"""Training losses and the class weights of ``weighted_loss``.

Multiclass trains with cross-entropy. Multilabel trains with ``loss_function``: ``bce``
(binary cross-entropy with logits, the default) or ``asl``, the asymmetric loss of Ridnik et al.
(ICCV 2021). For a logit ``x``, ``p = sigmoid(x)``, target ``y`` in {0, 1}:

- positive term: ``(1 - p)**gamma_pos * log(p)``;
- negative term, with the shifted probability ``p_m = max(p - clip, 0)``:
  ``p_m**gamma_neg * log(1 - p_m)``;
- loss: ``-mean(w_y * y * positive + (1 - y) * negative)`` over all image-label pairs, the
  reduction of ``BCEWithLogitsLoss(reduction="mean")``.

``gamma_neg`` (default 4) down-weights easy negatives (small ``p``), ``gamma_pos`` (default 0)
easy positives; ``clip`` (default 0.05) discards negatives the model already gives ``p <= clip``
(their term is exactly 0) and lowers the others. With ``gamma_neg = gamma_pos = clip = 0`` the
loss is BCE. ``weighted_loss`` combines with ASL as with BCE: the positive term of label ``c``
is multiplied by its weight ``w[c]`` (``pos_weight``); negatives are not weighted. The terms
are computed from log-sigmoids (``log p = logsigmoid(x)``, ``log(1 - p) = logsigmoid(-x)``,
``q**gamma = exp(gamma * log q)``; half-precision logits in float32), so large logits give
finite losses and gradients.

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
import torch.nn.functional as F
from torch import nn

from automl_vision.data.task import Task
from automl_vision.space.fields import LossFunction

__all__ = ["AsymmetricLoss", "LossFunction", "class_weights", "make_loss"]


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


class AsymmetricLoss(nn.Module):
    """The asymmetric loss of multilabel logits ``N×C`` against multi-hot targets (see the
    module docstring); ``pos_weight`` (``C``,) multiplies each label's positive term."""

    pos_weight: torch.Tensor | None

    def __init__(
        self,
        gamma_neg: float = 4.0,
        gamma_pos: float = 0.0,
        clip: float = 0.05,
        pos_weight: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("asl_gamma_neg", gamma_neg), ("asl_gamma_pos", gamma_pos)):
            if not value >= 0.0:
                raise ValueError(f"{name}={value} must be a number >= 0")
        if not 0.0 <= clip < 1.0:
            raise ValueError(f"asl_clip={clip} must be a number in [0, 1)")
        self.gamma_neg, self.gamma_pos, self.clip = float(gamma_neg), float(gamma_pos), float(clip)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = logits.float() if logits.dtype in (torch.float16, torch.bfloat16) else logits
        y = targets.to(x.dtype)
        log_p, log_q = F.logsigmoid(x), F.logsigmoid(-x)  # log p, log(1 - p)
        positive = log_p if self.gamma_pos == 0 else torch.exp(self.gamma_pos * log_q) * log_p
        if self.pos_weight is not None:
            positive = positive * self.pos_weight
        if self.clip == 0:
            log_pm, log_1m_pm = log_p, log_q
        else:
            # 1 - p_m = min(1 - p + clip, 1) >= clip > 0: its log is finite, 0 where p <= clip
            log_1m_pm = torch.log(torch.clamp(torch.sigmoid(-x) + self.clip, max=1.0))
            # p_m is 0 where p <= clip; the floor keeps log (and pow's gradient) finite there,
            # where the term is 0 anyway (log(1 - p_m) = 0)
            p_m = torch.clamp(torch.sigmoid(x) - self.clip, min=0.0)
            log_pm = torch.log(torch.clamp(p_m, min=torch.finfo(x.dtype).tiny))
        negative = (
            log_1m_pm if self.gamma_neg == 0 else torch.exp(self.gamma_neg * log_pm) * log_1m_pm
        )
        return -(y * positive + (1 - y) * negative).mean()

    def extra_repr(self) -> str:
        return f"gamma_neg={self.gamma_neg}, gamma_pos={self.gamma_pos}, clip={self.clip}"


def make_loss(
    task: Task,
    weights: np.ndarray | None = None,
    *,
    loss_function: LossFunction | str = LossFunction.BCE,
    asl_gamma_neg: float = 4.0,
    asl_gamma_pos: float = 0.0,
    asl_clip: float = 0.05,
) -> nn.Module:
    """CrossEntropy (multiclass); BCE-with-logits or the asymmetric loss (multilabel, by
    ``loss_function``); weighted when ``weights`` are given (see the module docstring)."""
    loss = LossFunction.parse(loss_function, "loss_function")
    w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if task is Task.MULTICLASS:
        if loss is LossFunction.ASL:
            raise ValueError(
                "loss_function='asl' is for multilabel data only; multiclass trains with "
                "cross-entropy (loss_function='bce')"
            )
        return nn.CrossEntropyLoss(weight=w)
    if loss is LossFunction.ASL:
        return AsymmetricLoss(asl_gamma_neg, asl_gamma_pos, asl_clip, pos_weight=w)
    return nn.BCEWithLogitsLoss(pos_weight=w)
