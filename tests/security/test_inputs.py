"""Hostile and careless inputs: every refusal is one line naming what is wrong (exit 2 on the
command line, no traceback), ``validate`` refuses what ``tune`` would refuse before training
with the same line, counts and sizes have sane upper bounds, booleans are never integers (nor
integers booleans), nothing on disk changes on a refused input, and an attempt's starting epoch
is recorded when it starts."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml
from helpers_sweep import TINY, tiny_space

from automl_vision.cli import main
from automl_vision.config.spec import SweepSpec
from automl_vision.executors.function import FunctionExecutor
from automl_vision.executors.pool import ProcessPoolExecutor
from automl_vision.sampling.fixed import FixedConfigurations
from automl_vision.scheduling.scheduler import Scheduler
from automl_vision.space import (
    ImageClassificationSearchSpace,
    load_search_space,
    parse_distribution,
)
from automl_vision.space.fields import FIELDS, MAX_EPOCHS
from automl_vision.space.load import MAX_YAML_VALUES
from automl_vision.store.database import SweepStore
from automl_vision.trial import Trial

# -- helpers -----------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its content's hash (and every folder)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refusal(err: str) -> str:
    """The one error line of a refusal (other lines may only be the sweep's announcements)."""
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("automl-vision: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert all(line.startswith("automl_vision: ") for line in lines[:-1]), err
    assert "Traceback" not in err
    return errors[0]


def job_file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def data(tmp_path, digits_folder) -> Path:
    """A copy of the digits inside ``tmp_path`` (so a snapshot of it covers the data too)."""
    import shutil

    return Path(shutil.copytree(digits_folder, tmp_path / "digits"))


# -- 1. one line, exit 2, never a traceback ----------------------------------------------------

BAD_FILES = {
    "syntax error": "search_space:\n  - learning_rate: [1\n",
    "python object tag": "!!python/object:os.system\nfoo: 1\n",
    "python apply tag": 'limits:\n  max_trials: !!python/object/apply:os.system ["echo hi"]\n',
    "unhashable key": "? [1, 2]\n: 3\n",
    "nested too deeply": "search_space: " + "[" * 5000 + "]" * 5000 + "\n",
    "self reference": "search_space: &a [*a]\n",
    "alias bomb": (
        "tags:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n"
            for i in range(6)
        )
        + "search_space: [{model_name: *g}]\n"
    ),
}


@pytest.mark.parametrize("text", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_validate_refuses_a_bad_file_with_tunes_line(tmp_path, capsys, text) -> None:
    path = job_file(tmp_path / "job.yaml", text)
    before = snapshot(tmp_path)
    code, _, err = cli(["validate", str(path)], capsys)
    line = refusal(err)
    assert code == 2 and str(path) in line and len(line) < 300
    code, _, err = cli(["tune", "-c", str(path), "--dry-run"], capsys)
    assert code == 2 and refusal(err) == line  # the same loading path
    assert snapshot(tmp_path) == before


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path) -> None:
    levels = "".join(
        f"  l{i + 1}: &l{i + 1} [{', '.join([f'*l{i}'] * 10)}]\n" for i in range(8)
    )  # 10**9 values once expanded
    path = job_file(tmp_path / "bomb.yaml", f"tags:\n  l0: &l0 x\n{levels}search_space: *l8\n")
    with pytest.raises(ValueError, match=f"more than {MAX_YAML_VALUES} values"):
        load_search_space(path)


def test_a_folder_or_a_non_utf8_file_is_named(tmp_path, capsys) -> None:
    code, _, err = cli(["validate", str(tmp_path)], capsys)
    assert code == 2 and "is a folder, not a YAML file" in refusal(err)
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"search_space:\n  - model_name: \xe9\xff\n")
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2 and str(path) in refusal(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["tune", "--data", "{data}", "--policy", "bandit:slack_factor=[1", "--dry-run"],
        ["tune", "--data", "{data}", "--max-concurrent-trials", "100000000", "--dry-run"],
        ["tune", "--data", "{data}", "--threads-per-trial", "100000000000000000000", "--dry-run"],
        ["tune", "--data", "{data}", "--training-options", "nosuch=1", "--dry-run"],
        ["tune", "--data", "{data}", "--training-options", "task=multilabel", "--dry-run"],
        ["tune", "--data", "{data}", "--primary-metric", "nosuch", "--dry-run"],
        ["train", "--data", "{data}", "--number_of_epochs", "20000"],
        ["train", "--data", "{data}", "--random_seed", "99999999999999999999999"],
        ["spaces", "{file}"],
        ["status", "{data}"],
    ],
    ids=lambda argv: " ".join(argv[:1] + argv[3:5]),
)
def test_each_command_refuses_bad_values_in_one_line(tmp_path, data, capsys, argv) -> None:
    long_file = job_file(tmp_path / "long.yaml", "x" * 100_000 + "\n")  # a scalar: not a space
    argv = [a.format(data=data, file=long_file) for a in argv]
    before = snapshot(tmp_path)
    code, _, err = cli(argv, capsys)
    line = refusal(err)
    assert code == 2 and len(line) < 400, line
    assert snapshot(tmp_path) == before


