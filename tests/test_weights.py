"""Pretrained weights: found in a Hugging Face-style cache laid out here, loaded through timm's
own loader, "auto" / True / False at planning time, downloaded once from a hub served on
loopback (``helpers_hub``), the fallback when the hub is unreachable or hangs, and `weights
fetch` without network. No test reaches the internet (``HF_HUB_OFFLINE=1`` from conftest, lifted
only towards loopback)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch
from helpers_hub import closed_port, serve_hub, silent_hub
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
    assert "test_resnet: cached (" in out.stdout
    # the other tiny models have none in this cache, and the hub is off (HF_HUB_OFFLINE)
    assert "test_efficientnet: random init (HF_HUB_OFFLINE is set)" in out.stdout


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
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"  # no network: nothing listens
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


# -- "auto" and the hub: download once, fall back once ------------------------------------------
def served_state(seed: int = 7) -> tuple[dict[str, torch.Tensor], bytes]:
    """test_resnet's ImageNet-shaped state and its safetensors file, as the fake hub serves it."""
    import timm
    from safetensors.torch import save

    torch.manual_seed(seed)
    state = timm.create_model("test_resnet", pretrained=False).state_dict()
    state = {k: v.contiguous() for k, v in state.items()}
    return state, save(state)


def go_online(monkeypatch, endpoint: str, cache: Path) -> None:
    """Lift conftest's HF_HUB_OFFLINE towards ``endpoint`` (loopback) with an empty cache;
    huggingface_hub read the variable when imported, so its constant is lifted too."""
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))


TINY = {
    "model_name": "test_resnet",
    "number_of_epochs": 1,
    "training_crop_size": 16,
    "validation_crop_size": 16,
    "validation_resize_size": 16,
    "number_of_workers": 0,
}


def test_auto_downloads_once_before_the_trials_and_then_uses_the_cache(
    digits_folder, tmp_path, monkeypatch
) -> None:
    from automl_vision import tune
    from automl_vision.planning.plan import plan_sweep
    from automl_vision.training.model_factory import build_model
    from automl_vision.weights import MissingWeightsWarning, WeightsSource, find_weights

    state, blob = served_state()
    with serve_hub({f"{HUB_ID}/model.safetensors": blob}) as hub:
        go_online(monkeypatch, hub.url, tmp_path / "hub")
        plan = plan_sweep(digits_folder, search_space=TINY, output_dir=tmp_path / "a", dry_run=True)
        assert [w.source for w in plan.weights.models] == [WeightsSource.DOWNLOAD]
        assert f"test_resnet: will download ({HUB_ID} from {hub.url})" in plan.describe()
        assert hub.requests == []  # planning only knocked: nothing downloaded
        with warnings.catch_warnings():
            warnings.simplefilter("error", MissingWeightsWarning)
            result = tune(digits_folder, search_space=TINY, max_trials=1,
                          output_dir=tmp_path / "a", progress=False)  # fmt: skip
        assert result.counts()["COMPLETED"] == 1
        got = [r for r in hub.requests if r.startswith("GET")]
        assert got == [f"GET /{HUB_ID}/resolve/main/model.safetensors"]  # one download
        lookup = find_weights("test_resnet")
        assert lookup.found and lookup.path.is_relative_to(tmp_path / "hub")

        # a second sweep: the cache answers, the hub is not even connected to
        seen = (hub.connections, len(hub.requests))
        plan = plan_sweep(digits_folder, search_space=TINY, output_dir=tmp_path / "b", dry_run=True)
        assert "test_resnet: cached (" in plan.describe()
        with warnings.catch_warnings():
            warnings.simplefilter("error", MissingWeightsWarning)
            tune(digits_folder, search_space=TINY, max_trials=1, output_dir=tmp_path / "b",
                 progress=False)  # fmt: skip
        assert (hub.connections, len(hub.requests)) == seen

    # the downloaded weights are the served ones (the classifier is replaced for 10 classes)
    own = build_model("test_resnet", 10, pretrained="auto").state_dict()
    body = [k for k in state if not k.startswith("fc.")]
    assert body and all(torch.equal(own[k], state[k]) for k in body)


def test_offline_and_pretrained_false_never_touch_the_hub(tmp_path, monkeypatch) -> None:
    from automl_vision.weights import WeightsSource, download_planned, plan_weights

    _, blob = served_state()
    with serve_hub({f"{HUB_ID}/model.safetensors": blob}) as hub:
        go_online(monkeypatch, hub.url, tmp_path / "hub")
        assert plan_weights(["test_resnet"], False).models == ()
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        plan = plan_weights(["test_resnet"], "auto")
        assert [w.source for w in plan.models] == [WeightsSource.RANDOM]
        assert "HF_HUB_OFFLINE" in plan.warning
        assert download_planned(plan)[1] is None  # nothing planned, nothing tried
        assert hub.connections == 0 and hub.requests == []


