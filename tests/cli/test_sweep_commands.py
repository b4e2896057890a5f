"""The sweep CLI: YAML jobs, status/report/export, kill -9 then resume, and bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers_sweep import TINY, tiny_space, write_job

from automl_vision.cli import EXIT_NO_VALUE, main
from automl_vision.reporting.result import TuneResult
from automl_vision.store.database import SweepStore
from automl_vision.trial import TrialStatus
from automl_vision.tuning.optimize import NoTrialValueError


def test_yaml_job_through_the_cli(digits_folder, tmp_path, capsys) -> None:
    job = write_job(tmp_path / "job.yaml", "data", compute="azureml:gpu-cluster")
    (tmp_path / "data").symlink_to(digits_folder)  # relative to the YAML file's folder
    run = tmp_path / "run"
    assert main(["tune", "-c", str(job), "--output-dir", str(run), "-q"]) == 0
    captured = capsys.readouterr()
    assert "2 trials: " in captured.out and "best: trial_000" in captured.out
    assert "'compute' is ignored here" in captured.err
    assert main(["status", str(run)]) == 0
    assert "max_trials reached (2)" in capsys.readouterr().out
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert "plot: " in out and (run / "plots" / "learning_curves.png").is_file()
    assert main(["export", str(run), "--onnx"]) == 0
    assert (run / "best.onnx").stat().st_size > 1000
    assert main(["tune", "-c", str(job), "--output-dir", str(run), "--dry-run"]) == 0
    assert "worst case: 2 trials x 2 epochs" in capsys.readouterr().out


def _snapshot(run: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.glob("sweep.db*"))
    }


@pytest.fixture(scope="module")
def finished_run_once(digits_folder, tmp_path_factory) -> Path:
    """One finished one-trial sweep per module; each test gets its own copy (finished_run)."""
    tmp_path = tmp_path_factory.mktemp("finished")
    run = tmp_path / "run"
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"search_space": [tiny_space()]}))
    assert (
        main(
            [
                "tune",
                "--data",
                str(digits_folder),
                "--search-space",
                str(space),
                "--max-trials",
                "1",
                "--output-dir",
                str(run),
                "-q",
            ]
        )
        == 0
    )
    return run


@pytest.fixture
def finished_run(finished_run_once, tmp_path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished_run_once, run, symlinks=True)
    return run


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda d, t: ["-c", str(write_job(t / "j.yaml", str(d), foo=1))], "unknown key 'foo'"),
        (
            lambda d, t: [
                "-c",
                str(
                    write_job(
                        t / "j.yaml", str(d), search_space=[{"learning_rate": "uniform(0.1,"}]
                    )
                ),
            ],
            "cannot parse distribution 'uniform(0.1,'",
        ),
        (
            lambda d, t: [
                "-c",
                str(
                    write_job(
                        t / "j.yaml",
                        str(d),
                        sweep={"early_termination": {"type": "bandit", "slack_factor": -1}},
                    )
                ),
            ],
            "slack_factor must be > 0",
        ),
        (
            lambda d, t: ["--data", str(d), "--policy", "bandit:slack_factor=-1"],
            "slack_factor must be > 0",
        ),
        (lambda d, t: ["--data", str(t / "missing")], "does not exist"),
        (
            lambda d, t: ["--data", str(d), "--search-space", "nope"],
            "no preset search space named 'nope'",
        ),
        (lambda d, t: ["--data", str(d), "--max-trials", "0"], "max_trials must be >= 1"),
    ],
)
def test_bad_input_exits_2_with_one_message_and_writes_nothing(
    finished_run,
    digits_folder,
    tmp_path,
    capsys,
    make_args,
    message,
) -> None:
    before = _snapshot(finished_run)
    code = main(
        ["tune", *make_args(digits_folder, tmp_path), "--output-dir", str(finished_run), "-q"]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert _snapshot(finished_run) == before


def test_resume_refuses_a_changed_sweep_unless_forced(
    finished_run, digits_folder, tmp_path, capsys
) -> None:
    space = tmp_path / "other.yaml"
    space.write_text(yaml.safe_dump({"search_space": [tiny_space(learning_rate=0.05)]}))
    before = _snapshot(finished_run)
    args = [
        "tune",
        "--data",
        str(digits_folder),
        "--search-space",
        str(space),
        "--output-dir",
        str(finished_run),
        "-q",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "--force" in err
    assert "search_space[0].learning_rate: '(absent)' -> 0.05" in err  # only what changed
    assert _snapshot(finished_run) == before
    assert main([*args, "--no-resume"]) == 2
    assert "already holds a sweep" in capsys.readouterr().err


def test_cli_errors_in_a_subprocess_have_no_traceback(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", "tune", "--data", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (
        proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    )


def _counts(db: Path) -> tuple[int, int]:
    if not db.is_file():  # a reader never creates the store
        return 0, 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            done = con.execute("SELECT COUNT(*) FROM attempts WHERE status IS NOT NULL").fetchone()[
                0
            ]
            running = con.execute("SELECT COUNT(*) FROM attempts WHERE status IS NULL").fetchone()[
                0
            ]
        return done, running
    except sqlite3.Error:
        return 0, 0


@pytest.mark.slow
def test_kill_9_then_resume_completes_without_rerunning_completed_trials(
    digits_folder, tmp_path
) -> None:
    run = tmp_path / "run"
    space = tmp_path / "space.yaml"
    space.write_text(
        yaml.safe_dump(
            {
                "search_space": [
                    {**TINY, "number_of_epochs": 4, "learning_rate": "uniform(0.01, 0.1)"}
                ]
            }
        )
    )
    command = [
        sys.executable,
        "-m",
        "automl_vision.cli",
        "tune",
        "--data",
        str(digits_folder),
        "--search-space",
        str(space),
        "--max-trials",
        "4",
        "--policy",
        "none",
        "--output-dir",
        str(run),
        "-q",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        done, running = _counts(run / "sweep.db")
        if done >= 1 and running >= 1:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = SweepStore(run / "sweep.db").load_trials()
    completed_before = {t.trial_id for t in killed if t.status is TrialStatus.COMPLETED}
    unfinished = {t.trial_id for t in killed if t.status is TrialStatus.QUEUED}
    assert completed_before and len(unfinished) == 1

    resumed = subprocess.run(command, capture_output=True, text=True, env=env)
    assert resumed.returncode == 0, resumed.stderr
    store = SweepStore(run / "sweep.db")
    trials = store.load_trials()
    assert len(trials) == 4 and all(t.status is TrialStatus.COMPLETED for t in trials)
    attempts = store.attempt_counts()
    for t in trials:
        assert attempts[t.index] == (2 if t.trial_id in unfinished else 1), (t.trial_id, attempts)
    assert any(kind == "sweep_resumed" for _, kind, _ in store.events())


# -- no value, bad numbers and the resume message ------------------------------------------
def test_a_sweep_without_any_value_exits_3_on_stderr(
    digits_folder, tmp_path, monkeypatch, capsys
) -> None:
    def crash(params, report, context, *, job):
        raise RuntimeError("boom")

    monkeypatch.setattr("automl_vision.tuning.training_trial.run_training_trial", crash)
    space = tmp_path / "space.yaml"
    space.write_text(json.dumps({"search_space": [tiny_space()]}))
    code = main(
        ["tune", "--data", str(digits_folder), "--search-space", str(space), "--max-trials", "2",
         "--output-dir", str(tmp_path / "run"), "-q"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == EXIT_NO_VALUE == 3
    assert "no trial produced a value" in captured.err and "boom" in captured.err
    assert "no trial produced a value" not in captured.out
    result = TuneResult.load(tmp_path / "run")
    with pytest.raises(NoTrialValueError, match="RuntimeError: boom"):
        _ = result.best_trial


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--seed", "-1"], "seed must be >= 0"), (["--target-value", "nan"], "finite number")],
)
def test_cli_refuses_bad_numbers(digits_folder, tmp_path, capsys, flags, message) -> None:
    code = main(["tune", "--data", str(digits_folder), "--output-dir", str(tmp_path), *flags])
    assert code == 2 and message in capsys.readouterr().err


def test_no_resume_message_names_a_real_flag(finished_sweep, digits_folder, capsys) -> None:
    assert main(["tune", "--data", str(digits_folder), "--output-dir", str(finished_sweep),
                 "--no-resume", "-q"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "--resume)" not in err and "leave out --no-resume" in err