def test_several_problems_are_still_one_line(tmp_path, capsys) -> None:
    path = job_file(tmp_path / "job.yaml", "limits: {max_trials: 0}\nsweep: {seed: -1}\n")
    code, _, err = cli(["validate", str(path)], capsys)
    line = refusal(err)
    assert code == 2 and "max_trials must be >= 1" in line and "seed must be >= 0" in line


# -- 2. bounds and strict types ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e20", "1.0e+20", "100000000000000000000", "20000"])
def test_number_of_epochs_has_an_upper_bound(tmp_path, capsys, value) -> None:
    """``number_of_epochs: 1e20`` made Hyperband's first rung 11111111111111110656."""
    space = job_file(tmp_path / "space.yaml", f"search_space:\n  - number_of_epochs: {value}\n")
    code, _, err = cli(["validate", str(space)], capsys)
    assert code == 2
    assert "number_of_epochs must be" in refusal(err) and str(MAX_EPOCHS) in err


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number_of_epochs", 10**20),
        ("warmup_cosine_lr_warmup_epochs", 10**6),
        ("early_stopping_patience", 10**6),
        ("early_stopping_delay", 10**6),
        ("evaluation_frequency", 10**6),
        ("step_lr_step_size", 10**6),
        ("training_batch_size", 10**7),
        ("validation_batch_size", 10**7),
        ("gradient_accumulation_step", 10**7),
        ("training_crop_size", 100_000),
        ("validation_crop_size", 100_000),
        ("validation_resize_size", 100_000),
        ("number_of_workers", 10**6),
        ("layers_to_freeze", 10**6),
        ("random_seed", 2**64),
    ],
)
def test_counts_and_sizes_have_upper_bounds(field, value) -> None:
    high = int(FIELDS[field].high)
    with pytest.raises(ValueError, match=f"{field}.* is out of range; {field} must be an integer"):
        ImageClassificationSearchSpace(**{field: value})
    with pytest.raises(ValueError, match="outside the allowed range"):
        ImageClassificationSearchSpace(**{field: f"quniform(1, {value}, 1)"})
    ImageClassificationSearchSpace(**{field: high})  # the bound itself is allowed
    from automl_vision.training.training_config import TrainingConfig

    with pytest.raises(ValueError, match=f"{field}="):
        TrainingConfig(**{field: value})


def test_the_bounds_keep_hyperbands_rungs_small(tmp_path, data) -> None:
    from automl_vision.planning.plan import plan_sweep

    space = tiny_space(number_of_epochs=MAX_EPOCHS)
    plan = plan_sweep(SweepSpec(data=data, search_space=[space], max_trials=2), dry_run=True)
    assert plan.max_epochs() == MAX_EPOCHS
    assert max(plan.policy.rungs(0, MAX_EPOCHS)) <= MAX_EPOCHS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("limits: {max_trials: true}", "limits.max_trials must be an integer, got True"),
        ("limits: {max_trials: 2.5}", "limits.max_trials must be an integer"),
        ("sweep: {seed: false}", "sweep.seed must be an integer, got False"),
        ("limits: {max_concurrent_trials: true}", "limits.max_concurrent_trials must be"),
        ("export_onnx: 1", "export_onnx must be true or false, got 1"),
        ("include_default_trial: 'no'", "include_default_trial must be true or false"),
        ("training_parameters: {number_of_epochs: true}", "number_of_epochs=True is not a number"),
        ("search_space: [{training_batch_size: 'choice(true, 32)'}]", "True is not a number"),
        ("sweep: {early_termination: {type: bandit, slack_factor: 0.1, delay_evaluation: true}}",
         "delay_evaluation must be an integer"),
    ],
)  # fmt: skip
def test_booleans_are_not_integers_in_a_job(tmp_path, capsys, text, message) -> None:
    path = job_file(tmp_path / "job.yaml", text + "\n")
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2 and message in refusal(err)