def plan_in_thread(action, ceiling_s: float = 10.0):
    """Run ``action`` in a thread; its result once it finishes within ``ceiling_s`` (the test
    fails if it hangs)."""
    out: dict = {}
    done = threading.Event()

    def run() -> None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out["value"] = action()
            out["warnings"] = caught
        except BaseException as err:  # handed to the test
            out["error"] = err
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(ceiling_s), f"still running after {ceiling_s} s"
    if "error" in out:
        raise out["error"]
    return out["value"], out["warnings"]


def test_unreachable_hub_falls_back_with_exactly_one_warning(
    digits_folder, tmp_path, monkeypatch
) -> None:
    from automl_vision.planning.plan import plan_sweep
    from automl_vision.weights import MissingWeightsError, MissingWeightsWarning, WeightsSource

    go_online(monkeypatch, f"http://127.0.0.1:{closed_port()}", tmp_path / "hub")
    space = {**TINY, "model_name": "choice('test_resnet', 'test_efficientnet', 'test_vit4')"}
    plan, caught = plan_in_thread(
        lambda: plan_sweep(
            digits_folder, search_space=space, output_dir=tmp_path / "s", dry_run=True
        )
    )
    ours = [w for w in caught if issubclass(w.category, MissingWeightsWarning)]
    assert len(ours) == 1
    text = str(ours[0].message)
    assert "test_resnet, test_efficientnet" in text and "unreachable" in text
    assert "test_vit4" not in text  # timm publishes no weights for it
    assert [w.source for w in plan.weights.models] == [WeightsSource.RANDOM] * 3
    assert "test_vit4: random init (no published weights" in plan.describe()
    with pytest.raises(MissingWeightsError, match="test_resnet.*cannot download.*unreachable"):
        plan_in_thread(
            lambda: plan_sweep(
                digits_folder,
                search_space=TINY,
                output_dir=tmp_path / "t",
                dry_run=True,
                training_options={"pretrained": True},
            )
        )


def test_a_hub_that_hangs_falls_back_with_one_warning(tmp_path, monkeypatch) -> None:
    from automl_vision.weights import (
        MissingWeightsError,
        WeightsSource,
        download_planned,
        plan_weights,
    )

    with silent_hub() as endpoint:
        go_online(monkeypatch, endpoint, tmp_path / "hub")
        plan = plan_weights(["test_resnet", "test_vit4"], "auto")
        assert [w.source for w in plan.models] == [WeightsSource.DOWNLOAD, WeightsSource.RANDOM]
        assert plan.warning is None  # the hub accepted the connection; test_vit4 is not named
        (after, warning), _ = plan_in_thread(lambda: download_planned(plan, timeout_s=1), 60)
        assert [w.source for w in after.models] == [WeightsSource.RANDOM] * 2
        assert "test_resnet" in warning and "test_vit4" not in warning
        required = plan_weights(["test_resnet"], True)
        with pytest.raises(MissingWeightsError, match="test_resnet.*cannot download"):
            plan_in_thread(lambda: download_planned(required, timeout_s=1), 60)


def test_the_warning_names_only_models_with_published_weights() -> None:
    from automl_vision.weights import MissingWeightsError, WeightsSource, plan_weights

    # conftest: HF_HUB_OFFLINE=1 and an empty cache
    plan = plan_weights(["test_vit4", "test_resnet", "test_mambaout"], "auto")
    assert "test_resnet" in plan.warning
    assert "test_vit4" not in plan.warning and "test_mambaout" not in plan.warning
    lines = [w.describe() for w in plan.models]
    assert lines[0] == "test_vit4: random init (no published weights: starts from scratch)"
    assert lines[1] == "test_resnet: random init (HF_HUB_OFFLINE is set)"
    none_published = plan_weights(["test_vit4", "test_mambaout"], "auto")
    assert none_published.warning is None
    assert {w.source for w in none_published.models} == {WeightsSource.RANDOM}
    with pytest.raises(MissingWeightsError, match="'test_vit4'.*no published"):
        plan_weights(["test_vit4"], True)


def test_weights_fetch_downloads_from_hf_endpoint(tmp_path) -> None:
    """The CLI in a fresh process: HF_ENDPOINT and HF_HUB_CACHE from its environment."""
    from safetensors.torch import load_file

    state, blob = served_state()
    with serve_hub({f"{HUB_ID}/model.safetensors": blob}) as hub:
        env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_ENDPOINT": hub.url}
        env.pop("HF_HUB_OFFLINE", None)
        cmd = [sys.executable, "-m", "automl_vision.cli", "weights", "fetch", "test_resnet"]
        out = subprocess.run(
            [*cmd, "--to", str(tmp_path / "w")], capture_output=True, text=True, env=env,
            timeout=120,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(tmp_path / "w" / "test_resnet.safetensors")]
    got = load_file(str(tmp_path / "w" / "test_resnet.safetensors"))
    assert all(torch.equal(got[k], state[k]) for k in state)
    assert any(r.startswith("GET ") for r in hub.requests)
