"""Using a trained model: load_model / Predictor, PyTorch and ONNX agreeing, the CLI's JSONL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TINY = {
    "model_name": "test_resnet",
    "number_of_epochs": 1,
    "training_crop_size": 16,
    "validation_crop_size": 16,
    "validation_resize_size": 16,
    "number_of_workers": 0,
}


@pytest.fixture(scope="module")
def digits_run(digits_folder, tmp_path_factory) -> Path:
    from automl_vision import tune

    out = tmp_path_factory.mktemp("predict") / "run"
    tune(
        digits_folder,
        search_space=TINY,
        max_trials=1,
        output_dir=out,
        progress=False,
        include_default_trial=False,
    )
    return out


def test_pytorch_and_onnx_agree_and_inputs_of_every_kind(digits_run, digits_folder) -> None:
    from automl_vision import TuneResult, load_model

    files = sorted(digits_folder.rglob("*.png"))[::25]
    torch_p = load_model(digits_run, device="cpu").predict(files)
    onnx_p = load_model(digits_run, onnx=True).predict(files)
    assert [p.predicted for p in torch_p] == [p.predicted for p in onnx_p]
    np.testing.assert_allclose([p.probs for p in torch_p], [p.probs for p in onnx_p], atol=1e-4)
    assert all(abs(sum(p.probs) - 1) < 1e-5 for p in torch_p)
    # PIL images and arrays give the same answer as the files; batching changes nothing
    predictor = TuneResult.load(digits_run).predictor(device="cpu", batch_size=3)
    pil = predictor.predict([Image.open(f) for f in files])
    arrays = predictor.predict([np.asarray(Image.open(f)) for f in files])
    np.testing.assert_allclose([p.probs for p in pil], [p.probs for p in torch_p], atol=1e-6)
    np.testing.assert_allclose([p.probs for p in arrays], [p.probs for p in torch_p], atol=1e-6)
    assert pil[0].filename is None and torch_p[0].filename == str(files[0])


@pytest.mark.slow
def test_cli_writes_azure_jsonl_and_reports_a_corrupt_file(
    digits_run, digits_folder, tmp_path
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for f in sorted(digits_folder.rglob("*.png"))[:3]:
        (inputs / f"{f.parent.name}_{f.name}").write_bytes(f.read_bytes())
    (inputs / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "preds.jsonl"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "automl_vision.cli",
            "predict",
            str(digits_run),
            str(inputs),
            "--output",
            str(out),
            "--onnx",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4
    broken = [x for x in lines if x["filename"].endswith("broken.png")]
    assert len(broken) == 1 and "error" in broken[0]
    good = [x for x in lines if "error" not in x]
    assert len(good) == 3
    for line in good:
        assert set(line) == {"filename", "probs", "labels", "predicted"}
        assert line["labels"] == [str(d) for d in range(10)]
        assert len(line["probs"]) == 10 and line["predicted"][0] in line["labels"]
    assert "1 image(s) could not be read" in run.stderr


@pytest.mark.slow
def test_bad_run_dir_exits_2_with_one_line(tmp_path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "automl_vision.cli",
            "predict",
            str(tmp_path / "nope"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "nope" in run.stderr


def test_multilabel_uses_the_tuned_thresholds(digits_multilabel_folder, tmp_path) -> None:
    from automl_vision import load_model, train
    from automl_vision.training import TrainingConfig
    from automl_vision.training.checkpoint import load_checkpoint

    config = TrainingConfig(**TINY, random_seed=0)
    result = train(config, digits_multilabel_folder, output_dir=tmp_path / "ml")
    ckpt = load_checkpoint(result.checkpoint_path)
    assert ckpt.class_thresholds is not None
    files = sorted(Path(digits_multilabel_folder).rglob("*.png"))[:8]
    probs = np.array([p.probs for p in load_model(ckpt, device="cpu").predict(files)])
    for thresholds in ([0.0] * 10, [1.01] * 10, list(np.linspace(0.2, 0.8, 10))):
        ckpt.class_thresholds = thresholds
        got = load_model(ckpt, device="cpu").predict(files)
        for row, p in zip(probs, got, strict=True):
            want = [c for c, v, t in zip(ckpt.class_names, row, thresholds, strict=True) if v >= t]
            assert p.predicted == want


def test_to_json_is_one_line_of_json_text_and_to_dict_the_dict() -> None:
    from automl_vision.predict import Prediction

    ok = Prediction("a.png", ["cat", "dog"], [0.25, 0.75], ["dog"])
    text = ok.to_json()
    assert isinstance(text, str) and "\n" not in text
    assert json.loads(text) == ok.to_dict() == {
        "filename": "a.png", "probs": [0.25, 0.75], "labels": ["cat", "dog"], "predicted": ["dog"]
    }  # fmt: skip
    broken = Prediction("b.png", ["cat", "dog"], error="cannot read")
    assert json.loads(broken.to_json()) == {"filename": "b.png", "error": "cannot read"}
