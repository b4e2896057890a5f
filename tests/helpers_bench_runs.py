"""Tiny benchmarks for the benchmark tests: multilabel colour images with a given test set, and
a method of two 1-epoch trials (a grid over two learning rates)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers_sweep import tiny_space
from helpers_training import write_multilabel_jsonl

from automl_vision import choice

#: one method: a grid of two 1-epoch trials of test_resnet on 16 px images
METHOD = {
    "search_space": tiny_space(number_of_epochs=1, learning_rate=choice(0.01, 0.05)),
    "sampling": "grid",
    "policy": "none",
    "threads_per_trial": 1,
    "training_options": {"pretrained": False},
}
#: the method as a benchmark file writes it
METHOD_YAML = {
    **METHOD,
    "search_space": {**METHOD["search_space"], "learning_rate": "choice(0.01, 0.05)"},
}


def write_data(root: Path) -> dict[str, Path]:
    """60 training images, 20 test images and a poisoned copy of the test labels (every test
    image labelled "red" only): {"data", "test_data", "poisoned"}."""
    data = write_multilabel_jsonl(root / "train", n=60, seed=1)
    test = write_multilabel_jsonl(root / "test", n=20, seed=2)
    poisoned = root / "test" / "poisoned.jsonl"
    lines = [json.loads(line) for line in test.read_text().splitlines()]
    poisoned.write_text("".join(json.dumps({**x, "label": ["red"]}) + "\n" for x in lines))
    return {"data": data, "test_data": test, "poisoned": poisoned}


def keys(paths: dict[str, Path], output_dir: Path, test: str = "test_data", **more) -> dict:
    """The keywords of ``benchmark(...)`` for one dataset and one method."""
    return {
        "datasets": {"colours": {"data": paths["data"], "test_data": paths[test]}},
        "methods": {"grid": METHOD},
        "seeds": 2,
        "top_k": 2,
        "retrain_on": "train",
        "bootstrap": 200,
        "output_dir": output_dir,
        "progress": False,
        **more,
    }
