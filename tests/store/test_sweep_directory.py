"""Sweep and CLI defects found by trying the release as a new user (each fails without its fix)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers_sweep import tiny_space
from PIL import Image

from automl_vision import choice, parse_distribution, tune
from automl_vision.cli import EXIT_NO_VALUE, main
from automl_vision.planning.plan import plan_sweep
from automl_vision.planning.preflight import check_plan
from automl_vision.reporting.plots import comparable_values, parameter_importance
from automl_vision.reporting.result import TuneResult
from automl_vision.store.database import CorruptStoreError, SweepStore
from automl_vision.store.sweep_dir import artifact_path
from automl_vision.trial import PrimaryMetricGoal, Report, Trial, TrialStatus
from automl_vision.tuning.optimize import NoTrialValueError


def _no_nan(text: str) -> None:
    raise ValueError(f"bare {text} in JSON")


@pytest.fixture(scope="module")
def finished_sweep(digits_folder, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("sweep") / "run"
    space = tiny_space(number_of_epochs=1, learning_rate=choice(0.01, 0.05))
    tune(digits_folder, search_space=space, sampling="grid", output_dir=run, progress=False)
    return run


# -- 3: a sweep directory can be moved -----------------------------------------------------
def test_paths_are_relative_to_the_sweep_directory(finished_sweep: Path) -> None:
    db = sqlite3.connect(finished_sweep / "sweep.db")
    artifacts = [json.loads(a) for (a,) in db.execute("SELECT artifacts FROM attempts")]
    db.close()
    assert all(a["checkpoint"].startswith("trials/") for a in artifacts)
    metrics = json.loads((finished_sweep / "metrics.json").read_text(), parse_constant=_no_nan)
    assert all(t["artifacts"]["checkpoint"].startswith("trials/") for t in metrics["trials"])
    link = finished_sweep / "best.pt"
    assert link.is_symlink() and not os.readlink(link).startswith("/")


def test_a_copied_sweep_is_read_and_exported_from_another_directory(
    finished_sweep: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = TuneResult.load(copy)
    assert result.best_checkpoint is not None and result.best_checkpoint.is_file()
    assert str(result.best_checkpoint).startswith(str(copy))
    assert (copy / "best.pt").is_file()  # the relative link resolves inside the copy
    pytest.importorskip("onnx")
    assert main(["export", str(copy), "--onnx"]) == 0
    assert (copy / "best.onnx").is_file()


def test_old_absolute_artifact_records_still_read(tmp_path: Path) -> None:
    trial = Trial(index=0, params={}, artifacts={"checkpoint": "/old/place/best.pt"})
    assert artifact_path(trial, "checkpoint", tmp_path) == Path("/old/place/best.pt")
    trial.artifacts["checkpoint"] = "trials/trial_0000/best.pt"
    assert artifact_path(trial, "checkpoint", tmp_path) == tmp_path / "trials/trial_0000/best.pt"


# -- 9: read-only and corrupt stores -------------------------------------------------------
def test_status_reads_without_writing(finished_sweep: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    before = (copy / "sweep.db").read_bytes()
    store = SweepStore.open_readonly(copy / "sweep.db")
    assert len(store.load_trials()) == 2
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.log("note", "x")
    store.close()
    assert (copy / "sweep.db").read_bytes() == before
    assert main(["status", str(copy)]) == 0
    assert "2 trials" in capsys.readouterr().out


def test_read_only_folder_falls_back_to_immutable(finished_sweep: Path, tmp_path, monkeypatch):
    """Where ``mode=ro`` cannot open a WAL store (no -shm, folder not writable), immutable=1
    is used; simulated, as root can write anywhere."""
    real = sqlite3.connect

    def connect(database, *args, **kwargs):
        if "immutable" not in str(database):
            raise sqlite3.OperationalError("unable to open database file")
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    store = SweepStore.open_readonly(finished_sweep / "sweep.db")
    assert len(store.load_trials()) == 2
    store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_status_on_a_read_only_copy(finished_sweep: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "ro"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    os.chmod(copy / "sweep.db", 0o444)
    os.chmod(copy, 0o555)
    try:
        assert main(["status", str(copy)]) == 0
        assert main(["report", str(copy), "--output-dir", str(tmp_path / "out")]) == 0
        assert main(["report", str(copy)]) == 2
        assert "--output-dir" in capsys.readouterr().err
    finally:
        os.chmod(copy, 0o755)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "not_a_sweep"])
def test_corrupt_store_is_one_clear_message(
    finished_sweep: Path, tmp_path: Path, capsys, damage: str
) -> None:
    copy = tmp_path / "bad"
    shutil.copytree(finished_sweep, copy, symlinks=True)
    db = copy / "sweep.db"
    for leftover in ("sweep.db-wal", "sweep.db-shm"):
        (copy / leftover).unlink(missing_ok=True)
    if damage == "garbage":
        db.write_bytes(b"this is not sqlite" * 100)
    elif damage == "truncate":
        db.write_bytes(db.read_bytes()[:1500])
    else:
        db.unlink()
        sqlite3.connect(db).execute("CREATE TABLE x (y)").connection.commit()
    with pytest.raises(CorruptStoreError, match="not a readable sweep store"):
        TuneResult.load(copy)
    for command in ("status", "report"):
        assert main([command, str(copy)]) == 2
        err = capsys.readouterr().err
        assert "not a readable sweep store" in err and "Traceback" not in err


# -- 5: no value, and errors found at planning time ----------------------------------------
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


def test_layers_to_freeze_beyond_the_stages_is_found_at_planning(digits_folder, tmp_path):
    with pytest.raises(ValueError, match=r"search_space\[0\]\.layers_to_freeze can be 50.*5 stag"):
        plan_sweep(digits_folder, search_space=tiny_space(layers_to_freeze=choice(0, 50)))


def test_a_crop_larger_than_memory_is_found_at_planning(digits_folder) -> None:
    plan = plan_sweep(digits_folder, search_space=tiny_space(), output_dir="x")
    spaces = plan.parameter_spaces
    with pytest.raises(
        ValueError, match=r"search_space\[0\]\.training_crop_size can be 16: .*disk"
    ):
        check_plan(plan.dataset, spaces, available_memory=10**12, available_disk=1000)
    with pytest.raises(ValueError, match=r"training_crop_size can be 16: one batch of 64"):
        check_plan(plan.dataset, spaces, available_memory=64 * 3 * 16 * 16 * 4 - 1,
                   available_disk=10**12)  # fmt: skip
    check_plan(plan.dataset, spaces, available_memory=10**12, available_disk=10**12)


def test_all_images_corrupt_is_found_at_planning(tmp_path) -> None:
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.png").write_bytes(b"broken")
    with pytest.raises(ValueError, match="none of the 6 images could be read"):
        plan_sweep(tmp_path, search_space=tiny_space())


# -- 12: smaller ones ----------------------------------------------------------------------
def test_misspelt_keyword_names_the_close_match(digits_folder) -> None:
    with pytest.raises(TypeError, match=r"'max_trail'.*did you mean 'max_trials'"):
        tune(digits_folder, max_trail=3)


def test_numbers_are_coerced_or_refused_by_name(digits_folder) -> None:
    plan = plan_sweep(digits_folder, search_space=tiny_space(), max_trials="3", seed="2")
    assert plan.max_trials == 3 and plan.seed == 2
    for kwargs, pattern in [
        ({"max_trials": "three"}, "max_trials must be an integer"),
        ({"max_trials": 2.5}, "max_trials must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"target_value": math.nan}, "target_value must be a finite number"),
        ({"max_concurrent_trials": True}, "max_concurrent_trials must be an integer"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            plan_sweep(digits_folder, search_space=tiny_space(), **kwargs)


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


def test_resume_refusal_shows_only_the_changed_fields(finished_sweep, digits_folder) -> None:
    space = tiny_space(number_of_epochs=1, learning_rate=choice(0.01, 0.1))
    with pytest.raises(ValueError, match="the sweep changed") as info:
        tune(digits_folder, search_space=space, sampling="grid", output_dir=finished_sweep,
             progress=False)  # fmt: skip
    lines = str(info.value).splitlines()[1:-1]
    assert lines == ["  search_space[0].learning_rate: 'choice(0.01, 0.05)' -> 'choice(0.01, 0.1)'"]


def test_yaml_booleans_in_choice() -> None:
    assert parse_distribution("choice(true, false)") == choice(True, False)
    assert parse_distribution("choice(True, null)") == choice(True, None)


def test_metrics_json_has_no_bare_nan(tmp_path) -> None:
    trial = Trial(index=0, params={"x": 1}, status=TrialStatus.COMPLETED, value=0.5)
    trial.reports = [Report(1, math.nan, {"accuracy": math.nan, "loss": math.inf})]
    trial.artifacts = {"metrics": {"accuracy": math.nan}, "best": np.float32("nan")}
    result = TuneResult.from_trials([trial], goal=PrimaryMetricGoal.MAXIMIZE, end_reason="x")
    data = json.loads(result.to_json(tmp_path / "m.json").read_text(), parse_constant=_no_nan)
    assert data["trials"][0]["artifacts"] == {"metrics": {"accuracy": None}, "best": None}
    assert data["trials"][0]["reports"][0]["metrics"] == {"accuracy": None, "loss": None}


def _trial(i: int, opt: str, status: TrialStatus, values: list[float]) -> Trial:
    return Trial(
        index=i,
        params={"optimizer": opt},
        status=status,
        value=values[-1],
        reports=[Report(s, v, {"accuracy": v}) for s, v in enumerate(values, start=1)],
    )


@pytest.mark.parametrize("goal", [PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE])
def test_importance_compares_like_with_like(goal) -> None:
    # stopped trials (epoch 1, low values) are all 'adam': mixed with the finished trials'
    # final values, 'optimizer' would look important; on comparable values it is not
    finished = [_trial(i, ["sgd", "adam"][i % 2], TrialStatus.COMPLETED, [0.5, 0.9]) for i in
                range(4)]  # fmt: skip
    stopped = [_trial(4 + i, "adam", TrialStatus.STOPPED, [0.1]) for i in range(4)]
    pairs, basis = comparable_values(finished + stopped)
    assert len(pairs) == 4 and "full budget" in basis
    assert parameter_importance(finished + stopped, goal) == {}  # no variation left
    few = finished[:2] + stopped
    pairs, basis = comparable_values(few)
    assert {v for _, v in pairs} == {0.5, 0.1} and "at report 1" in basis


# -- 12: the decoded-image cache -----------------------------------------------------------
def test_cache_info_clear_and_size_limit(tmp_path, monkeypatch, capsys) -> None:
    from automl_vision.data.cache import cache_info, decode_images

    cache = tmp_path / "cache"
    images = np.zeros((4, 8, 8, 3), np.uint8)
    monkeypatch.setenv("AUTOML_VISION_CACHE_LIMIT_MB", str(2.5 * 4 * 32 * 32 * 3 / 2**20))
    for i, size in enumerate((32, 32, 32)):
        decode_images(images, size, fingerprint=f"f{i}", cache_dir=cache)
        os.utime(cache / f"f{i}_{size}.npy", (1000 + i, 1000 + i))
        if i == 1:  # f0 used again: f1 is now the least recently used
            decode_images(images, 32, fingerprint="f0", cache_dir=cache)
    names = sorted(p.name for p in cache.glob("*.npy"))
    assert names == ["f0_32.npy", "f2_32.npy"]
    assert cache_info(cache).entries == 2
    assert main(["cache", "info", "--dir", str(cache)]) == 0
    assert "2 entries" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(cache)]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert cache_info(cache).entries == 0 and not list(cache.glob("*.json"))
    monkeypatch.setenv("AUTOML_VISION_CACHE_LIMIT_MB", "lots")
    assert main(["cache", "info", "--dir", str(cache)]) == 2
    assert "AUTOML_VISION_CACHE_LIMIT_MB" in capsys.readouterr().err


def test_sixteen_bit_png_through_the_dataset(tmp_path) -> None:
    from automl_vision.data import load_dataset

    for cls, level in (("dark", 8000), ("bright", 60000)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((8, 8), level, np.uint16)).save(tmp_path / cls / f"{i}.png")
    train, _ = load_dataset(tmp_path, cache=False, validation_size=0.34).decode(8)
    pixels = {int(train.images[i].max()) for i in train.indices}
    assert pixels == {round(8000 / 257), round(60000 / 257)}


# -- 13: a seeded trial's result does not depend on the executor ---------------------------
@pytest.mark.slow
def test_inline_and_pool_give_identical_metrics(digits_folder, tmp_path) -> None:
    import functools

    import torch

    from automl_vision.data import load_dataset
    from automl_vision.executors.base import TrialContext
    from automl_vision.executors.function import FunctionExecutor
    from automl_vision.executors.pool import ProcessPoolExecutor
    from automl_vision.tuning.training_trial import TrainingJob, run_training_trial

    dataset = load_dataset(digits_folder, seed=0)
    job = TrainingJob(dataset=dataset, primary_metric="accuracy", seed=3, device="cpu", threads=1)
    params = {**tiny_space(), "learning_rate": 0.05, "optimizer": "sgd"}
    target = functools.partial(run_training_trial, job=job)

    def run(executor) -> tuple[float, dict, dict]:
        executor.bind(lambda trial_id, step, metrics: False)
        executor.start(Trial(index=4, params=dict(params), trial_id="t"))
        outcomes: list = []
        while not outcomes:
            outcomes = executor.wait()
        executor.close()
        (outcome,) = outcomes
        assert outcome.error is None, outcome.error
        return outcome.result.value, outcome.result.metrics, outcome.result.artifacts

    def runner(trial, report):
        context = TrialContext(trial.trial_id, trial.index, str(tmp_path / "inline" / "t"), "")
        return target(trial.params, report, context)

    torch.set_num_threads(2)  # the sweep's own setting must not leak into the trial
    inline = run(FunctionExecutor(runner, capacity=1))
    assert torch.get_num_threads() == 2  # and is restored afterwards
    torch.set_num_threads(1)
    pool = run(ProcessPoolExecutor(target, slots=[""], output_dir=tmp_path / "pool",
                                   threads_per_worker=2))  # fmt: skip
    assert inline[0] == pool[0] and inline[1] == pool[1]
    assert inline[2]["threads"] == pool[2]["threads"] == 1
    assert inline[2]["random_seed"] == pool[2]["random_seed"]
