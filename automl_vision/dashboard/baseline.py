"""The best trial beside the trivial baseline, the warning when it does not beat it, and the
tuned per-class thresholds (multilabel): one block of the dashboard and ``report.html``.

Reads only what the snapshot holds (the sweep's recorded settings, the best trial's params and
artifacts); every value is type-checked by ``automl_vision.baseline`` or here, and all text is
escaped.
"""

from __future__ import annotations

import math
from html import escape

from automl_vision.baseline import check_baseline
from automl_vision.dashboard.snapshot import RunSnapshot

__all__ = ["render_baseline"]


def _thresholds(run: RunSnapshot) -> dict[str, float]:
    best = run.best()
    found = best.artifacts.get("class_thresholds") if best is not None else None
    if not isinstance(found, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in found.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def render_baseline(run: RunSnapshot) -> str:
    """The block's HTML ("" when the sweep recorded no baseline and no thresholds)."""
    parts: list[str] = []
    best = run.best()
    settings = run.meta.get("settings") or {}
    try:
        verdict = check_baseline(
            best.value if best else None, best.params if best else {}, settings
        )
    except ValueError as err:
        parts.append(f'<p class="baseline muted">baseline unreadable: {escape(str(err))}</p>')
        verdict = None
    if verdict is not None:
        parts.append(f'<p class="baseline">{escape(verdict.line())}</p>')
        warning = verdict.warning()
        if warning:
            # the page's own classes only: its stylesheet is allowed by hash (csp.py)
            parts.append(f'<pre class="baseline-warning FAILED">{escape(warning)}</pre>')
    thresholds = _thresholds(run)
    if thresholds:
        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{v:.3f}</td></tr>" for k, v in thresholds.items()
        )
        parts.append(
            '<h3>Tuned thresholds</h3><table class="thresholds">'
            f"<tr><th>class</th><th>threshold</th></tr>{rows}</table>"
        )
    return "".join(parts)
