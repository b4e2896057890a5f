"""A trial's judging window from its training params: the one place that reads the built-in
trainer's learning-rate schedule for the policies (``policies/window.py``). Pure, no torch.

The trainer reports once per evaluated epoch (every ``evaluation_frequency`` epochs and at the
last one), so report ``n`` covers epochs up to ``min(n * f, number_of_epochs)``:

- ``warmup_cosine``: the first ``warmup_cosine_lr_warmup_epochs`` epochs warm up, so the reports
  that cover warm-up epochs only, ``warmup_epochs // f`` of them, are the window's ``warmup``.
- ``step``: the learning rate is multiplied by ``step_lr_gamma`` every ``step_lr_step_size``
  epochs, so epoch ``j * step_size + 1`` (1-based) is the first at a lower rate and the first
  report covering it, ``ceil((j * step_size + 1) / f)``, is a drop. Drops at or after the last
  report are left out (there is nothing after them to judge), and so are all drops when gamma is 1.

Fields a trial leaves unset take Azure's defaults, as in training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automl_vision.policies.window import JudgingWindow
from automl_vision.space.azure_defaults import azure_defaults
from automl_vision.trial import Trial

__all__ = ["judging_window", "trial_judging_window"]


def judging_window(params: Mapping[str, Any]) -> JudgingWindow:
    """The judging window of a training run with ``params`` (search-space field values)."""
    values = {**azure_defaults(params.get("model_name")), **{
        k: v for k, v in params.items() if v is not None
    }}  # fmt: skip
    epochs = int(values["number_of_epochs"])
    every = max(1, int(values["evaluation_frequency"]))
    reports = -(-epochs // every)
    scheduler = str(values["learning_rate_scheduler"]).strip().lower()
    if scheduler == "step":
        size, gamma = int(values["step_lr_step_size"]), float(values["step_lr_gamma"])
        if gamma == 1.0 or size < 1:
            return JudgingWindow()
        drops = sorted({-(-(j * size + 1) // every) for j in range(1, (epochs - 1) // size + 1)})
        return JudgingWindow(drops=tuple(d for d in drops if 2 <= d < reports))
    warmup = min(int(values["warmup_cosine_lr_warmup_epochs"]), epochs) // every
    return JudgingWindow(warmup=min(warmup, max(reports - 1, 0)))


def trial_judging_window(trial: Trial) -> JudgingWindow:
    """``judging_window`` of a trial's params (what ``tune`` hands the scheduler)."""
    return judging_window(trial.params)
