"""HTML views of one or more sweeps; the single renderer behind the dashboard and ``report --html``.

Every view is server-rendered: the trial table, learning curves (stopped trials end in a red
cross, the best is thick), best so far over time, parallel coordinates, parameter importance,
the plan, and a detail block per trial (curve, params, per-epoch metrics, log tail). The page
references no external file: styles, SVG and the little refresh script are inline.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from html import escape
from typing import Any

from automl_vision.dashboard.baseline import render_baseline
from automl_vision.dashboard.csp import page_policy
from automl_vision.dashboard.logs import log_tail
from automl_vision.dashboard.snapshot import RunSnapshot, TrialView
from automl_vision.dashboard.svg import (
    PALETTE,
    Series,
    bar_chart,
    line_chart,
    parallel_coordinates,
    pareto_charts,
)
from automl_vision.reporting import chart_data
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus

__all__ = ["page_csp", "render_body", "render_page"]

_STATUS_COLOR = {
    "COMPLETED": "#1f77b4",
    "STOPPED": "#ff7f0e",
    "FAILED": "#d62728",
    "RUNNING": "#2ca02c",
}

CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;color:#222;background:#f6f7f9}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:14px 0 6px;overflow-wrap:anywhere}
h3{font-size:14px;margin:8px 0}
.runs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.run{flex:1 1 540px;min-width:0;
max-width:100%;box-sizing:border-box;background:#fff;border:1px solid #ddd;border-radius:6px;
padding:10px}.charts{display:flex;flex-wrap:wrap;gap:8px;min-width:0}
svg.chart{max-width:100%;height:auto;border:1px solid #eee}.ct{font-size:13px;font-weight:600}
.tk{font-size:10px;fill:#444}.ax{stroke:#888;stroke-width:1}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12px;width:100%}th,td{border-bottom:1px solid #e4e4e4;
padding:3px 5px;text-align:left;vertical-align:top}th{background:#fafafa}
td.txt{overflow-wrap:break-word;min-width:4em}td.st,td.num,td.id{white-space:nowrap}
.st{font-weight:600}.COMPLETED{color:#1f77b4}.STOPPED{color:#e36c00}.FAILED{color:#d62728}
.RUNNING{color:#2ca02c}.QUEUED{color:#777}pre{background:#f3f3f3;padding:6px;font-size:11px;
overflow:auto;max-height:220px}details>summary{cursor:pointer;color:#0645ad}.muted{color:#777}
.kv td:first-child{color:#555;white-space:nowrap}.kv td+td{overflow-wrap:anywhere}
.run.bench{flex-basis:100%}.hv{font-size:10px}td.best{font-weight:700}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _clock(seconds: float) -> str:
    """HH:MM:SS of a stored time ('-' for one no calendar holds)."""
    try:
        return time.strftime("%H:%M:%S", time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "-"


def _goal(run: RunSnapshot) -> PrimaryMetricGoal:
    return PrimaryMetricGoal(run.goal)


def as_trials(run: RunSnapshot) -> list[Trial]:
    """The snapshot's trials as the records the charts' data is computed from (the PNG plots'
    ``reporting.chart_data``), reports included (a value the store holds as NULL is NaN)."""
    out = []
    for t in run.trials:
        try:
            status = TrialStatus(t.status)
        except ValueError:
            status = TrialStatus.QUEUED
        reports = [
            Report(step, math.nan if value is None else value)
            for step, value in zip(t.steps, t.values, strict=True)
        ]
        out.append(
            Trial(
                index=t.index,
                params=t.params,
                status=status,
                reports=reports,
                value=t.value,
                trial_id=t.trial_id,
                started_at=t.started_at,
                finished_at=t.finished_at,
                artifacts=t.artifacts,
            )
        )
    return out


def _stop_text(t: TrialView) -> str:
    reason = t.stop_reason or ""
    if t.status == "STOPPED" and t.decisions:
        last = t.decisions[-1]
        if last and last not in reason:
            reason = f"{reason} ({last})" if reason else last
    return reason


def _varying(run: RunSnapshot) -> list[str]:
    names = sorted({k for t in run.trials for k in t.params})
    if len(run.trials) > 1:
        names = [n for n in names if len({repr(t.params.get(n)) for t in run.trials}) > 1]
    return names


def _param_cell(value: Any) -> str:
    """A number on one line; text (a model name) may wrap anywhere, so a long one never widens
    the table past its column."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="num">{escape(_fmt(value))}</td>'
    return f'<td class="txt">{_breakable(_fmt(value))}</td>'


