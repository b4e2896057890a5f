"""A benchmark's leaderboard: its files (JSON, CSV, markdown), its chart data and its PNG plots."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_benchmark import fake_leaderboard

from automl_vision.reporting.benchmark_chart_data import MetricPanel, heat_maps, interval_panels
from automl_vision.reporting.benchmark_plots import write_benchmark_plots
from automl_vision.reporting.leaderboard import (
    BoardRow,
    ClassRow,
    ComparisonRow,
    Leaderboard,
    LeaderboardError,
    md_text,
    significantly_better,
)
from automl_vision.trial import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def _row(method: str, metric: str, mean: float, goal=MAX, dataset: str = "d", **kw) -> BoardRow:
    half = kw.pop("half", 0.1)
    return BoardRow(
        dataset=dataset, method=method, metric=metric, mean=mean, ci_low=mean - half,
        ci_high=mean + half, n_seeds=kw.pop("n_seeds", 3), goal=goal,
    )  # fmt: skip


def _board(rows: list[BoardRow], primary: str | None = None, **kw) -> Leaderboard:
    return Leaderboard(
        primary_metric={r.dataset: primary or rows[0].metric for r in rows}, rows=rows, **kw
    )


# -- the files ---------------------------------------------------------------------------------


def test_write_then_read_gives_the_same_leaderboard(tmp_path):
    board = fake_leaderboard()
    paths = board.write(tmp_path / "out")
    assert [p.name for p in paths] == ["leaderboard.json", "leaderboard.csv", "leaderboard.md"]
    assert Leaderboard.read(tmp_path / "out") == board
    assert json.loads((tmp_path / "out" / "leaderboard.json").read_text())["version"] == 1
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic writes leave no temporary file


def test_a_value_that_is_not_a_number_survives_the_round_trip(tmp_path):
    board = _board(
        [_row("a", "map_macro", 0.5)],
        per_class=[
            ClassRow(dataset="d", method="a", class_name="rare", metric="ap", mean=math.nan,
                     ci_low=math.nan, ci_high=math.inf)
        ],
    )  # fmt: skip
    board.write(tmp_path)
    json.loads((tmp_path / "leaderboard.json").read_text(), parse_constant=pytest.fail)
    back = Leaderboard.read(tmp_path).per_class[0]
    assert math.isnan(back.mean) and back.ci_high == math.inf


def test_the_csv_has_exactly_its_columns_and_one_line_per_row(tmp_path):
    board = _board(
        [
            BoardRow(
                dataset="d",
                method="a",
                metric="map_macro",
                mean=0.1 + 0.2,
                ci_low=0.05,
                ci_high=1 / 3,
                n_seeds=3,
                goal=MAX,
            ),
            _row("b,c", "hamming_loss", 0.125, MIN, n_seeds=5, half=0.0),
        ]
    )
    board.write(tmp_path)
    assert (tmp_path / "leaderboard.csv").read_text() == (
        "dataset,method,metric,mean,ci_low,ci_high,n_seeds\n"
        "d,a,map_macro,0.30000000000000004,0.05,0.3333333333333333,3\n"
        'd,"b,c",hamming_loss,0.125,0.125,0.125,5\n'
    )


@pytest.mark.parametrize(
    ("goal", "means", "bold"),
    [
        (MAX, {"a": 0.7, "b": 0.9, "c": 0.8}, {"b"}),
        (MIN, {"a": 0.7, "b": 0.9, "c": 0.8}, {"a"}),
        (MAX, {"a": 0.9, "b": 0.9, "c": 0.1}, {"a", "b"}),  # a tie: both
        (MIN, {"a": math.nan, "b": 0.9, "c": 0.95}, {"b"}),  # not a number never wins
    ],
)
def test_markdown_bolds_the_best_mean_by_the_goal(goal, means, bold):
    rows = [_row(m, "acc", v, goal, half=0.05) for m, v in means.items()]
    md = _board(rows).to_markdown()
    lines = {m: next(ln for ln in md.splitlines() if ln.startswith(f"| {m} ") or
                     ln.startswith(f"| **{m}** ")) for m in means}  # fmt: skip
    for method, line in lines.items():
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1].startswith("**") == (method in bold), (method, line)
    arrow = "↑" if goal is MAX else "↓"
    assert f"| acc {arrow} (primary) |" in md


def test_markdown_puts_the_primary_metric_first_and_has_every_section():
    board = fake_leaderboard(datasets=("only",))
    md = board.to_markdown()
    header = next(ln for ln in md.splitlines() if ln.startswith("| method |"))
    assert header.split("|")[2].strip() == "map_macro ↑ (primary)"
    assert "hamming_loss ↓" in header and "coverage_error ↓" in header
    for section in (
        "## Protocol",
        "## Paired comparisons",
        "## Compute",
        "## Top-k configurations",
    ):
        assert section in md
    assert "| map_macro ↑ | resnet18_asl_bayesian_budget_large | vit_tiny | -0.2 [-0.22, -0.18] " \
           "| 0.001 | **vit_tiny** |" in md  # fmt: skip
    assert "learning_rate=0.005" in md and "✓" in md


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain_name", "plain_name"),
        ("a|b", "a\\|b"),
        ("<script>x</script>", "\\<script\\>x\\</script\\>"),
        ("two\nlines", "two lines"),
        ("_start", "\\_start"),
        ("*bold*", "\\*bold\\*"),
    ],
)
def test_markdown_text_stays_in_its_cell(text, shown):
    assert md_text(text) == shown


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "Invalid JSON"),
        ("[]", "not a leaderboard"),
        ('{"version": 2, "primary_metric": {}, "rows": []}', "version"),
        ('{"version": 1, "primary_metric": {}}', "rows: Field required"),
        ('{"primary_metric": {}, "rows": [{"dataset": "d"}]}', "rows.0.method"),
        ('{"primary_metric": {"d": "m"}, "rows": [ROW], "extra": 1}', "extra"),
        ('{"primary_metric": {}, "rows": [ROW]}', "names no metric for dataset 'd'"),
        ('{"primary_metric": {"d": "other"}, "rows": [ROW]}', "which no row has"),
        ('{"primary_metric": {"d": "m"}, "rows": [ROW, ROW]}', "a second row"),
        ('{"primary_metric": {"d": "m"}, "rows": [ROW], "comparisons": [CMP]}', "better must be"),
    ],
)
def test_a_file_that_is_not_a_leaderboard_is_one_error_naming_it(tmp_path, content, expected):
    row = json.dumps(_row("a", "m", 0.5).model_dump(mode="json"))
    cmp = json.dumps(
        dict(dataset="d", metric="m", method_a="a", method_b="b", difference=0.1, ci_low=0.0,
             ci_high=0.2, p_value=0.01, better="c")
    )  # fmt: skip
    if content is not None:
        text = content.replace("ROW", row).replace("CMP", cmp)
        (tmp_path / "leaderboard.json").write_text(text)
    with pytest.raises(LeaderboardError) as err:
        Leaderboard.read(tmp_path)
    message = str(err.value)
    assert str(tmp_path / "leaderboard.json") in message and expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("difference", "p", "goal", "better"),
    [
        (0.1, 0.01, MAX, "a"),
        (0.1, 0.01, MIN, "b"),
        (-0.1, 0.01, MAX, "b"),
        (-0.1, 0.01, MIN, "a"),
        (0.1, 0.05, MAX, None),  # p must be below 0.05
        (0.0, 0.0, MAX, None),
        (math.nan, 0.01, MAX, None),
    ],
)
def test_significantly_better_by_goal(difference, p, goal, better):
    assert significantly_better("a", "b", difference, p, goal) == better


def test_a_comparison_row_refuses_a_better_that_is_neither_method():
    with pytest.raises(ValueError, match="better must be"):
        ComparisonRow(dataset="d", metric="m", method_a="a", method_b="b", difference=0.1,
                      ci_low=0, ci_high=0.2, p_value=0.01, better="c")  # fmt: skip


# -- chart data --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "means", "best", "value_range"),
    [
        (MAX, (0.5, 0.7), (False, True), (0.4 - 0.08 * 0.4, 0.8 + 0.08 * 0.4)),
        (MIN, (0.5, 0.7), (True, False), (0.4 - 0.08 * 0.4, 0.8 + 0.08 * 0.4)),
        (MAX, (2.0, 2.0), (True, True), (1.9 - 0.08 * 0.2, 2.1 + 0.08 * 0.2)),
    ],
)
def test_interval_panels_mark_the_best_by_goal_and_span_every_bound(goal, means, best,
                                                                    value_range):  # fmt: skip
    rows = [_row(f"m{i}", "other", 1.0) for i in range(2)]  # the primary goes first anyway
    rows += [_row(f"m{i}", "main", mean, goal) for i, mean in enumerate(means)]
    (panels,) = interval_panels(_board(rows, primary="main")).values()
    main, other = panels
    assert (main.metric, main.primary, other.primary) == ("main", True, False)
    assert [p.mean for p in main.points] == list(means)
    assert tuple(p.best for p in main.points) == best
    assert main.value_range == pytest.approx(value_range)
    assert ("higher" if goal is MAX else "lower") + " is better" in main.title


def test_a_method_without_a_row_is_a_point_without_a_value():
    rows = [_row("a", "main", 0.5), _row("b", "main", 0.6), _row("a", "extra", 0.1)]
    (panels,) = interval_panels(_board(rows)).values()
    extra = panels[1]
    assert [p.method for p in extra.points] == ["a", "b"]
    assert extra.points[0].has_value and not extra.points[1].has_value


@pytest.mark.parametrize(
    ("span", "value", "decimals", "text"),
    [
        ((0.55, 0.85), 0.6012, 3, "0.601"),
        ((2.2, 3.0), 3.0041, 3, "3.004"),
        ((0.0, 20.0), 3.0, 1, "3.0"),
        ((0.6, 0.601), 0.60125, 5, "0.60125"),
        ((0.0, 1.0), math.nan, 2, "-"),
    ],
)
def test_panel_values_get_the_decimals_their_range_needs(span, value, decimals, text):
    panel = MetricPanel("d", "m", MAX, True, (), span)
    assert panel.decimals == decimals
    assert panel.value_text(value) == text


@pytest.mark.parametrize(
    ("value", "shade", "text_colour", "text"),
    [(0.0, 0.0, "#ffffff", "0.00"), (0.25, 0.25, "#ffffff", "0.25"), (0.8, 0.8, "#000000", "0.80"),
     (1.0, 1.0, "#000000", "1.00"), (math.nan, math.nan, "#000000", "–")],
)  # fmt: skip
def test_heat_map_cells_on_a_fixed_0_to_1_scale(value, shade, text_colour, text):
    board = _board(
        [_row("a", "m", 0.5), _row("b", "m", 0.6)],
        per_class=[
            ClassRow(dataset="d", method=m, class_name=c, metric=k, mean=v, ci_low=v, ci_high=v)
            for m, c, k, v in [("b", "cat", "ap", value), ("a", "cat", "ap", 0.5),
                               ("a", "dog", "ap", 0.3), ("a", "cat", "f1", 0.9)]
        ],
    )  # fmt: skip
    (heat,) = heat_maps(board)
    assert heat.methods == ("a", "b") and heat.classes == ("cat", "dog")
    assert heat.values[0] == (0.5, 0.3)
    cell = heat.values[1][0]
    assert (math.isnan(cell) and math.isnan(value)) or cell == value
    assert math.isnan(heat.values[1][1])  # b has no row for dog
    got = heat.shade(cell)
    assert (math.isnan(got) and math.isnan(shade)) or got == pytest.approx(shade)
    assert heat.text_colour(cell) == text_colour and heat.value_text(cell) == text
    assert heat.label == "mean AP per class (test)"


# -- the plots ---------------------------------------------------------------------------------


def test_the_two_pngs_are_written(tmp_path):
    paths = write_benchmark_plots(fake_leaderboard(), tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "plots/benchmark_metrics.png",
        "plots/per_class_ap.png",
    ]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def test_a_board_without_per_class_rows_still_gets_both_pngs(tmp_path):
    paths = write_benchmark_plots(_board([_row("a", "m", 0.5)]), tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_the_leaderboard_and_its_pages_load_neither_torch_nor_matplotlib():
    code = (
        "import sys\n"
        "import automl_vision.reporting.leaderboard, automl_vision.reporting.benchmark_plots\n"
        "import automl_vision.dashboard.benchmark\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'matplotlib')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
