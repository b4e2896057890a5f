"""Checkpoint round trip and ONNX export parity with onnxruntime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from helpers_training import (
    tiny_config,
    tiny_dataset,
    write_multilabel_jsonl,
)

from automl_vision.data import load_dataset
from automl_vision.data.transforms import EvalTransform, to_float
from automl_vision.training import export_onnx, load_checkpoint, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    ds = tiny_dataset()
    result = train(tiny_config(number_of_epochs=2, validation_resize_size=20), ds, output_dir=out)
    return ds, result


def _validation_batch(ds, size: int) -> torch.Tensor:
    _, val = ds.decode(size)
    return torch.from_numpy(np.asarray(val.images)[val.indices])


def test_checkpoint_holds_everything_to_rebuild_the_model(trained) -> None:
    ds, result = trained
    ckpt = load_checkpoint(result.checkpoint_path)
    assert ckpt.class_names == list(ds.class_names) and ckpt.task.value == "multiclass"
    assert ckpt.input_size == 16 and ckpt.resize_size == 20 and ckpt.num_classes == 3
    assert ckpt.mean == (0.5, 0.5, 0.5) and ckpt.epoch == result.best_epoch
    assert ckpt.training_config() == result.config
    model = ckpt.build_model()
    batch = EvalTransform(20, 16, ckpt.mean, ckpt.std)(_validation_batch(ds, 20))
    logits = model(batch)
    accuracy = (logits.argmax(1).numpy() == ds.targets(ds.validation_indices)).mean()
    assert accuracy == pytest.approx(result.best_metrics["accuracy"])


@pytest.mark.parametrize("normalization", [False, True])
def test_onnx_matches_pytorch_on_validation_images(trained, tmp_path: Path, normalization) -> None:
    ds, result = trained
    ckpt = load_checkpoint(result.checkpoint_path)
    path = export_onnx(ckpt, tmp_path / "model.onnx", enable_onnx_normalization=normalization)
    model = ckpt.build_model()
    raw = _validation_batch(ds, 20)
    normalized = EvalTransform(20, 16, ckpt.mean, ckpt.std)(raw)
    # what the ONNX model takes: normalized input, or the raw crop in [0, 1]
    crop = EvalTransform(20, 16, (0, 0, 0), (1, 1, 1))(raw)
    feed = crop if normalization else normalized
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = model(normalized).numpy()
    for n in (len(feed), 1):  # dynamic batch dimension
        (got,) = session.run(["logits"], {"input": feed[:n].numpy()})
        np.testing.assert_allclose(got, expected[:n], atol=1e-4, rtol=0)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["class_names"]) == list(ds.class_names)
    assert json.loads(meta["mean"]) == [0.5, 0.5, 0.5] and meta["input_size"] == "16"
    assert meta["resize_size"] == "20" and meta["input_layout"] == "NCHW"
    assert meta["normalization_included"] == ("true" if normalization else "false")
    assert meta["input_range"] == ("0..1" if normalization else "normalized")


def test_enable_onnx_normalization_from_the_config_reaches_the_export(tmp_path: Path) -> None:
    ds = tiny_dataset()
    result = train(tiny_config(number_of_epochs=1, enable_onnx_normalization=True), ds)
    path = export_onnx(result.checkpoint, tmp_path / "m.onnx")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["normalization_included"] == "true"
    raw = to_float(_validation_batch(ds, 16))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"input": raw.numpy()})
    model = result.checkpoint.build_model()
    mean = torch.tensor(result.checkpoint.mean).view(1, 3, 1, 1)
    std = torch.tensor(result.checkpoint.std).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = model((raw - mean) / std).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_multilabel_vit_export_records_thresholds(tmp_path: Path) -> None:
    ds = load_dataset(write_multilabel_jsonl(tmp_path / "data", n=30), cache=False)
    config = tiny_config(model_name="test_vit", number_of_epochs=1)
    result = train(config, ds)
    path = export_onnx(result.checkpoint, tmp_path / "ml.onnx")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["task"] == "multilabel" and meta["threshold"] == "0.5"
    assert json.loads(meta["class_thresholds"]) == result.checkpoint.class_thresholds
    raw = _validation_batch(ds, 16)
    ckpt = result.checkpoint
    x = EvalTransform(16, 16, ckpt.mean, ckpt.std)(raw)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {"input": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(got, ckpt.build_model()(x).numpy(), atol=1e-4, rtol=0)