def _breakable(text: str) -> str:
    """``text`` escaped, with a line-break opportunity after each ``_ . - /``."""
    return re.sub(r"([_./-])", r"\1<wbr>", escape(text))


def _table(run: RunSnapshot, rid: str) -> str:
    params = _varying(run)
    best = run.best()
    head = "".join(
        f"<th>{_breakable(h)}</th>"
        for h in [
            "trial",
            "status",
            run.primary_metric,
            "epochs",
            "stop reason",
            "node/GPU",
            *params,
        ]
    )
    rows = []
    for t in run.trials:
        star = " ★" if best is not None and t.trial_id == best.trial_id else ""
        cells = [
            f'<td class="id"><a href="#{rid}-{escape(t.trial_id)}" data-open="{rid}-{escape(t.trial_id)}">'
            f"{escape(t.trial_id)}</a>{star}</td>",
            f'<td class="st {escape(t.status)}">{escape(t.status)}</td>',
            f'<td class="num">{_fmt(t.value)}</td>',
            f'<td class="num">{t.epochs}</td>',
            f'<td class="txt">{escape(_stop_text(t))}</td>',
            f'<td class="txt">{escape(t.node) or "-"}</td>',
            *(_param_cell(t.params.get(p)) for p in params),
        ]
        rows.append(f'<tr class="trial" data-status="{escape(t.status)}">{"".join(cells)}</tr>')
    return f'<div class="scroll"><table class="trials"><tr>{head}</tr>{"".join(rows)}</table></div>'


def _curve_series(t: TrialView, color: str, bold: bool = False) -> Series:
    points = [(float(s), v) for s, v in zip(t.steps, t.values, strict=True) if v is not None]
    return Series(
        label=f"{t.trial_id} {t.status}",
        points=points,
        color=color,
        marker_last=t.status == "STOPPED",
        bold=bold,
    )


def _best_id(trials: Sequence[Trial], run: RunSnapshot) -> Trial | None:
    best = run.best()
    return next((t for t in trials if best is not None and t.trial_id == best.trial_id), None)


def _learning_curves(run: RunSnapshot, trials: Sequence[Trial]) -> str:
    series = [
        Series(
            label=f"{c.trial_id} {c.status.value}",
            points=[(float(s), v) for s, v in zip(c.steps, c.values, strict=True)],
            color=PALETTE[1] if c.is_best else _STATUS_COLOR.get(c.status.value, PALETTE[-1]),
            marker_last=c.stopped,
            bold=c.is_best,
        )
        for c in chart_data.learning_curves(trials, _best_id(trials, run))
    ]
    return line_chart(
        "Learning curves (x: stopped)", series, "epoch", run.primary_metric, integer_x=True
    )


def _best_so_far(run: RunSnapshot, trials: Sequence[Trial]) -> str:
    data = chart_data.best_so_far(trials, _goal(run))
    series = []
    if data.has_data:
        series = [
            Series("best so far", [(float(i), v) for i, v in data.best], PALETTE[1], bold=True,
                   step=True),
            *(
                Series(f"trial {i} {status.value}", [], _STATUS_COLOR[status.value],
                       dots=[(float(i), v)])
                for i, v, status in data.points
            ),
        ]  # fmt: skip
        if data.failed:
            low = min(v for _, v in data.best)
            series.append(
                Series(
                    "failed",
                    [],
                    _STATUS_COLOR["FAILED"],
                    dots=[(float(i), low) for i in data.failed],
                )
            )
    return line_chart(
        f"Best so far ({run.goal})", series, "trial", run.primary_metric, integer_x=True
    )


def _parallel(run: RunSnapshot, trials: Sequence[Trial]) -> str:
    data = chart_data.parallel_coordinates(trials, run.primary_metric)
    return parallel_coordinates("Parallel coordinates", data, run.primary_metric)


def _importance(run: RunSnapshot, trials: Sequence[Trial]) -> str:
    data = chart_data.importance(trials, _goal(run))
    return bar_chart("Parameter importance (eta²)", list(data.scores.items()), data.basis)


