"""Reuse: a trial whose configuration already completed on the same data is not trained again.

``ReuseIndex`` is built once when the sweep is planned, from the earlier sweeps it names
(``warm_start_from``, ``reuse_from``; their stores are read then, once). The scheduler asks it
for each trial it launches, passing its own trials, so an identical trial completed earlier in
this sweep is found too. "Identical" is the one configuration identity of the project
(``sampling.configs.config_key``: ``True`` is not ``1``, ``1`` is ``1.0``) on data with the same
fingerprint.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from automl_vision.sampling.configs import config_key
from automl_vision.trial import Trial, TrialStatus

__all__ = ["ReuseIndex", "reuse_key"]


def reuse_key(params: Mapping[str, Any], fingerprint: str) -> tuple[str, Hashable]:
    """What reuse compares: the data's fingerprint and the configuration's identity."""
    return fingerprint, config_key(params)


@dataclass(frozen=True)
class ReuseIndex:
    """COMPLETED trials of earlier sweeps on the data with ``fingerprint``, by identity."""

    fingerprint: str
    earlier: Mapping[tuple[str, Hashable], Trial] = field(default_factory=dict)

    @classmethod
    def build(cls, fingerprint: str, runs: Sequence[tuple[Any, Sequence[Trial]]]) -> ReuseIndex:
        """From ``(run_dir, trials)`` of earlier sweeps on this data (the first one wins);
        each trial's artifacts must already point into its own run directory."""
        earlier: dict[tuple[str, Hashable], Trial] = {}
        for _run_dir, trials in runs:
            for t in trials:
                if t.status is TrialStatus.COMPLETED:
                    earlier.setdefault(reuse_key(t.params, fingerprint), t)
        return cls(fingerprint, earlier)

    def lookup(self, trial: Trial, sweep: Sequence[Trial]) -> Trial | None:
        """A COMPLETED trial identical to ``trial``: one of this sweep's (``sweep``) first,
        else one of the earlier sweeps'."""
        key = reuse_key(trial.params, self.fingerprint)
        for t in sweep:
            if (
                t is not trial
                and t.status is TrialStatus.COMPLETED
                and reuse_key(t.params, self.fingerprint) == key
            ):
                return t
        return self.earlier.get(key)
