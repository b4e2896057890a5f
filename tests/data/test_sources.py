"""Data sources: image folder, JSONL (Azure shape), MLTable, CSV, arrays; task; errors; split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers_training import coloured_images, write_folder, write_multilabel_jsonl
from PIL import Image

from automl_vision.data import Task, load_dataset, read_source, stratified_split
from automl_vision.data.sources import read_arrays


def _png(path: Path, colour=(10, 20, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)
    return path


def test_image_folder_labels_are_the_folder_names(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=3)
    (root / "red" / "notes.txt").write_text("not an image")
    images = read_source(root)
    assert len(images) == 9 and not images.multilabel
    assert sorted({label for (label,) in images.labels}) == ["blue", "green", "red"]
    assert all(p.suffix == ".png" for p in images.images)


def test_jsonl_multiclass_and_multilabel(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    _png(tmp_path / "sub" / "b.png")
    path = tmp_path / "train.jsonl"
    path.write_text(
        json.dumps({"image_url": "a.png", "label": "cat"})
        + "\n\n"
        + json.dumps({"image_url": "sub/b.png", "label": "dog"})
        + "\n"
    )
    images = read_source(path)
    assert images.labels == (("cat",), ("dog",)) and not images.multilabel
    path.write_text(
        json.dumps({"image_url": "a.png", "label": ["cat", "dog"]})
        + "\n"
        + json.dumps({"image_url": "sub/b.png", "label": []})
        + "\n"
    )
    images = read_source(path)
    assert images.multilabel and images.labels == (("cat", "dog"), ())


def test_jsonl_azureml_url_resolves_to_a_local_trailing_path(tmp_path: Path) -> None:
    _png(tmp_path / "fridge" / "can" / "1.jpg")
    path = tmp_path / "train.jsonl"
    url = "azureml://subscriptions/x/resourcegroups/y/workspaces/z/datastores/d/paths/fridge/can/1.jpg"
    path.write_text(json.dumps({"image_url": url, "label": "can"}) + "\n")
    (image,) = read_source(path).images
    assert image == tmp_path / "fridge" / "can" / "1.jpg"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            {"image_url": "missing.png", "label": "cat"},
            "line 2: image 'missing.png' does not exist",
        ),
        ({"image_url": "a.png"}, "line 2: missing key 'label'"),
        ({"label": "cat"}, "line 2: missing key 'image_url'"),
        ("{not json", "line 2: not valid JSON"),
        ({"image_url": "a.png", "label": {"x": 1}}, "line 2: a label must be"),
    ],
)
def test_jsonl_errors_name_the_file_and_line(tmp_path: Path, line, message: str) -> None:
    _png(tmp_path / "a.png")
    path = tmp_path / "train.jsonl"
    second = line if isinstance(line, str) else json.dumps(line)
    path.write_text(json.dumps({"image_url": "a.png", "label": "cat"}) + "\n" + second + "\n")
    with pytest.raises(ValueError, match="train.jsonl") as info:
        read_source(path)
    assert message in str(info.value)


def test_mltable_folder_reads_the_jsonl_under_paths(tmp_path: Path) -> None:
    jsonl = write_multilabel_jsonl(tmp_path / "data", n=5)
    (tmp_path / "data" / "MLTable").write_text(
        "paths:\n  - file: ./train.jsonl\ntransformations:\n  - read_json_lines:\n"
        "      encoding: utf8\n"
    )
    from_table = read_source(tmp_path / "data")
    assert from_table.labels == read_source(jsonl).labels and from_table.multilabel
    (tmp_path / "data" / "MLTable").write_text("type: mltable\n")
    with pytest.raises(ValueError, match="MLTable: expected a 'paths:' list"):
        read_source(tmp_path / "data")


def test_csv_multiclass_multilabel_and_header(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    path = tmp_path / "labels.csv"
    path.write_text("path,label\na.png,cat\nb.png,dog\n")
    images = read_source(path)
    assert images.labels == (("cat",), ("dog",)) and not images.multilabel
    path.write_text("a.png,cat dog\nb.png,dog\n")
    images = read_source(path)
    assert images.labels == (("cat", "dog"), ("dog",)) and images.multilabel


def test_csv_missing_label_column_names_the_line(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    path = tmp_path / "labels.csv"
    path.write_text("a.png,cat\na.png\n")
    with pytest.raises(ValueError, match=r"labels.csv, line 2: missing the label column"):
        read_source(path)


def test_arrays_multiclass_strings_indices_and_multihot() -> None:
    images, labels = coloured_images(2, size=8)
    assert read_source((images, labels)).labels[0] == ("red",)
    by_index = read_arrays(images, [0, 1, 2, 0, 1, 2], class_names=["a", "b", "c"])
    assert [label for (label,) in by_index.labels] == ["a", "b", "c", "a", "b", "c"]
    multihot = np.array([[1, 0, 1], [0, 1, 0]] * 3)
    ml = read_arrays(images, multihot, class_names=["a", "b", "c"])
    assert ml.multilabel and ml.labels[0] == ("a", "c")
    # label lists of different lengths (numpy cannot make a rectangular array of them)
    ragged = read_arrays(images, [["a", "b"], ["c"], [], ("a",), ["b", "c"], ["c", "a"]])
    assert ragged.multilabel and ragged.labels[:3] == (("a", "b"), ("c",), ())
    with pytest.raises(ValueError, match="uint8"):
        read_arrays(images.astype(np.float32), labels)
    with pytest.raises(ValueError, match="needs its labels"):
        read_source(images)


def test_task_is_inferred_and_can_be_forced(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "folder", n_per_class=5)
    assert load_dataset(folder, cache=False).task is Task.MULTICLASS
    forced = load_dataset(folder, task="multilabel", cache=False)
    assert forced.task is Task.MULTILABEL and forced.targets(forced.train_indices).shape[1] == 3
    jsonl = write_multilabel_jsonl(tmp_path / "ml", n=20)
    assert load_dataset(jsonl, cache=False).task is Task.MULTILABEL
    with pytest.raises(ValueError, match="task is multiclass but .* has 2 labels"):
        load_dataset(jsonl, task="multiclass", cache=False)
    with pytest.raises(ValueError, match="task='binary' is not allowed"):
        load_dataset(folder, task="binary", cache=False)


def test_stratified_split_keeps_class_shares_and_is_seeded() -> None:
    labels = [("a",)] * 50 + [("b",)] * 30 + [("c",)] * 20
    train, val = stratified_split(labels, 0.2, seed=0)
    assert len(val) == 20 and len(train) == 80
    assert not set(train) & set(val)
    shares = {c: sum(labels[i] == (c,) for i in val) for c in "abc"}
    assert shares == {"a": 10, "b": 6, "c": 4}
    again, _ = stratified_split(labels, 0.2, seed=0)
    other, _ = stratified_split(labels, 0.2, seed=1)
    assert np.array_equal(train, again) and not np.array_equal(train, other)


def test_multilabel_split_pools_rare_label_sets() -> None:
    rng = np.random.default_rng(0)
    labels = [tuple(sorted(set(rng.choice(list("abcdefgh"), size=3)))) for _ in range(200)]
    train, val = stratified_split(labels, 0.25, seed=0)
    assert 40 <= len(val) <= 60 and len(train) + len(val) == 200


def test_given_validation_source_is_used_as_is(tmp_path: Path) -> None:
    train_root = write_folder(tmp_path / "train", n_per_class=4)
    val_root = write_folder(tmp_path / "val", n_per_class=2, seed=1)
    ds = load_dataset(train_root, validation=val_root, cache=False)
    assert len(ds.train_indices) == 12 and len(ds.validation_indices) == 6
    assert ds.class_names == ("blue", "green", "red")


def test_class_counts_come_from_the_training_part(tmp_path: Path) -> None:
    images, labels = coloured_images(10, size=8)
    ds = load_dataset((images, labels), cache=False)
    assert ds.class_counts().tolist() == [8, 8, 8]  # blue, green, red: 10 each, 2 to validation
    ml = load_dataset(write_multilabel_jsonl(tmp_path, n=30), cache=False)
    targets = ml.targets(ml.train_indices)
    assert ml.class_counts().tolist() == targets.sum(axis=0).astype(int).tolist()


def test_fingerprint_is_stable_and_content_based(tmp_path: Path) -> None:
    a = write_folder(tmp_path / "a", n_per_class=3)
    b = write_folder(tmp_path / "b", n_per_class=3)
    fa, fb = load_dataset(a, cache=False), load_dataset(b, cache=False)
    assert fa.fingerprint == fb.fingerprint  # same content elsewhere
    assert fa.fingerprint != load_dataset(a, cache=False, seed=1).fingerprint  # another split
    Image.new("RGB", (16, 16), (1, 2, 3)).save(b / "red" / "000.png")
    assert fa.fingerprint != load_dataset(b, cache=False).fingerprint