def _pareto(run: RunSnapshot, trials: Sequence[Trial]) -> str:
    """The Pareto chart and the hypervolume, only for a sweep with two or more objectives."""
    try:
        data = chart_data.pareto_chart(
            trials, run.meta.get("settings") or {}, run.primary_metric, _goal(run)
        )
    except (TypeError, ValueError) as err:  # objectives or constraints the store holds garbled
        return f'<p class="muted">Pareto chart unreadable: {escape(str(err))}</p>'
    return "" if data is None else pareto_charts(data)


def _kv(pairs: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(str(k))}</td><td>{escape(_fmt(v))}</td></tr>" for k, v in pairs
    )
    return f'<table class="kv">{rows}</table>'


def _plan(run: RunSnapshot) -> str:
    definition = run.meta.get("definition", {}) or {}
    settings = run.meta.get("settings", {}) or {}
    pairs: list[tuple[str, Any]] = [
        ("primary metric", f"{run.primary_metric} ({run.goal})"),
        *((k, v) for k, v in settings.items() if k != "class_names"),
    ]
    for key in ("sampling", "sampler", "policy", "early_termination", "schedule", "limits"):
        if key in definition:
            pairs.append((key, json.dumps(definition[key], sort_keys=True, default=str)))
    space = definition.get("search_space") or definition.get("space")
    events = "".join(
        f"<tr><td>{_clock(t)}</td><td>{escape(str(k))}</td><td>{escape(str(m))}</td></tr>"
        for t, k, m in run.events
    )
    other = {k: v for k, v in definition.items() if k not in ("search_space", "space")}
    return (
        f"<h3>Plan</h3>{_kv(pairs)}"
        + (
            f"<details><summary>search space</summary><pre>{escape(json.dumps(space, indent=1, sort_keys=True, default=str))}</pre></details>"
            if space
            else ""
        )
        + f"<details><summary>full definition</summary><pre>{escape(json.dumps(other, indent=1, sort_keys=True, default=str))}</pre></details>"
        + (f'<h3>Events</h3><table class="events">{events}</table>' if events else "")
    )


def _detail(run: RunSnapshot, t: TrialView, rid: str) -> str:
    curve = line_chart(
        f"{t.trial_id}",
        [_curve_series(t, _STATUS_COLOR.get(t.status, "#777"))],
        "epoch",
        run.primary_metric,
        integer_x=True,
    )
    names = sorted({k for m in t.metrics for k in m})
    head = "".join(f"<th>{escape(n)}</th>" for n in ["epoch", *names, "policy"])
    body = "".join(
        f"<tr><td>{s}</td>{''.join(f'<td>{escape(_fmt(m.get(n)))}</td>' for n in names)}<td>{escape(d)}</td></tr>"
        for s, m, d in zip(t.steps, t.metrics, t.decisions, strict=True)
    )
    per_class = {
        k: v for k, v in (t.metrics[-1] if t.metrics else {}).items() if "class" in k or "/" in k
    }
    per_class.update(
        t.artifacts.get("per_class", {}) if isinstance(t.artifacts.get("per_class"), dict) else {}
    )
    tail = log_tail(run.run_dir, t.trial_id, t.error)
    info = [
        ("status", t.status),
        ("value", t.value),
        ("attempt", t.attempt),
        ("stop reason", _stop_text(t) or None),
    ]
    return (
        f'<details class="detail" id="{rid}-{escape(t.trial_id)}"><summary>{escape(t.trial_id)} · '
        f'<span class="{escape(t.status)}">{escape(t.status)}</span> · {_fmt(t.value)}</summary>'
        f'<div class="charts">{curve}<div>{_kv(info)}<h3>Params</h3>{_kv(sorted(t.params.items()))}</div></div>'
        f'<h3>Per-epoch metrics</h3><div class="scroll"><table class="metrics"><tr>{head}</tr>{body}</table></div>'
        + (f"<h3>Per-class metrics</h3>{_kv(sorted(per_class.items()))}" if per_class else "")
        + f"<h3>Artifacts</h3>{_kv(sorted((k, v) for k, v in t.artifacts.items() if k != 'per_class'))}"
        + f"<h3>Log tail</h3><pre>{escape(tail) if tail else '(no log)'}</pre></details>"
    )


