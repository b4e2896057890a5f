"""Azure's target_column_name reaches the data readers; data input types are checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from automl_vision.config.job import DataInput
from automl_vision.data import load_dataset


def _write(root, key: str) -> None:
    (root / "img").mkdir(parents=True)
    lines = []
    for i in range(8):
        Image.fromarray(np.full((8, 8, 3), 40 * (i % 2), np.uint8)).save(root / "img" / f"{i}.png")
        lines.append(json.dumps({"image_url": f"img/{i}.png", key: ["odd", "even"][i % 2]}))
    (root / "labels.jsonl").write_text("\n".join(lines))
    (root / "MLTable").write_text("paths:\n  - file: ./labels.jsonl\n")
    rows = ["image_url,kind"] + [f"img/{i}.png,{['odd', 'even'][i % 2]}" for i in range(8)]
    (root / "labels.csv").write_text("\n".join(rows))


def test_label_column_for_jsonl_mltable_and_csv(tmp_path) -> None:
    _write(tmp_path, "kind")
    for source in (tmp_path / "labels.jsonl", tmp_path, tmp_path / "labels.csv"):
        ds = load_dataset(source, label_column="kind", cache=False, validation_size=0.25)
        assert ds.class_names == ("even", "odd")
    with pytest.raises(ValueError, match=r"labels\.jsonl, line 1: missing key 'label'"):
        load_dataset(tmp_path / "labels.jsonl", cache=False)


def test_data_input_type_is_checked(tmp_path) -> None:
    _write(tmp_path, "label")
    assert DataInput(path=str(tmp_path), type="mltable").checked_path("training_data") == str(
        tmp_path
    )
    assert DataInput(path=str(tmp_path / "labels.jsonl"), type="uri_file").checked_path("x")
    with pytest.raises(ValueError, match="training_data: type mltable, but .* has no MLTable file"):
        DataInput(path=str(tmp_path / "img"), type="mltable").checked_path("training_data")
    with pytest.raises(ValueError, match="type uri_folder, but .* is not a folder"):
        DataInput(path=str(tmp_path / "labels.jsonl"), type="uri_folder").checked_path(
            "training_data"
        )
    with pytest.raises(ValueError, match="type uri_file, but .* is not a file"):
        DataInput(path=str(tmp_path), type="uri_file").checked_path("validation_data")
    with pytest.raises(ValueError, match=r"training_data\.path .* does not exist"):
        DataInput(path=str(tmp_path / "nope")).checked_path("training_data")
