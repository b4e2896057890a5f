"""Pretrained weights: found in a Hugging Face-style cache laid out here, loaded through timm's
own loader, "auto" / True / False at planning time, and `weights fetch` without network."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
from helpers_training import tiny_config

HUB_ID = "timm/test_resnet.r160_in1k"  # timm's pretrained config of test_resnet


def lay_out_hub_cache(cache: Path, seed: int = 1) -> dict[str, torch.Tensor]:
    """What huggingface_hub writes: models--org--name/refs/main + snapshots/<commit>/file."""
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    state = timm.create_model("test_resnet", num_classes=1000).state_dict()
    repo = cache / ("models--" + HUB_ID.replace("/", "--"))
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    save_file(
        {k: v.contiguous() for k, v in state.items()},
        str(repo / "snapshots" / commit / "model.safetensors"),
    )
    return state


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf" / "hub"
    state = lay_out_hub_cache(cache)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache, state


@pytest.mark.slow
def test_the_test_layout_is_what_timm_itself_reads_offline(hub_cache) -> None:
    """timm's own hf-hub path (HF_HUB_OFFLINE=1, read at import: a fresh process) loads it."""
    cache, state = hub_cache
    code = (
        "import timm, torch, sys; m = timm.create_model('test_resnet', pretrained=True, "
        f"cache_dir={str(cache)!r}); print(float(m.state_dict()['conv1.0.weight'].sum()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split()[-1]) == pytest.approx(float(state["conv1.0.weight"].sum()))


def test_weights_found_and_loaded_with_a_new_classifier_and_frozen_layers(hub_cache) -> None:
    from automl_vision.training.components import build_components
    from automl_vision.training.model_factory import build_model
    from automl_vision.weights import find_weights

    cache, state = hub_cache
    lookup = find_weights("test_resnet")
    assert lookup.found and lookup.path.is_relative_to(cache)
    model = build_model("test_resnet", 3, pretrained="auto")
    own = model.state_dict()
    body = [k for k in state if not k.startswith("fc.")]
    assert all(torch.equal(own[k], state[k]) for k in body)
    assert own["fc.weight"].shape[0] == 3  # the classifier was replaced for 3 classes
    assert not torch.equal(own["fc.weight"][:3], state["fc.weight"][:3])
    # the trainer's components: weights loaded and the first 2 stages frozen
    from helpers_training import write_folder

    from automl_vision.data import load_dataset

    data = load_dataset(write_folder(cache.parent.parent / "imgs", n_per_class=4))
    config = tiny_config(pretrained=True, layers_to_freeze=2).for_task(data.task)
    parts = build_components(config, data, data.decode(16), device=torch.device("cpu"), seed=0)
    frozen = {n for s in parts.frozen for n in s.parameters}
    params = dict(parts.model.named_parameters())
    assert frozen and all(not params[n].requires_grad for n in frozen)
    assert torch.equal(params["conv1.0.weight"].detach(), state["conv1.0.weight"])


def test_weights_folder_named_after_the_model(tmp_path) -> None:
    import timm

    from automl_vision.training.model_factory import build_model

    torch.manual_seed(3)
    state = timm.create_model("test_resnet").state_dict()
    torch.save(state, tmp_path / "test_resnet.pth")
    model = build_model("test_resnet", 4, pretrained=tmp_path)
    assert torch.equal(model.state_dict()["conv1.0.weight"], state["conv1.0.weight"])


def test_auto_without_weights_warns_once_and_trains(digits_folder, tmp_path) -> None:
    from automl_vision import tune
    from automl_vision.weights import MissingWeightsWarning

    space = {
        "model_name": "choice('test_resnet', 'test_efficientnet')",
        "number_of_epochs": 1,
        "training_crop_size": 16,
        "validation_crop_size": 16,
        "validation_resize_size": 16,
        "number_of_workers": 0,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tune(
            digits_folder,
            search_space=space,
            max_trials=2,
            output_dir=tmp_path / "s",
            progress=False,
            include_default_trial=False,
        )
    ours = [w for w in caught if issubclass(w.category, MissingWeightsWarning)]
    assert len(ours) == 1
    text = str(ours[0].message)
    assert "test_resnet" in text and "test_efficientnet" in text
    assert "automl-vision weights fetch" in text
    assert result.counts()["COMPLETED"] == 2


def test_true_without_weights_fails_before_any_trial(digits_folder, tmp_path) -> None:
    from automl_vision import tune
    from automl_vision.weights import MissingWeightsError

    with pytest.raises(MissingWeightsError, match="test_resnet.*weights fetch test_resnet"):
        tune(
            digits_folder,
            search_space={"model_name": "test_resnet"},
            max_trials=1,
            output_dir=tmp_path / "s",
            progress=False,
            training_options={"pretrained": True},
        )
    assert not (tmp_path / "s").exists()  # nothing started


@pytest.mark.slow
def test_cli_pretrained_true_exits_2_and_dry_run_says_per_model(
    digits_folder, tmp_path, hub_cache
) -> None:
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "none")}
    cmd = [
        sys.executable,
        "-m",
        "automl_vision.cli",
        "tune",
        "--data",
        str(digits_folder),
        "--search-space",
        "cpu_tiny",
        "--output-dir",
        str(tmp_path / "s"),
    ]
    out = subprocess.run(
        [*cmd, "--pretrained", "true"], capture_output=True, text=True, env=env, timeout=180
    )
    assert out.returncode == 2 and "test_resnet" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "test_resnet: weights found" in out.stdout
    assert "no weights" in out.stdout  # the other tiny models have none in this cache


def test_job_yaml_training_parameters_pretrained(tmp_path) -> None:
    from automl_vision.config.job import load_sweep_job

    job = tmp_path / "job.yaml"
    job.write_text("training_parameters: {pretrained: false, number_of_epochs: 2}\n")
    config = load_sweep_job(job)
    assert config.pretrained is False and config.training_parameters == {"number_of_epochs": 2}
    job.write_text("training_parameters: {pretrained: /no/such/dir}\n")
    with pytest.raises(ValueError, match="pretrained"):
        load_sweep_job(job)


def test_weights_fetch_without_network_fails_fast(tmp_path) -> None:
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub")}
    env.pop("HF_HUB_OFFLINE", None)
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", "weights", "fetch", "test_resnet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert time.monotonic() - start < 30
    assert out.returncode == 2
    assert "cannot download weights for 'test_resnet'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_weights_list_shows_the_cache(hub_cache) -> None:
    from automl_vision.weights import cached_weights

    assert [w.name for w in cached_weights()] == [HUB_ID]
    out = subprocess.run(
        [sys.executable, "-m", "automl_vision.cli", "weights", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert HUB_ID in out.stdout, out.stderr
