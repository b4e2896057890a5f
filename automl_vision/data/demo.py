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

__all__ = ["digits", "digits_composed", "digits_mltable", "digits_multilabel"]

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
