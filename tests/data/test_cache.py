"""Decoded-image cache, corrupt images, demo data."""

from __future__ import annotations

import json
import multiprocessing
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_training import coloured_images, write_folder
from PIL import Image

from automl_vision.cli import main
from automl_vision.data import CorruptImageWarning, decode_images, load_dataset
from automl_vision.data.cache import fingerprint_images
from automl_vision.data.demo import digits, digits_composed, digits_multilabel


def test_decode_crops_the_centre_square_and_resizes(tmp_path: Path) -> None:
    image = np.zeros((20, 40, 3), dtype=np.uint8)
    image[:, 10:30] = 255  # the centre 20x20 square is white, the sides black
    path = tmp_path / "wide.png"
    Image.fromarray(image).save(path)
    decoded = decode_images([path], 10, fingerprint="x", cache_dir=None)
    assert decoded.array.shape == (1, 10, 10, 3)
    # edges blend a little with the black sides (the resize filter reaches past the box)
    assert decoded.array[0, :, 1:-1].min() == 255 and not decoded.failed
    assert decoded.array[0, :, [0, -1]].min() > 200


def test_cache_entry_is_written_once_and_memory_mapped(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=2)
    ds = load_dataset(root, cache_dir=tmp_path / "cache")
    train, _ = ds.decode(12)
    entry = tmp_path / "cache" / f"{ds.content_fingerprint}_12.npy"
    assert entry.is_file() and isinstance(train.images, np.memmap)
    before = entry.stat().st_mtime_ns
    train2, _ = load_dataset(root, cache_dir=tmp_path / "cache").decode(12)
    assert entry.stat().st_mtime_ns == before
    assert np.array_equal(np.asarray(train.images), np.asarray(train2.images))
    in_memory, _ = load_dataset(root, cache=False).decode(12)
    assert np.array_equal(np.asarray(in_memory.images), np.asarray(train.images))
    assert not [p for p in (tmp_path / "cache").iterdir() if ".tmp" in p.name]


def _decode_in_process(args: tuple[str, str, str]) -> str:
    root, cache, fingerprint = args
    paths = sorted(Path(root).rglob("*.png"))
    decoded = decode_images(paths, 12, fingerprint=fingerprint, cache_dir=Path(cache))
    return str(decoded.path)


def test_concurrent_processes_share_one_complete_entry(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=4)
    paths = sorted(root.rglob("*.png"))
    fingerprint = fingerprint_images(paths)
    args = (str(root), str(tmp_path / "cache"), fingerprint)
    with multiprocessing.get_context("fork").Pool(3) as pool:
        results = pool.map(_decode_in_process, [args] * 3)
    assert len(set(results)) == 1
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert files == [f"{fingerprint}_12.{ext}" for ext in ("json", "lock", "npy")]
    expected = decode_images(paths, 12, fingerprint=fingerprint, cache_dir=None).array
    assert np.array_equal(np.load(results[0]), expected)