def test_booleans_are_not_integers_in_options(tmp_path) -> None:
    for name, value in [("max_trials", True), ("seed", True), ("threads_per_trial", True),
                        ("export_onnx", 1), ("include_default_trial", "yes")]:  # fmt: skip
        with pytest.raises(ValueError, match=name):
            SweepSpec(data=tmp_path, **{name: value})
    assert SweepSpec(data=tmp_path, export_onnx=True).export_onnx is True


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("primary_metric: nosuch\n", "primary_metric='nosuch' is not a metric"),
        ("primary_metric: iou\n", "primary_metric='iou' is not a metric for multiclass"),
        ("task: image_classification\nprimary_metric: iou\n", "is not a metric for multiclass"),
        ("training_options: {nosuch: 1}\n", "training_options: unknown training option 'nosuch'"),
        ("training_options: {amp: maybe}\n", "training_options: amp:"),
        (
            "search_space:\n  - {model_name: test_resnet, training_crop_size: 4096, "
            "validation_crop_size: 4096, validation_resize_size: 4096, "
            "training_batch_size: 65536}\n",
            "one batch of 65536 such images needs",
        ),
        ("training_data: {path: ./nosuch, type: uri_folder}\n", "does not exist"),
        ("training_data: {path: ./job.yaml, type: uri_folder}\n", "is not a folder"),
    ],
)
def test_validate_refuses_what_tune_refuses_before_training(
    tmp_path, data, capsys, job, message
) -> None:
    text = f"training_data: {{path: {data}}}\nlimits: {{max_trials: 2}}\n"
    if job.startswith("training_data"):
        text = ""
    path = job_file(tmp_path / "job.yaml", text + job)
    before = snapshot(tmp_path)
    code, _, err = cli(["validate", str(path)], capsys)
    line = refusal(err)
    assert code == 2 and message in line, line
    code, _, err = cli(["tune", "-c", str(path), "--dry-run", "-q"], capsys)
    assert code == 2 and refusal(err) == line
    assert snapshot(tmp_path) == before


def test_validate_plans_a_good_job_and_writes_nothing(tmp_path, data, capsys) -> None:
    path = job_file(
        tmp_path / "job.yaml",
        yaml.safe_dump({"training_data": {"path": str(data)}, "limits": {"max_trials": 2},
                        "search_space": [tiny_space()], "output_dir": str(tmp_path / "run")}),
    )  # fmt: skip
    cache = Path(os.environ["AUTOML_VISION_CACHE"])
    before, cached = snapshot(tmp_path), snapshot(cache)
    code, out, _ = cli(["validate", str(path)], capsys)
    assert code == 0 and "planned on its data" in out and "multiclass, 300 images" in out
    assert snapshot(tmp_path) == before and snapshot(cache) == cached
    without_data = job_file(tmp_path / "nodata.yaml", "limits: {max_trials: 2}\n")
    code, out, _ = cli(["validate", str(without_data)], capsys)
    assert code == 0 and "names no training_data" in out


# -- distributions that overflowed instead of being refused -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "quniform(0, 1e308, 1e-308)",
        "qloguniform(0, 700, 1e-300)",
        "qnormal(0, 1e308, 1e-308)",
        "lognormal(0, 1e300)",
        "qlognormal(0, 1e300, 1)",
        "normal(0, 1e308)",
        "choice(" + "-" * 100_000 + "1)",
        "choice(" + "not " * 100_000 + "1)",
    ],
    ids=lambda t: t[:30],
)
def test_a_distribution_that_cannot_be_represented_is_a_value_error(text) -> None:
    with pytest.raises(ValueError) as caught:
        parse_distribution(text)
    assert len(str(caught.value)) < 300 and "\n" not in str(caught.value)


