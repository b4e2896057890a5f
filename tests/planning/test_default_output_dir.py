"""The default sweep folder (``runs/<data>-<digest>``): the same call resumes the same sweep;
a call asked to do anything else, limits included, gets a folder of its own."""

from __future__ import annotations

import warnings

import pytest
from helpers_sweep import tiny_space

from automl_vision.config.spec import SweepSpec
from automl_vision.planning.plan import plan_sweep


@pytest.fixture
def folder_of(digits_folder, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def folder(spec: SweepSpec):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no pretrained weights here: said elsewhere
            return plan_sweep(spec, dry_run=True).output_dir

    return folder


def test_the_same_call_gets_the_same_folder(folder_of, digits_folder) -> None:
    spec = SweepSpec(data=digits_folder, search_space=tiny_space(), max_trials=4)
    assert folder_of(spec) == folder_of(spec.replace())
    assert folder_of(spec).parent.name == "runs" and folder_of(spec).name.startswith(
        f"{digits_folder.name}-"
    )


@pytest.mark.parametrize(
    "change",
    [{"max_trials": 12}, {"timeout": 60.0}, {"no_improvement_trials": 3}, {"seed": 1}],
)
def test_a_run_asked_to_do_something_else_gets_its_own_folder(
    folder_of, digits_folder, change
) -> None:
    """A job of 12 trials and a call of 4 on the same data, space, sampler and policy used to
    share one folder, so the second silently resumed the first (``max_trials reached``)."""
    spec = SweepSpec(data=digits_folder, search_space=tiny_space(), max_trials=4)
    assert folder_of(spec) != folder_of(spec.replace(**change))


@pytest.mark.parametrize(
    "change",
    [{"export_onnx": True}, {"keep_checkpoints": 1}, {"log_to": ["tensorboard"]}],
)
def test_outputs_and_logging_do_not_move_the_folder(folder_of, digits_folder, change) -> None:
    """Asking the same sweep for an ONNX file, fewer checkpoints or a TensorBoard log resumes it:
    its trials are the same."""
    spec = SweepSpec(data=digits_folder, search_space=tiny_space(), max_trials=4)
    assert folder_of(spec) == folder_of(spec.replace(**change))


def test_a_job_file_and_its_command_line_share_the_folder(folder_of, digits_folder, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(
        f"training_data: {{path: {digits_folder}}}\nlimits: {{max_trials: 3}}\n"
        "search_space:\n  - model_name: test_resnet\n    number_of_epochs: 1\n"
    )
    assert folder_of(SweepSpec.from_yaml(job)) == folder_of(SweepSpec.from_cli(["-c", str(job)]))
