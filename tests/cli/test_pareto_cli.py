"""``automl-vision pareto``: bad input is one line and exit 2; a single-objective sweep's front
is its best trial."""

from __future__ import annotations

import pytest

from automl_vision import TuneResult
from automl_vision.cli import main


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--max-latency-ms", "-1"], "--max-latency-ms='-1' is not allowed"),
        (["--max-params-m", "many"], "--max-params-m='many' is not allowed"),
    ],
)
def test_bad_bounds_are_one_line_and_exit_2(finished_sweep, capsys, argv, said) -> None:
    assert main(["pareto", str(finished_sweep), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and "\n" not in err


def test_a_folder_without_a_sweep_is_exit_2(tmp_path, capsys) -> None:
    assert main(["pareto", str(tmp_path)]) == 2
    assert "holds no sweep" in capsys.readouterr().err


def test_a_single_objective_front_is_its_best_trial(finished_sweep, capsys) -> None:
    assert main(["pareto", str(finished_sweep)]) == 0
    out = capsys.readouterr().out.splitlines()
    best = TuneResult.load(finished_sweep).best_trial
    assert out[1].split()[0] == best.trial_id
    assert out[-1] == "1 trials on the front"
