"""Small synthetic image datasets for the data and trainer tests (written to tmp folders)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


def coloured_images(n_per_class: int, size: int = 16, seed: int = 0) -> tuple[np.ndarray, list]:
    """Images whose class is their dominant colour (learnable in a few steps), with noise."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for name, rgb in COLOURS.items():
        for _ in range(n_per_class):
            noise = rng.integers(-30, 30, size=(size, size, 3))
            images.append(np.clip(np.array(rgb) + noise, 0, 255).astype(np.uint8))
            labels.append(name)
    return np.stack(images), labels


def write_folder(root: Path, n_per_class: int = 6, size: int = 16, seed: int = 0) -> Path:
    images, labels = coloured_images(n_per_class, size, seed)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        (root / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / label / f"{i:03d}.png")
    return root


def write_multilabel_jsonl(root: Path, n: int = 30, size: int = 16, seed: int = 0) -> Path:
    """Images split in left/right halves of colours; labels = the colours present."""
    rng = np.random.default_rng(seed)
    names = list(COLOURS)
    (root / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        left, right = rng.choice(len(names), size=2)
        image = np.zeros((size, size, 3), dtype=np.uint8)
        image[:, : size // 2] = COLOURS[names[left]]
        image[:, size // 2 :] = COLOURS[names[right]]
        Image.fromarray(image).save(root / "images" / f"{i:03d}.png")
        labels = sorted({names[left], names[right]})
        lines.append(json.dumps({"image_url": f"images/{i:03d}.png", "label": labels}))
    path = root / "train.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_dataset(n_per_class: int = 10, size: int = 16, *, validation_size: float = 0.2):
    """A coloured-squares dataset in memory (3 classes), split 80/20, not cached on disk."""
    from automl_vision.data import load_dataset

    images, labels = coloured_images(n_per_class, size)
    return load_dataset((images, labels), validation_size=validation_size, cache=False)


def tiny_config(**overrides):
    """A config that trains test_resnet on 16-pixel images in a second or two."""
    from automl_vision.training import TrainingConfig

    values = {
        "model_name": "test_resnet",
        "number_of_epochs": 2,
        "training_batch_size": 8,
        "validation_batch_size": 16,
        "training_crop_size": 16,
        "validation_crop_size": 16,
        "validation_resize_size": 16,
        "number_of_workers": 0,
        "random_seed": 0,
        "early_stopping": False,
        "warmup_cosine_lr_warmup_epochs": 0,
        "learning_rate": 0.01,
    }
    values.update(overrides)
    return TrainingConfig(**values)


def assert_same_run(a, b) -> None:
    """Two training runs ended bit for bit alike: history, best, losses, schedule, weights."""
    import torch

    assert a.history == b.history
    assert a.best_metrics == b.best_metrics and a.best_epoch == b.best_epoch
    assert a.train_losses == b.train_losses
    assert a.lr_history == b.lr_history
    assert a.optimizer_steps == b.optimizer_steps
    for key, value in a.checkpoint.state_dict.items():
        assert torch.equal(value, b.checkpoint.state_dict[key]), key
