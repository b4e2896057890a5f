"""Labels as the readers take them: an empty label names its file and line, multilabel rows may
have none, the CSV label column is found or named, a class only in the validation data is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers_training import write_folder
from PIL import Image

from automl_vision.data import load_dataset
from automl_vision.data.sources import read_source


def _png(path: Path, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


# -- empty labels --------------------------------------------------------------------------
def test_empty_jsonl_label_names_the_line(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    path = tmp_path / "x.jsonl"
    lines = [{"image_url": "a.png", "label": "cat"}, {"image_url": "a.png", "label": ""}]
    path.write_text("\n".join(json.dumps(r) for r in lines))
    with pytest.raises(ValueError, match=r"x\.jsonl, line 2: the label is empty"):
        load_dataset(path, cache=False)


@pytest.mark.parametrize("text", ["path,label\na.png,cat\na.png,\n", "a.png,cat\na.png,  \n"])
def test_blank_csv_label_cell_names_the_line(tmp_path: Path, text: str) -> None:
    _png(tmp_path / "a.png")
    (tmp_path / "x.csv").write_text(text)
    with pytest.raises(ValueError, match=r"x\.csv, line 3|x\.csv, line 2"):
        load_dataset(tmp_path / "x.csv", cache=False)


def test_multilabel_jsonl_keeps_empty_lists(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    path = tmp_path / "x.jsonl"
    lines = [{"image_url": "a.png", "label": ["cat"]}, {"image_url": "a.png", "label": []}]
    path.write_text("\n".join(json.dumps(r) for r in lines))
    assert read_source(path).labels == (("cat",), ())


# -- the CSV label column ------------------------------------------------------------------
def test_csv_without_a_label_column_lists_the_columns(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    (tmp_path / "x.csv").write_text("path,width,species\na.png,8,cat\n")
    with pytest.raises(ValueError, match=r"no label column .*'path', 'width', 'species'"):
        read_source(tmp_path / "x.csv")
    assert read_source(tmp_path / "x.csv", label_column="species").labels == (("cat",),)
    with pytest.raises(ValueError, match=r"name it 'kind'"):
        read_source(tmp_path / "x.csv", label_column="kind")


@pytest.mark.parametrize("name", ["label", "Labels", "class", "target"])
def test_csv_known_label_column_names(tmp_path: Path, name: str) -> None:
    _png(tmp_path / "a.png")
    (tmp_path / "x.csv").write_text(f"image_url,width,{name}\na.png,8,cat\n")
    assert read_source(tmp_path / "x.csv").labels == (("cat",),)


# -- a class the training data lacks -------------------------------------------------------
def test_label_only_in_validation_is_refused(tmp_path: Path) -> None:
    train = write_folder(tmp_path / "train", n_per_class=2, size=8)
    val = write_folder(tmp_path / "val", n_per_class=1, size=8)
    _png(val / "purple" / "x.png")
    with pytest.raises(ValueError, match=r"class 'purple' appears only in the validation data"):
        load_dataset(train, validation=val, cache=False)
