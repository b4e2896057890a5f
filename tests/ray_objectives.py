"""Deterministic objectives that Ray workers import (tests/ is on their PYTHONPATH)."""

from __future__ import annotations

import math
import time

from automl_vision import choice, uniform

CURVE_SPACE = {"x": uniform(0.0, 1.0), "shape": choice("fast", "slow")}


def curve(params: dict, report) -> float:
    """A learning curve that rises towards a ceiling set by ``x``; reports 9 steps."""
    ceiling = 1.0 - (params["x"] - 0.3) ** 2
    rate = 2.0 if params["shape"] == "fast" else 5.0
    value = 0.0
    for step in range(1, 10):
        value = ceiling * (1.0 - math.exp(-step / rate))
        time.sleep(0.02)
        if report(step, value):
            break
    return value


def sleep_for(params: dict, report) -> float:
    """Sleep ``params['seconds']`` in 0.25 s steps, reporting after each."""
    waited = 0.0
    while waited < params["seconds"]:
        time.sleep(0.25)
        waited += 0.25
        report(int(waited * 4), waited)
    return waited