def _counts(run: RunSnapshot) -> str:
    counts: dict[str, int] = {}
    for t in run.trials:
        counts[t.status] = counts.get(t.status, 0) + 1
    best = run.best()
    text = ", ".join(
        f'<span class="{escape(s)}">{n} {escape(s.lower())}</span>'
        for s, n in sorted(counts.items())
    )
    best_text = f" · best {escape(best.trial_id)} = {_fmt(best.value)}" if best else ""
    return f'<p class="summary">{text or "no trials yet"}{best_text}</p>'


def _charts(run: RunSnapshot) -> str:
    trials = as_trials(run)
    return (
        _learning_curves(run, trials)
        + _best_so_far(run, trials)
        + _parallel(run, trials)
        + _importance(run, trials)
        + _pareto(run, trials)
    )


def render_run(run: RunSnapshot, rid: str) -> str:
    return (
        f'<section class="run" id="{rid}"><h2>{escape(str(run.run_dir))}</h2>{_counts(run)}'
        f"{render_baseline(run)}{_table(run, rid)}"
        f'<div class="charts">{_charts(run)}</div>'
        f"{_plan(run)}<h3>Trials</h3>"
        + "".join(_detail(run, t, rid) for t in run.trials)
        + "</section>"
    )


def render_body(runs: Sequence[RunSnapshot], sections: Sequence[str] = ()) -> str:
    """The part of the page that refreshes: one column per run directory, side by side, then
    ``sections`` (pre-rendered, escaped HTML: a benchmark's, from ``benchmark.py``)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    return (
        f'<p class="muted">updated {stamp}</p><div class="runs">'
        + "".join(render_run(run, f"r{i}") for i, run in enumerate(runs))
        + "".join(sections)
        + "</div>"
    )


#: the static report's script: open a trial's details from its link or the address's #fragment
_OPEN_SCRIPT = (
    "function openTrial(id){var d=document.getElementById(id);if(d){d.open=true;}}"
    "document.addEventListener('click',function(e){var a=e.target.closest&&"
    "e.target.closest('a[data-open]');if(a)openTrial(a.getAttribute('data-open'));});"
    "if(location.hash)openTrial(location.hash.slice(1));"
)

#: the live page's: the same, the token taken out of the address bar (the cookie keeps it), and
#: the body redrawn from api/body every REFRESH_MS (an error is shown as text, never as HTML)
_LIVE_SCRIPT = (
    _OPEN_SCRIPT
    + """
if(location.search.indexOf('token=')>=0&&history.replaceState){
history.replaceState(null,'',location.pathname+location.hash);}
function refresh(){var open=[];document.querySelectorAll('details[open]').forEach(
function(d){if(d.id)open.push(d.id);});var note=document.getElementById('note');
fetch('api/body',{cache:'no-store',credentials:'same-origin'}).then(function(r){
return r.text().then(function(h){if(!r.ok){note.textContent=h;return;}note.textContent='';
document.getElementById('body').innerHTML=h;open.forEach(openTrial);});}).catch(
function(){note.textContent='the dashboard does not answer';});}
setInterval(refresh, REFRESH_MS);
"""
)


def _script(refresh_seconds: float | None) -> str:
    if not refresh_seconds:
        return _OPEN_SCRIPT
    return _LIVE_SCRIPT.replace("REFRESH_MS", str(int(refresh_seconds * 1000)))


def page_csp(refresh_seconds: float | None = None, *, header: bool = True) -> str:
    """The Content-Security-Policy of ``render_page(..., refresh_seconds)``: its own inline
    script and style only (by hash), nothing loaded, the live page fetching its own origin."""
    return page_policy(
        [_script(refresh_seconds)], [CSS], fetches=bool(refresh_seconds), header=header
    )


def render_page(
    runs: Sequence[RunSnapshot],
    title: str,
    refresh_seconds: float | None = None,
    sections: Sequence[str] = (),
) -> str:
    """A complete, self-contained HTML page. With ``refresh_seconds`` the page polls the
    dashboard's ``api/body`` endpoint and redraws itself; without it the page is static. The
    page carries its Content-Security-Policy in a ``<meta>`` tag (a saved page keeps it).
    ``sections``: more blocks of the body after the runs (see ``render_body``)."""
    policy = escape(page_csp(refresh_seconds, header=False))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p id="note" class="muted"></p>'
        f'<div id="body">{render_body(runs, sections)}</div>'
        f"<script>{_script(refresh_seconds)}</script></body></html>"
    )
