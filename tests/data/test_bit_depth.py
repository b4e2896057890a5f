"""16- and 32-bit images are scaled to 8 bits, not clipped: as decoded and through the dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_vision.data.cache import _to_square


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


def test_sixteen_bit_png_through_the_dataset(tmp_path) -> None:
    from automl_vision.data import load_dataset

    for cls, level in (("dark", 8000), ("bright", 60000)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(np.full((8, 8), level, np.uint16)).save(tmp_path / cls / f"{i}.png")
    train, _ = load_dataset(tmp_path, cache=False, validation_size=0.34).decode(8)
    pixels = {int(train.images[i].max()) for i in train.indices}
    assert pixels == {round(8000 / 257), round(60000 / 257)}
