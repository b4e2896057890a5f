"""Shared test settings."""

import os
from pathlib import Path

import numpy as np
import pytest
from helpers_sweep import tiny_space
from hypothesis import HealthCheck, settings
from PIL import Image

from automl_vision import choice, tune

# CI machines are small and shared: no per-example deadline, fixed derandomized runs. `make test`
# (CI) runs hypothesis's full 100 examples per property ("ci"); a bare `pytest` between edits
# runs 25 derandomized examples per property ("dev").
_COMMON = {"deadline": None, "derandomize": True, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=100, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def single_thread():
    """Every test runs torch on one thread: tiny models run fastest so, and the CI box is
    shared (oversubscribed OpenMP threads make small ops many times slower). The import rule
    tests check fresh interpreters, so importing torch here hides nothing from them."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def decoded_image_cache(tmp_path_factory):
    """Decoded-image caches of the tests go to a temporary folder, not the user's home
    (subprocesses inherit the variable)."""
    before = os.environ.get("AUTOML_VISION_CACHE")
    os.environ["AUTOML_VISION_CACHE"] = str(tmp_path_factory.mktemp("decoded-cache"))
    yield
    if before is None:
        os.environ.pop("AUTOML_VISION_CACHE", None)
    else:
        os.environ["AUTOML_VISION_CACHE"] = before


@pytest.fixture(scope="session", autouse=True)
def empty_weights_cache(tmp_path_factory):
    """pretrained="auto" is the default: tests see an empty Hugging Face cache and no weights
    folder, whatever this machine holds, and never the internet (HF_HUB_OFFLINE=1: "auto" asks
    no hub; a test that serves a hub on loopback lifts it). Subprocesses inherit the
    variables."""
    keys = ("HF_HUB_CACHE", "AUTOML_VISION_WEIGHTS_DIR", "HF_HUB_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["HF_HUB_CACHE"] = str(tmp_path_factory.mktemp("hf-hub-empty"))
    os.environ.pop("AUTOML_VISION_WEIGHTS_DIR", None)
    os.environ["HF_HUB_OFFLINE"] = "1"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory) -> Path:
    """30 real digit scans per class (scikit-learn's bundled digits) as 16 px PNG folders."""
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("digits")
    bunch = load_digits()
    counts = dict.fromkeys(range(10), 0)
    for n, (scan, target) in enumerate(zip(bunch.images, bunch.target, strict=True)):
        if counts[int(target)] >= 30:
            continue
        counts[int(target)] += 1
        folder = root / str(target)
        folder.mkdir(exist_ok=True)
        pixels = np.clip(scan * 16, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).resize((16, 16)).save(folder / f"{n:04d}.png")
    return root


@pytest.fixture(scope="session")
def digits_multilabel_folder(tmp_path_factory) -> Path:
    from automl_vision.data.demo import digits_multilabel

    return digits_multilabel(tmp_path_factory.mktemp("mosaics"), n_images=150, size=16)


@pytest.fixture(scope="module")
def finished_sweep(digits_folder, tmp_path_factory) -> Path:
    """A finished 2-trial grid sweep on the digits (1 epoch each), run once per test module that
    uses it (tests/store/, tests/cli/ and tests/tuning/)."""
    run = tmp_path_factory.mktemp("sweep") / "run"
    space = tiny_space(number_of_epochs=1, learning_rate=choice(0.01, 0.05))
    tune(digits_folder, search_space=space, sampling="grid", output_dir=run, progress=False)
    return run
