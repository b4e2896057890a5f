"""Data defects found by trying the release as a new user (each test fails without its fix)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_training import write_folder
from PIL import Image

from automl_vision.data import load_dataset
from automl_vision.data.cache import _to_square
from automl_vision.data.sources import read_source


def _png(path: Path, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


# -- 6: empty labels -----------------------------------------------------------------------
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


# -- 7: the CSV label column ---------------------------------------------------------------
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


# -- 8: 16- and 32-bit images ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((8, 8), 65535, np.uint16), 255),
        (np.full((8, 8), 32896, np.uint16), 128),  # 128 * 257
        (np.full((8, 8), 200, np.int32), 200),  # 'I' with 8-bit values
        (np.full((8, 8), 32896, np.int32), 128),  # 'I' with 16-bit values
        (np.full((8, 8), 0.5, np.float32), 128),  # 'F' in 0..1
    ],
)
def test_high_bit_depth_images_are_scaled_not_clipped(array: np.ndarray, expected: int) -> None:
    out = _to_square(Image.fromarray(array), 4)
    assert out.shape == (4, 4, 3) and int(out.max()) == expected == int(out.min())


def test_sixteen_bit_png_file_is_scaled(tmp_path: Path) -> None:
    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as image:
        assert image.mode.startswith("I")  # PIL keeps 16 bits
        out = _to_square(image, 8)
    assert int(out.max()) == round(63000 / 257)  # not 255 (clipped) for most pixels
    assert (out[..., 0] == np.rint(ramp / 257)).mean() > 0.9


# -- 10: classes that cannot be learned ----------------------------------------------------
def test_class_whose_images_are_all_unreadable_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=4, size=8)
    for path in (root / "green").iterdir():
        path.write_bytes(b"not an image")
    ds = load_dataset(root, cache=False, validation_size=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"class 'green' has no readable training image"):
            ds.check_images()
        with pytest.raises(ValueError, match=r"class 'green'.*green"):
            ds.decode(8)


def test_some_unreadable_images_are_a_warning(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=4, size=8)
    first = sorted((root / "green").iterdir())[0]
    first.write_bytes(b"not an image")
    ds = load_dataset(root, cache=False, validation_size=0.25)
    with pytest.warns(UserWarning, match="could not be read"):
        assert next(iter(ds.check_images().values())).startswith("UnidentifiedImageError")


def test_label_only_in_validation_is_refused(tmp_path: Path) -> None:
    train = write_folder(tmp_path / "train", n_per_class=2, size=8)
    val = write_folder(tmp_path / "val", n_per_class=1, size=8)
    _png(val / "purple" / "x.png")
    with pytest.raises(ValueError, match=r"class 'purple' appears only in the validation data"):
        load_dataset(train, validation=val, cache=False)
