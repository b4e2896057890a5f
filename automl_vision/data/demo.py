"""Demo datasets made offline from real images: scikit-learn's bundled handwritten digits.

- ``digits(root)``: the 1,797 8×8 digit scans, upscaled to ``size`` pixels, written as PNGs in
  an image folder ``root/<digit>/<n>.png`` (multiclass, 10 classes).
- ``digits_multilabel(root)``: ``n_images`` mosaics of 2×2 digit scans (drawn with a seed), each
  labelled with the digits it shows, written as ``root/images/<n>.png`` with Azure's JSONL
  (``root/labels.jsonl``) and an ``MLTable`` file, so ``load_dataset(root)`` reads it.

- ``digits_composed(root)``: the multilabel benchmark data: ``n_images`` images, each two or three
  digit scans placed in random cells of a 2×2 grid (the other cells blank), labelled with the
  digits shown. The digits are drawn without replacement with skewed frequencies (digit ``d``
  with weight ``1 / (rank + 1) ** skew`` for a seeded ranking), so some labels are rare, as in
  real multilabel benchmarks. Written as ``root/images/<n>.png`` with a COCO-style annotation file
  (``root/annotations.json``: one annotation per digit scan) and the same labels as Azure's JSONL
  (``root/labels.jsonl``).

- ``digits_scattered(root)``: a multiclass set where image resolution pays: ``n_images``
  canvases of ``size`` pixels, each showing ONE digit scan drawn small (``digit_size`` pixels, at
  a random position) over faint noise, with a few short distractor strokes; the class is the
  digit. Written as an image folder ``root/<digit>/<n>.png`` like ``digits``. Shrunk to a third
  of ``size`` the digit is a few pixels wide and hard to read; at full size it is readable, so a
  sweep over image sizes (``automl-vision demo --latency``) finds accuracy rising with latency.

- ``digits_mltable(root)``: the digits in the shape of Azure's fridge-objects example: two
  MLTable folders, ``training-mltable-folder`` and ``validation-mltable-folder`` (a seeded 80/20
  split), each with its JSONL and its images (``images/``: an MLTable's images stay inside its
  folder, ``data/root.py``).

All return ``root``; an existing, complete copy is reused as is. Needs scikit-learn.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = [
    "digits",
    "digits_composed",
    "digits_mltable",
    "digits_multilabel",
    "digits_scattered",
]

_DONE = ".complete"


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits  # lazy: scikit-learn is the demo's optional extra
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the digits demo data needs scikit-learn: pip install 'automl-vision[demo]'"
        ) from err
    bunch = load_digits()
    scans = np.clip(bunch.images * (255.0 / 16.0), 0, 255).round().astype(np.uint8)
    return scans, bunch.target.astype(np.int64)


def _upscale(scan: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(scan).resize((size, size), Image.Resampling.BICUBIC)


def digits(root: str | Path, *, size: int = 32) -> Path:
    """Write the digits as an image folder under ``root``; return ``root``."""
    root = Path(root).expanduser()
    if (root / _DONE).is_file():
        return root
    scans, targets = _load_digits()
    for n, (scan, target) in enumerate(zip(scans, targets, strict=True)):
        folder = root / str(target)
        folder.mkdir(parents=True, exist_ok=True)
        _upscale(scan, size).save(folder / f"{n:04d}.png")
    (root / _DONE).write_text(f"{len(scans)} images\n")
    return root


def digits_scattered(
    root: str | Path,
    *,
    n_images: int = 1500,
    size: int = 48,
    grid: int = 3,
    digit_size: int = 12,
    noise: float = 12.0,
    strokes: int = 2,
    seed: int = 0,
) -> Path:
    """Write ``n_images`` canvases of ``size`` pixels showing one digit class (see the module
    docstring) as an image folder under ``root``; return it.

    The canvas is cut into ``grid × grid`` cells; each cell shows a different scan of the
    image's digit, ``digit_size`` pixels wide, at a random place inside the cell (so a random
    crop of the image still shows the digit). ``noise`` is the standard deviation (grey levels)
    of the background noise and ``strokes`` the number of distractor strokes (short lines, dimmer
    than the digits). Deterministic for a ``seed``.
    """
    if grid < 1 or not 0 < digit_size <= size // grid:
        raise ValueError(
            f"grid must be >= 1 and digit_size in 1..size // grid ({size} // {grid}); "
            f"got grid={grid}, digit_size={digit_size}"
        )
    if n_images < 1 or noise < 0 or strokes < 0:
        raise ValueError(
            f"n_images must be >= 1 and noise, strokes >= 0; got n_images={n_images}, "
            f"noise={noise}, strokes={strokes}"
        )
    root = Path(root).expanduser()
    if (root / _DONE).is_file():
        return root
    scans, targets = _load_digits()
    rng = np.random.default_rng(seed)
    by_digit = [np.flatnonzero(targets == d) for d in range(10)]
    cell = size // grid
    for d in range(10):
        (root / str(d)).mkdir(parents=True, exist_ok=True)
    for n, digit in enumerate(rng.integers(0, 10, size=n_images)):
        canvas = rng.normal(0.0, noise, size=(size, size)).clip(0, None)
        for _ in range(strokes):
            _stroke(canvas, rng, length=max(2, digit_size // 2))
        picks = rng.choice(by_digit[int(digit)], size=grid * grid, replace=False)
        for k, i in enumerate(picks):
            glyph = np.asarray(_upscale(scans[i], digit_size), dtype=np.float64)
            top, left = cell * np.array(divmod(k, grid)) + rng.integers(
                0, cell - digit_size + 1, size=2
            )
            window = canvas[top : top + digit_size, left : left + digit_size]
            np.maximum(window, glyph, out=window)
        image = Image.fromarray(canvas.clip(0, 255).round().astype(np.uint8))
        image.save(root / str(int(digit)) / f"{n:04d}.png")
    (root / _DONE).write_text(f"{n_images} images\n")
    return root


def _stroke(canvas: np.ndarray, rng: np.random.Generator, *, length: int) -> None:
    """Draw a short straight line of ``length`` pixels, in a random direction and at a random
    place, at a grey level between 90 and 160, into ``canvas`` (in place)."""
    size = canvas.shape[0]
    angle = rng.uniform(0.0, np.pi)
    y0, x0 = rng.uniform(0, size - 1, size=2)
    level = rng.uniform(90.0, 160.0)
    for t in np.linspace(0.0, 1.0, 2 * length):
        y = round(y0 + t * length * np.sin(angle))
        x = round(x0 + t * length * np.cos(angle))
        if 0 <= y < size and 0 <= x < size:
            canvas[y, x] = max(canvas[y, x], level)


def digits_multilabel(
    root: str | Path, *, n_images: int = 1000, size: int = 32, seed: int = 0
) -> Path:
    """Write ``n_images`` 2×2 digit mosaics with their label sets under ``root``; return it."""
    root = Path(root).expanduser()
    if (root / _DONE).is_file():
        return root
    scans, targets = _load_digits()
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(n_images):
        picks = rng.choice(len(scans), size=4, replace=False)
        tiles = [scans[i] for i in picks]
        mosaic = np.block([[tiles[0], tiles[1]], [tiles[2], tiles[3]]])
        name = f"images/{n:04d}.png"
        _upscale(mosaic, size).save(root / name)
        labels = sorted({str(int(targets[i])) for i in picks}, key=int)
        lines.append(json.dumps({"image_url": name, "label": labels}))
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n")
    (root / "MLTable").write_text(
        "paths:\n  - file: ./labels.jsonl\ntransformations:\n  - read_json_lines:\n"
        "      encoding: utf8\n      include_path_column: false\n"
    )
    (root / _DONE).write_text(f"{n_images} images\n")
    return root


def digits_composed(
    root: str | Path,
    *,
    n_images: int = 1500,
    size: int = 32,
    skew: float = 1.2,
    seed: int = 0,
) -> Path:
    """Write ``n_images`` images of two or three digit scans each (see the module docstring),
    with ``annotations.json`` (COCO-style) and ``labels.jsonl``, under ``root``; return it."""
    root = Path(root).expanduser()
    if (root / _DONE).is_file():
        return root
    scans, targets = _load_digits()
    rng = np.random.default_rng(seed)
    ranking = rng.permutation(10)
    weights = 1.0 / (np.argsort(ranking) + 1.0) ** skew  # weight of digit d by its rank
    by_digit = [np.flatnonzero(targets == d) for d in range(10)]
    blank = np.zeros_like(scans[0])
    (root / "images").mkdir(parents=True, exist_ok=True)
    images, annotations, lines = [], [], []
    for n in range(n_images):
        k = int(rng.integers(2, 4))
        shown = rng.choice(10, size=k, replace=False, p=weights / weights.sum())
        cells = rng.choice(4, size=k, replace=False)
        tiles = [blank] * 4
        for digit, cell in zip(shown, cells, strict=True):
            tiles[int(cell)] = scans[int(rng.choice(by_digit[int(digit)]))]
            annotations.append(
                {"id": len(annotations) + 1, "image_id": n + 1, "category_id": int(digit) + 1}
            )
        name = f"images/{n:04d}.png"
        _upscale(np.block([[tiles[0], tiles[1]], [tiles[2], tiles[3]]]), size).save(root / name)
        images.append({"id": n + 1, "file_name": name, "width": size, "height": size})
        lines.append(json.dumps({"image_url": name, "label": [str(d) for d in sorted(shown)]}))
    categories = [{"id": d + 1, "name": str(d)} for d in range(10)]
    coco = {"images": images, "annotations": annotations, "categories": categories}
    (root / "annotations.json").write_text(json.dumps(coco))
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n")
    (root / _DONE).write_text(f"{n_images} images\n")
    return root


_MLTABLE = (
    "paths:\n  - file: ./{name}\ntransformations:\n  - read_json_lines:\n"
    "      encoding: utf8\n      include_path_column: false\n"
)


def digits_mltable(
    root: str | Path, *, size: int = 32, validation_size: float = 0.2, seed: int = 0
) -> Path:
    """Write the digits as training and validation MLTable folders under ``root``."""
    root = Path(root).expanduser()
    parts = ("validation-mltable-folder", "training-mltable-folder")
    # a copy written before the images moved into the MLTable folders is written again
    if (root / _DONE).is_file() and all((root / p / "images").is_dir() for p in parts):
        return root
    scans, targets = _load_digits()
    order = np.random.default_rng(seed).permutation(len(scans))
    n_validation = round(len(scans) * validation_size)
    for folder, indices in zip(parts, (order[:n_validation], order[n_validation:]), strict=True):
        (root / folder / "images").mkdir(parents=True, exist_ok=True)
        lines = []
        for i in indices:
            name = f"images/{int(i):04d}.png"
            _upscale(scans[i], size).save(root / folder / name)
            lines.append(json.dumps({"image_url": name, "label": str(int(targets[i]))}))
        jsonl = f"{folder.split('-')[0]}_annotations.jsonl"
        (root / folder / jsonl).write_text("\n".join(lines) + "\n")
        (root / folder / "MLTable").write_text(_MLTABLE.format(name=jsonl))
    (root / _DONE).write_text(f"{len(scans)} images\n")
    return root