def test_corrupt_images_are_listed_in_one_warning_and_skipped(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=5)
    (root / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    truncated = next((root / "green").iterdir()).read_bytes()  # a real file cut short
    (root / "green" / "cut.png").write_bytes(truncated[: len(truncated) // 2])
    ds = load_dataset(root, cache_dir=tmp_path / "cache", validation_size=0.3)
    with pytest.warns(CorruptImageWarning) as record:
        train, val = ds.decode(12)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("2 of 17 images could not be read")
    assert "broken.png" in message and "cut.png" in message
    assert len(train) + len(val) == 15
    with pytest.warns(CorruptImageWarning):  # again from the cache entry
        load_dataset(root, cache_dir=tmp_path / "cache", validation_size=0.3).decode(12)


def test_no_readable_image_is_an_error(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(3):
            (tmp_path / name / f"{i}.jpg").write_bytes(b"garbage")
    ds = load_dataset(tmp_path, cache=False)
    with pytest.raises(ValueError, match="none of the 6 images could be read"):
        ds.decode(8)


def test_in_memory_arrays_decode_like_files(tmp_path: Path) -> None:
    images, labels = coloured_images(3, size=16)
    ds = load_dataset((images, labels), cache_dir=tmp_path / "cache")
    train, _ = ds.decode(16)
    rows = np.asarray(train.images)[train.indices]
    assert np.array_equal(rows, images[train.indices])
    gray = load_dataset((images[..., 0], labels), cache=False).decode(8)[0]
    assert gray.images.shape[1:] == (8, 8, 3)


def test_digits_demo_is_an_image_folder_of_real_scans(tmp_path: Path) -> None:
    root = digits(tmp_path / "digits", size=16)
    ds = load_dataset(root, cache=False)
    assert ds.class_names == tuple(str(d) for d in range(10))
    assert len(ds.train_indices) + len(ds.validation_indices) == 1797
    with Image.open(next((root / "3").iterdir())) as image:
        assert image.size == (16, 16)
    assert digits(root) == root  # reused


def test_digits_multilabel_mosaics_carry_the_digits_shown(tmp_path: Path) -> None:
    root = digits_multilabel(tmp_path / "ml", n_images=40, size=32)
    ds = load_dataset(root, cache=False)
    assert ds.task.value == "multilabel" and ds.num_classes == 10
    sizes = [len(label) for label in ds.images.labels]
    assert len(sizes) == 40 and min(sizes) >= 1 and max(sizes) <= 4


def test_digits_composed_shows_two_or_three_digits_with_skewed_frequencies(
    tmp_path: Path,
) -> None:
    root = digits_composed(tmp_path / "dc", n_images=300, size=16)
    ds = load_dataset(root / "labels.jsonl", cache=False)
    assert ds.task.value == "multilabel" and ds.num_classes == 10
    labels = ds.images.labels
    assert {len(label) for label in labels} == {2, 3}
    counts = sorted(sum(name in label for label in labels) for name in ds.class_names)
    assert counts[-1] > 4 * counts[0]  # rare labels exist
    coco = json.loads((root / "annotations.json").read_text())
    shown: dict[int, set[str]] = {}
    names = {c["id"]: c["name"] for c in coco["categories"]}
    for a in coco["annotations"]:
        shown.setdefault(a["image_id"], set()).add(names[a["category_id"]])
    by_file = {i["file_name"]: shown[i["id"]] for i in coco["images"]}
    for line in (root / "labels.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert set(row["label"]) == by_file[row["image_url"]]  # both files say the same
    assert digits_composed(root) == root  # reused


def test_cache_warns_nothing_for_clean_data(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "data", n_per_class=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset(root, cache_dir=tmp_path / "c").decode(8)


# -- classes that cannot be learned --------------------------------------------------------
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


# -- cache info, clear and the size limit --------------------------------------------------
def test_cache_info_clear_and_size_limit(tmp_path, monkeypatch, capsys) -> None:
    from automl_vision.data.cache import cache_info, decode_images

    cache = tmp_path / "cache"
    images = np.zeros((4, 8, 8, 3), np.uint8)
    monkeypatch.setenv("AUTOML_VISION_CACHE_LIMIT_MB", str(2.5 * 4 * 32 * 32 * 3 / 2**20))
    for i, size in enumerate((32, 32, 32)):
        decode_images(images, size, fingerprint=f"f{i}", cache_dir=cache)
        os.utime(cache / f"f{i}_{size}.npy", (1000 + i, 1000 + i))
        if i == 1:  # f0 used again: f1 is now the least recently used
            decode_images(images, 32, fingerprint="f0", cache_dir=cache)
    names = sorted(p.name for p in cache.glob("*.npy"))
    assert names == ["f0_32.npy", "f2_32.npy"]
    assert cache_info(cache).entries == 2
    assert main(["cache", "info", "--dir", str(cache)]) == 0
    assert "2 entries" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(cache)]) == 0
    assert "removed 2 entries" in capsys.readouterr().out
    assert cache_info(cache).entries == 0 and not list(cache.glob("*.json"))
    monkeypatch.setenv("AUTOML_VISION_CACHE_LIMIT_MB", "lots")
    assert main(["cache", "info", "--dir", str(cache)]) == 2
    assert "AUTOML_VISION_CACHE_LIMIT_MB" in capsys.readouterr().err
