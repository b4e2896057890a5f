"""A benchmark directory as HTML: report.html, the live dashboard and ``report --html``."""

from __future__ import annotations

import contextlib
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers_benchmark import fake_leaderboard

from automl_vision.cli import main
from automl_vision.dashboard.benchmark import (
    MAX_BYTES,
    benchmark_dirs,
    load_leaderboard,
    render_benchmark,
    write_benchmark_report,
)
from automl_vision.dashboard.csp import source_hash
from automl_vision.dashboard.render import CSS
from automl_vision.dashboard.server import DashboardServer, make_server
from automl_vision.dashboard.svg import heat_map, interval_panel
from automl_vision.reporting.benchmark_chart_data import heat_maps, interval_panels
from automl_vision.reporting.leaderboard import LeaderboardError

XSS = "<script>alert(1)</script>"
METHODS = ("resnet18_asl_bayesian_budget_large", XSS, "vit_tiny")


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    fake_leaderboard(methods=METHODS).write(out)
    return out


class _Scripts(HTMLParser):
    """The page's ``<script>`` elements and every attribute that would run code."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def _parsed(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


def test_the_report_shows_every_part_of_the_benchmark(bench_dir):
    path = write_benchmark_report(bench_dir)
    assert path == bench_dir / "report.html"
    html = path.read_text()
    for part in ("composed_digits", "voc_small_subset", "map_macro", "(primary)",
                 "Paired comparisons", "Compute", "Top-k configurations", "Protocol",
                 "per-class AP and F1", "higher is better", "lower is better",
                 "mean AP per class (test)", "learning_rate=0.005"):  # fmt: skip
        assert part in html, part
    assert html.count('class="leaderboard"') == 2
    assert html.count("<svg") == 2 * (11 + 1)  # per dataset: a panel per metric, a heat map
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<img" not in html and "<link" not in html


def test_a_hostile_method_name_is_escaped_everywhere(bench_dir):
    html = write_benchmark_report(bench_dir).read_text()
    parsed = _parsed(html)
    assert parsed.scripts == 1 and parsed.handlers == []  # only the page's own script
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_report_carries_a_policy_allowing_only_its_own_script_and_style(bench_dir):
    html = write_benchmark_report(bench_dir).read_text()
    policy = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)[1])
    style = re.search(r"<style>(.*?)</style>", html, re.S)[1]
    script = re.search(r"<script>(.*?)</script>", html, re.S)[1]
    assert style == CSS
    assert f"style-src {source_hash(style)};" in policy
    assert f"script-src {source_hash(script)};" in policy
    assert "unsafe-inline" not in policy and "style=" not in html


def test_the_best_mean_is_bold_in_the_page_by_goal(bench_dir):
    board = load_leaderboard(bench_dir)
    html = render_benchmark(board, bench_dir)
    first = html.split('class="leaderboard"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", first)[1:]
    best_cells = [re.findall(r'<td class="(?:num|txt) best">', row) for row in rows]
    # vit_tiny (the third) has the best mean of every metric, maximized or minimized
    assert [len(cells) for cells in best_cells] == [0, 0, 1 + 11]


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("link", "is a symbolic link"),
        ("not json", "is not a leaderboard"),
        ("folder", "is not a regular file"),
        ("huge", "more than"),
    ],
)
def test_a_bad_leaderboard_file_is_one_error_naming_it(tmp_path, problem, expected):
    target = tmp_path / "leaderboard.json"
    if problem == "link":
        outside = tmp_path.parent / f"{tmp_path.name}-outside.json"
        fake_leaderboard().write(tmp_path / "elsewhere")
        outside.write_text((tmp_path / "elsewhere" / "leaderboard.json").read_text())
        target.symlink_to(outside)
    elif problem == "not json":
        target.write_text("{")
    elif problem == "folder":
        target.mkdir()
    else:
        with target.open("wb") as f:
            f.truncate(MAX_BYTES + 1)
    with pytest.raises(LeaderboardError) as err:
        load_leaderboard(tmp_path)
    assert str(target) in str(err.value) and expected in str(err.value)
    assert "\n" not in str(err.value)


def test_benchmark_dirs_are_the_folder_or_its_subfolders_but_no_link(tmp_path, bench_dir):
    assert benchmark_dirs(bench_dir) == [bench_dir]
    for name in ("b", "a"):
        fake_leaderboard().write(tmp_path / name)
    (tmp_path / "not-a-benchmark").mkdir()
    (tmp_path / "linked").symlink_to(bench_dir)
    assert benchmark_dirs(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    assert benchmark_dirs(tmp_path / "not-a-benchmark") == []


@pytest.mark.parametrize(("classes", "angle"), [(3, None), (20, 45), (80, 90)])
def test_the_heat_map_svg_writes_values_only_where_they_fit(classes, angle):
    board = fake_leaderboard(datasets=("d",), classes=tuple(f"class {i}" for i in range(classes)))
    (data,) = heat_maps(board)
    svg = heat_map(data)
    assert svg.count("<rect x=") - svg.count('width="14"') == 3 * classes  # a cell each
    assert svg.count("<title>resnet18_asl_bayesian_budget_large · class 0: ") == 1
    assert (svg.count('class="hv"') == 3 * classes) == (classes <= 20)
    # class names level where they fit, slanted in narrower columns, upright in the narrowest
    assert re.findall(r"rotate\(-(\d+) ", svg) == ([str(angle)] * classes if angle else [])


def test_the_interval_svg_marks_the_best_and_says_the_goal():
    board = fake_leaderboard(datasets=("d",))
    panels = interval_panels(board)["d"]
    primary = interval_panel(panels[0])
    assert "map_macro (primary)" in primary and "higher is better" in primary
    assert primary.count('class="best"') == 1 and primary.count("<circle") == 2
    hamming = interval_panel(next(p for p in panels if p.metric == "hamming_loss"))
    assert "lower is better" in hamming


@contextlib.contextmanager
def _serving(*dirs: Path) -> Iterator[DashboardServer]:
    server = make_server(list(dirs), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_dashboard_serves_a_benchmark_directory(bench_dir):
    with _serving(bench_dir) as server:
        status, page = _get(server.url)
        body_status, body = _get(server.url + "api/body")
    assert status == 200 and body_status == 200
    assert "setInterval(refresh" in page and 'class="run bench"' in page
    assert body.count('class="leaderboard"') == 2 and XSS not in page


def test_the_dashboard_finds_the_benchmark_inside_a_folder(bench_dir, tmp_path):
    fake_leaderboard(datasets=("inner_dataset",)).write(tmp_path / "bench-a")
    with _serving(tmp_path, bench_dir) as server:
        _, body = _get(server.url + "api/body")
    assert body.count('class="run bench"') == 2 and "inner_dataset" in body


def test_the_dashboard_refuses_a_linked_leaderboard_when_serving(tmp_path, bench_dir):
    (tmp_path / "leaderboard.json").symlink_to(bench_dir / "leaderboard.json")
    with _serving(tmp_path) as server:
        status, text = _get(server.url)
    assert status == 503 and "is a symbolic link" in text


def test_a_folder_with_neither_a_sweep_nor_a_benchmark_is_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no sweep .* and no benchmark"):
        make_server([tmp_path], port=0)


def test_report_html_on_a_benchmark_directory(bench_dir, tmp_path, capsys):
    out = tmp_path / "copy"
    assert main(["report", str(bench_dir), "--html", "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "# Benchmark leaderboard" in printed and f"report: {out / 'report.html'}" in printed
    assert (out / "report.html").read_text().count('class="leaderboard"') == 2
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        "benchmark_metrics.png",
        "per_class_ap.png",
    ]
    small = tmp_path / "small"
    fake_leaderboard(datasets=("d",), methods=("m",), classes=("c",)).write(small)
    assert main(["report", str(small), "--html"]) == 0  # by default into the benchmark folder
    assert {p.name for p in small.rglob("*")} >= {"report.html", "per_class_ap.png"}