def test_a_huge_value_is_quoted_short(tmp_path) -> None:
    with pytest.raises(ValueError) as caught:
        load_search_space([{"model_name": "x" * 100_000}])
    assert len(str(caught.value)) < 300
    with pytest.raises(ValueError) as caught:
        load_search_space(
            [{"number_of_epochs": {"type": "choice", "values": list(range(10**4, 10**5))}}]
        )
    assert len(str(caught.value)) < 400 and "and 89996 more" in str(caught.value)


# -- 3. the epoch an attempt starts from is recorded when it starts -----------------------------


def _starts_then_fails(params, report, context):
    context.on_start(params["from"])
    raise RuntimeError("killed before its first report")


@pytest.mark.parametrize("executor", ["inline", "threads", "pool"])
def test_an_attempt_killed_before_reporting_shows_where_it_started(tmp_path, executor) -> None:
    from pool_targets import starts_then_dies

    store = SweepStore(tmp_path / "sweep.db")
    if executor == "pool":
        runner = ProcessPoolExecutor(starts_then_dies, slots=[""], output_dir=tmp_path)
    else:
        runner = FunctionExecutor.for_target(
            _starts_then_fails, capacity=1 if executor == "inline" else 2, output_dir=tmp_path
        )
    scheduler = Scheduler(
        FixedConfigurations([{"from": 4}]), runner, max_trials=1, observers=[store]
    )
    scheduler.run()
    attempts = store.attempts(0)
    store.close()
    assert attempts and all(a["started_from_epoch"] == 4 for a in attempts), attempts
    code = main(["status", "--json", str(tmp_path)])
    assert code == 0


def test_status_json_shows_the_recorded_start(tmp_path, capsys) -> None:
    store = SweepStore(tmp_path / "sweep.db")
    trial = Trial(index=0, params={"x": 1})
    store.trial_started(trial)
    store.attempt_starts(trial, 7)  # then the process was killed: no report, no end
    store.close()
    assert main(["status", "--json", str(tmp_path)]) == 0
    (trial_json,) = json.loads(capsys.readouterr().out)["trials"]
    assert trial_json["attempts"][0]["started_from_epoch"] == 7


def test_a_store_of_an_earlier_version_gains_the_column(tmp_path) -> None:
    path = tmp_path / "sweep.db"
    store = SweepStore(path)
    store.trial_started(Trial(index=0, params={"x": 1}))
    store.close()
    db = sqlite3.connect(path)  # as an earlier version wrote it: no started_from column
    db.execute("ALTER TABLE attempts DROP COLUMN started_from")
    db.commit()
    db.close()
    old = SweepStore.open_readonly(path)  # read-only: nothing added, the old inference
    assert old.attempts(0)[0]["started_from_epoch"] == 0
    old.close()
    store = SweepStore(path)  # the writer adds the nullable column
    store.attempt_starts(Trial(index=0, params={"x": 1}), 3)
    assert store.attempts(0)[0]["started_from_epoch"] == 3
    store.close()


def test_the_training_target_says_where_it_resumes(digits_folder, tmp_path) -> None:
    from automl_vision.data import load_dataset
    from automl_vision.executors.base import TrialContext
    from automl_vision.trial import Verdict
    from automl_vision.tuning.training_trial import TrainingJob, run_training_trial

    job = TrainingJob(
        dataset=load_dataset(digits_folder, seed=0), primary_metric="accuracy", seed=1,
        device="cpu", threads=1,
    )  # fmt: skip
    starts: list[int] = []
    context = TrialContext("t", 0, str(tmp_path / "t"), "", on_start=starts.append)
    params = {**TINY, "number_of_epochs": 2}
    pause_after_one = functools.partial(lambda step, metrics: Verdict.PAUSE)
    run_training_trial(params, pause_after_one, context, job=job)
    run_training_trial(params, lambda step, metrics: Verdict.CONTINUE, context, job=job)
    assert starts == [0, 1]  # said before training: the second attempt resumes after epoch 1


def test_bench_refuses_a_json_path_in_a_missing_folder_before_it_runs(tmp_path, capsys) -> None:
    code, _, err = cli(["bench", "--quick", "--json", str(tmp_path / "no" / "b.json")], capsys)
    assert code == 2 and "its folder does not exist" in refusal(err)
