"""``digits_scattered``: the demo data where image resolution pays (small digits on a larger
canvas), written as an image folder; deterministic for a seed and reused once complete."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from automl_vision.data.demo import digits_scattered

_SMALL = {"n_images": 40, "size": 24, "grid": 3, "digit_size": 8}


def _pixels(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): np.asarray(Image.open(p)).tobytes()
        for p in sorted(root.glob("*/*.png"))
    }


def test_writes_an_image_folder_of_ten_classes_at_the_canvas_size(tmp_path) -> None:
    root = digits_scattered(tmp_path / "d", **_SMALL)
    files = sorted(root.glob("*/*.png"))
    assert len(files) == 40
    assert {p.parent.name for p in files} <= {str(d) for d in range(10)}
    assert len({p.parent.name for p in files}) >= 5  # 40 draws over 10 classes
    for p in files[:5]:
        with Image.open(p) as image:
            assert image.size == (24, 24) and image.mode == "L"
    assert (root / ".complete").is_file()


@pytest.mark.parametrize(("seed", "same"), [(0, True), (1, False)])
def test_a_seed_gives_the_same_images(tmp_path, seed, same) -> None:
    first = _pixels(digits_scattered(tmp_path / "a", seed=0, **_SMALL))
    other = _pixels(digits_scattered(tmp_path / "b", seed=seed, **_SMALL))
    assert (first == other) is same


def test_a_complete_copy_is_reused_as_is(tmp_path) -> None:
    root = digits_scattered(tmp_path / "d", **_SMALL)
    victim = sorted(root.glob("*/*.png"))[0]
    victim.unlink()
    assert digits_scattered(root, **_SMALL) == root
    assert not victim.exists()


def test_the_digits_sit_inside_their_cells_over_a_dark_background(tmp_path) -> None:
    root = digits_scattered(tmp_path / "d", noise=0.0, strokes=0, **_SMALL)
    image = np.asarray(Image.open(sorted(root.glob("*/*.png"))[0]), dtype=np.int64)
    cells = image.reshape(3, 8, 3, 8).transpose(0, 2, 1, 3).reshape(9, -1)
    assert (cells.max(axis=1) > 100).all()  # every cell shows a digit scan


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"digit_size": 9}, "digit_size"),  # larger than a cell (24 // 3)
        ({"grid": 0}, "grid"),
        ({"n_images": 0}, "n_images"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_options_raise_one_value_error_naming_the_field(tmp_path, options, field) -> None:
    with pytest.raises(ValueError, match=field):
        digits_scattered(tmp_path / "d", **{**_SMALL, **options})
    assert not (tmp_path / "d").exists()
