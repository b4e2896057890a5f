"""Read labelled images from where they live: an image folder, a JSONL file in Azure's shape, an
Azure MLTable folder, a CSV file, a COCO-style annotation file, a Pascal VOC folder, or in-memory
arrays.

Every reader returns ``LabelledImages`` (``labelled.py``): the images (file paths, or one
``N×H×W×C`` uint8 array), each image's labels as a tuple of strings, and whether the source's
syntax says multilabel (JSONL label lists, CSV space-separated labels, COCO and VOC, multi-hot
arrays). Nothing is decoded here; a missing image file, a missing label, or an unreadable line
is one ``ValueError`` naming the file and the line (or entry).

Every image a description names stays inside its data root, the folder holding it (``root.py``):
a path, URL or symbolic link that leads outside refuses the whole dataset with one
``OutsideDataRootError`` before anything outside is looked at, unless ``allow_outside_root=True``.

Formats
-------
- image folder: ``root/<class>/**/*.jpg|jpeg|png|bmp|gif|webp|tif|tiff`` (hidden files skipped;
  symbolic links to image files and class folders followed, those in sub-folders not);
  always multiclass.
- JSONL: one object per line, ``{"image_url": "path", "label": "cat"}``; multilabel as
  ``"label": ["cat", "dog"]``. Relative paths are relative to the JSONL file's folder. A URL such
  as ``azureml://.../paths/data/cat/1.jpg`` resolves to the longest trailing part of its path that
  exists under that folder (``data/cat/1.jpg``, then ``cat/1.jpg``, ...), so Azure's JSONL files
  work on local copies of their data. The data root is the JSONL file's folder.
- MLTable: a folder with an ``MLTable`` file whose ``paths:`` list names JSONL files (``- file:
  ./train.jsonl``); only that part of the format is read. The data root, of the JSONL files and
  of their images, is the MLTable folder.
- CSV: ``path,label`` rows; ``path,label1 label2`` (space-separated) for multilabel. An optional
  header row whose first cell is ``path``/``image``/``image_url``/``file`` names the columns; the
  labels are then the column named ``label`` (or ``labels``/``class``/``target``/...), or the one
  given as ``target_column_name``; no such column is an error listing the columns. Paths are
  relative to the CSV file's folder, the data root.
- COCO-style JSON (``coco.py``): a ``.json`` file whose top-level object has ``images``
  (``id``, ``file_name``), ``annotations`` (``image_id``, ``category_id``) and ``categories``
  (``id``, ``name``); any other ``.json`` is read as JSONL. Always multilabel: an image's labels
  are its annotations' category names (crowd annotations too; none: no labels). ``file_name`` is
  relative to the file's folder, the data root, or else to its ``images/`` sub-folder.
- Pascal VOC (``voc.py``): a folder with ``Annotations/*.xml`` (all read, in name order) and
  ``JPEGImages/<filename>``. Always multilabel: the distinct ``<object><name>`` values, objects
  marked ``<difficult>1</difficult>`` left out. XML with a ``<!DOCTYPE`` is refused. The folder
  is the data root.
- arrays: ``images`` ``N×H×W×C`` (C = 1, 3 or 4) or ``N×H×W`` uint8 and labels: a sequence of
  class names or class indices (multiclass), a sequence of label sequences, or an ``N×K`` 0/1
  array (multilabel).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from automl_vision.data.coco import coco_document, parse_coco, read_coco
from automl_vision.data.labelled import LabelledImages, concat
from automl_vision.data.root import DataRoot
from automl_vision.data.voc import looks_like_voc, read_voc

__all__ = [
    "IMAGE_EXTENSIONS",
    "LabelledImages",
    "concat",
    "read_arrays",
    "read_coco",
    "read_csv",
    "read_image_folder",
    "read_jsonl",
    "read_mltable",
    "read_source",
    "read_voc",
]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_CSV_HEADERS = frozenset({"path", "image", "image_url", "image_path", "file", "filename"})
#: header names accepted for the label column when ``label_column`` is left at ``"label"``
_CSV_LABEL_HEADERS = ("label", "labels", "class", "class_name", "target", "category")


# -- dispatch ---------------------------------------------------------------------------------
def read_source(
    data: Any, label_column: str = "label", *, allow_outside_root: bool = False
) -> LabelledImages:
    """Read any supported source (see the module docstring).

    ``label_column``: the key (JSONL, MLTable) or header column (CSV) holding the labels;
    Azure's ``target_column_name`` (refused, when set, for COCO and VOC, whose labels are their
    annotations). ``allow_outside_root``: read images a description names
    outside its folder (refused by default: ``root.py``).
    """
    if isinstance(data, LabelledImages):
        return data
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        return read_arrays(data[0], data[1])
    if isinstance(data, np.ndarray):
        raise ValueError("an image array needs its labels: pass (images, labels)")
    if not isinstance(data, (str, Path)):
        raise ValueError(
            f"data of type {type(data).__name__} is not a dataset; pass an image folder, a JSONL, "
            "CSV or MLTable path, or (images, labels) arrays"
        )
    path = Path(data).expanduser()
    if not path.exists():
        raise ValueError(f"data path {str(path)!r} does not exist")
    allow = {"allow_outside_root": allow_outside_root}
    if path.is_dir():
        if (path / "MLTable").is_file():
            return read_mltable(path, label_column, **allow)
        if looks_like_voc(path, **allow):
            _no_label_column(label_column, f"Pascal VOC folder {str(path)!r}")
            return read_voc(path, **allow)
        return read_image_folder(path, **allow)
    if path.name == "MLTable":
        return read_mltable(path.parent, label_column, **allow)
    suffix = path.suffix.lower()
    if suffix == ".json" and (document := coco_document(path)) is not None:
        _no_label_column(label_column, f"COCO-style file {str(path)!r}")
        return parse_coco(path, document, **allow)
    if suffix in (".jsonl", ".json"):
        return read_jsonl(path, label_column, **allow)
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv(path, label_column, **allow)
    raise ValueError(
        f"{str(path)!r} is not a supported data source; use an image folder, an MLTable folder, "
        "a Pascal VOC folder, a .jsonl, .csv or COCO-style .json file"
    )


def _no_label_column(label_column: str, source: str) -> None:
    """A label column names a field of JSONL, MLTable or CSV rows; COCO and VOC have none."""
    if label_column != "label":
        raise ValueError(
            f"label_column={label_column!r} (target_column_name) does not apply to the {source}: "
            "its labels are its annotations' categories; leave it unset"
        )


# -- image folder ----------------------------------------------------------------------------
def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


class _Folder:
    """An image folder walked inside its data root: a symbolic link is checked (``DataRoot``)
    before its target is looked at."""

    def __init__(self, root: Path, allow_outside_root: bool) -> None:
        self.root = root
        self.data_root = DataRoot.of(root, allow_outside=allow_outside_root)
        self.start = self.data_root.start(root)

    def _check_link(self, path: Path) -> None:
        relative = path.relative_to(self.root)
        self.data_root.check(
            self.start, relative, where=f"image folder {str(self.root)!r}, {relative}",
            what="a symbolic link to", value=os.readlink(path),
        )  # fmt: skip

    def classes(self) -> list[Path]:
        """The class folders (symbolic links to folders included), sorted."""
        found = []
        for entry in os.scandir(self.root):
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                self._check_link(path)
            if entry.is_dir():
                found.append(path)
        return sorted(found)

    def images(self, folder: Path) -> list[Path]:
        """The image files under ``folder``, recursively (a symbolic link to an image file is
        one; one to a folder is not walked), sorted."""
        found = []
        for entry in os.scandir(folder):
            path = Path(entry.path)
            if entry.is_symlink():
                if _is_image(path):
                    self._check_link(path)
                    if path.is_file():
                        found.append(path)
            elif entry.is_dir(follow_symlinks=False):
                found += self.images(path)
            elif entry.is_file(follow_symlinks=False) and _is_image(path):
                found.append(path)
        return sorted(found)


def read_image_folder(root: str | Path, *, allow_outside_root: bool = False) -> LabelledImages:
    """``root/<class>/**/<image>``: the sub-folder name is the label. A symbolic link that
    leads outside ``root`` refuses the folder unless ``allow_outside_root``."""
    root = Path(root).expanduser()
    folder = _Folder(root, allow_outside_root)
    paths: list[Path] = []
    labels: list[tuple[str, ...]] = []
    for class_dir in folder.classes():
        files = folder.images(class_dir)
        paths += files
        labels += [(class_dir.name,)] * len(files)
    if not paths:
        raise ValueError(
            f"image folder {str(root)!r} holds no images: expected root/<class>/<image> with "
            f"extensions {', '.join(sorted(IMAGE_EXTENSIONS))}"
        )
    return LabelledImages(tuple(paths), tuple(labels), str(root), multilabel=False)


# -- JSONL and MLTable -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Base:
    """Where a description's paths start (``folder``) and the root they must stay in; ``key``
    names the field in messages (``image_url``)."""

    folder: Path
    root: DataRoot
    key: str
    start: Path  # ``folder`` with its symbolic links resolved

    @classmethod
    def of(cls, folder: Path, root: DataRoot, key: str) -> _Base:
        return cls(folder, root, key, root.start(folder))

    def check(self, relative: Path, url: str, where: str) -> None:
        self.root.check(self.start, relative, where=where, what=self.key, value=url)


def _resolve(url: str, base: _Base, where: str) -> Path:
    """A local path for ``url`` (relative to ``base``, absolute, or a URL's trailing part),
    checked to lie inside the data root before it is looked at."""
    if "://" not in url:
        path = Path(url).expanduser()
        base.check(path, url, where)
        path = path if path.is_absolute() else base.folder / path
        if path.is_file():
            return path
        raise ValueError(f"{where}: image {url!r} does not exist (looked for {str(path)!r})")
    parts = [p for p in url.split("://", 1)[1].split("/") if p]
    for start in range(len(parts)):
        trailing = Path(*parts[start:])
        base.check(trailing, url, where)
        candidate = base.folder / trailing
        if candidate.is_file():
            return candidate
    raise ValueError(
        f"{where}: image {url!r} does not exist locally (no trailing part of its path is a file "
        f"under {str(base.folder)!r})"
    )


def _labels_of(value: Any, where: str) -> tuple[tuple[str, ...], bool]:
    """(labels, written as a list)."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            raise ValueError(f"{where}: labels must be strings, got {value!r}")
        return tuple(dict.fromkeys(str(v) for v in value)), True
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value).strip()
        if not text:
            raise ValueError(
                f"{where}: the label is empty; give a class name (or a list of labels, [] for "
                "none, in a multilabel file)"
            )
        return (text,), False
    raise ValueError(f"{where}: a label must be a string or a list of strings, got {value!r}")


def read_jsonl(
    path: str | Path, label_column: str = "label", *, allow_outside_root: bool = False
) -> LabelledImages:
    """Azure's JSONL shape: ``{"image_url": ..., "label": "cat" | ["cat", "dog"]}`` per line
    (the label under ``label_column``); every image inside the file's folder unless
    ``allow_outside_root``."""
    path = Path(path).expanduser()
    root = DataRoot.of(path.parent, allow_outside=allow_outside_root)
    return _read_jsonl(path, label_column, root)


def _read_jsonl(path: Path, label_column: str, root: DataRoot) -> LabelledImages:
    """``read_jsonl`` with its images inside ``root`` (an MLTable's folder, or its own)."""
    base = _Base.of(path.parent, root, "image_url")
    paths: list[Path] = []
    labels: list[tuple[str, ...]] = []
    multilabel = False
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
            if "image_url" not in record:
                raise ValueError(f"{where}: missing key 'image_url'")
            if label_column not in record:
                raise ValueError(f"{where}: missing key {label_column!r}")
            if not isinstance(record["image_url"], str):
                raise ValueError(f"{where}: 'image_url' must be a string")
            paths.append(_resolve(record["image_url"], base, where))
            label, as_list = _labels_of(record[label_column], where)
            labels.append(label)
            multilabel |= as_list
    if not paths:
        raise ValueError(f"{path}: no images listed")
    return LabelledImages(tuple(paths), tuple(labels), str(path), multilabel=multilabel)


def read_mltable(
    folder: str | Path, label_column: str = "label", *, allow_outside_root: bool = False
) -> LabelledImages:
    """An Azure MLTable folder: the JSONL files under ``paths:`` (``- file: ./x.jsonl``); they
    and their images inside ``folder`` unless ``allow_outside_root``."""
    folder = Path(folder).expanduser()
    root = DataRoot.of(folder, allow_outside=allow_outside_root)
    base = _Base.of(folder, root, "file")
    spec_file = folder / "MLTable"
    try:
        spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{spec_file}: not valid YAML ({err})") from None
    entries = spec.get("paths") if isinstance(spec, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{spec_file}: expected a 'paths:' list naming JSONL files")
    parts = []
    for number, entry in enumerate(entries, start=1):
        target = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(target, str):
            raise ValueError(f"{spec_file}: paths entry {number} has no 'file:' (got {entry!r})")
        where = f"{spec_file}, paths entry {number}"
        parts.append(_read_jsonl(_resolve(target, base, where), label_column, root))
    return concat(parts, str(folder))


# -- CSV -------------------------------------------------------------------------------------
def _csv_label_column(header: list[str], label_column: str, where: str) -> int:
    """The index of the label column in a CSV header row, or one clear error."""
    lowered = [cell.lower() for cell in header]
    names = (label_column,) if label_column != "label" else _CSV_LABEL_HEADERS
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    allowed = f"{label_column!r}" if label_column != "label" else ", ".join(map(repr, names))
    raise ValueError(
        f"{where}: no label column in the header (columns: {', '.join(map(repr, header))}); "
        f"name it {allowed}, or pass target_column_name=<its name>"
    )


def read_csv(
    path: str | Path, label_column: str = "label", *, allow_outside_root: bool = False
) -> LabelledImages:
    """``path,label`` rows (``path,label1 label2`` for multilabel); paths relative to the file,
    every image inside its folder unless ``allow_outside_root``.

    Without a header row the labels are the second column. With one (first cell ``path``,
    ``image_url``, ...), they are the column named ``label_column``; left at ``"label"``, the
    names ``label``, ``labels``, ``class``, ``class_name``, ``target`` and ``category`` are
    accepted too. A header without such a column, or an empty label cell, is an error.
    """
    path = Path(path).expanduser()
    root = DataRoot.of(path.parent, allow_outside=allow_outside_root)
    base = _Base.of(path.parent, root, "image path")
    paths: list[Path] = []
    labels: list[tuple[str, ...]] = []
    multilabel = False
    column = 1
    with path.open(encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            if not row or not any(cell.strip() for cell in row):
                continue
            where = f"{path}, line {number}"
            if number == 1 and row[0].strip().lower() in _CSV_HEADERS:
                column = _csv_label_column([cell.strip() for cell in row], label_column, where)
                continue
            if len(row) <= column:
                raise ValueError(f"{where}: missing the label column (expected 'path,label')")
            paths.append(_resolve(row[0].strip(), base, where))
            label = tuple(dict.fromkeys(row[column].split()))
            if not label:
                raise ValueError(f"{where}: the label cell is empty; give a class name")
            labels.append(label)
            multilabel |= len(label) > 1
    if not paths:
        raise ValueError(f"{path}: no images listed")
    return LabelledImages(tuple(paths), tuple(labels), str(path), multilabel=multilabel)


# -- arrays ----------------------------------------------------------------------------------
def read_arrays(
    images: np.ndarray, labels: Any, class_names: Sequence[str] | None = None
) -> LabelledImages:
    """In-memory images (``N×H×W×C`` or ``N×H×W`` uint8) with their labels."""
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(
            f"images must be an N×H×W×C (or N×H×W) uint8 array, got {images.dtype} with shape "
            f"{images.shape}"
        )
    if images.ndim == 4 and images.shape[3] not in (1, 3, 4):
        raise ValueError(f"images must have 1, 3 or 4 channels, got shape {images.shape}")
    names = tuple(str(c) for c in class_names) if class_names is not None else ()
    n = len(images)
    arr = labels if isinstance(labels, np.ndarray) else _label_array(labels)
    if arr.ndim == 2 and arr.dtype != object and np.isin(arr, (0, 1)).all():
        if names and len(names) != arr.shape[1]:
            raise ValueError(f"{arr.shape[1]} label columns but {len(names)} class names")
        names = names or tuple(str(i) for i in range(arr.shape[1]))
        parsed = tuple(tuple(names[j] for j in np.flatnonzero(row)) for row in arr)
        multilabel = True
    elif arr.ndim == 1 and arr.dtype != object:
        parsed = tuple((_class_name(v, names),) for v in arr.tolist())
        multilabel = False
    else:
        items = list(labels)
        parsed = tuple(
            tuple(dict.fromkeys(_class_name(v, names) for v in item))
            if isinstance(item, (list, tuple, set, frozenset, np.ndarray))
            else (_class_name(item, names),)
            for item in items
        )
        multilabel = any(isinstance(i, (list, tuple, set, frozenset, np.ndarray)) for i in items)
    if len(parsed) != n:
        raise ValueError(f"{n} images but {len(parsed)} labels")
    return LabelledImages(images, parsed, "arrays", multilabel=multilabel, class_names=names)


def _label_array(labels: Any) -> np.ndarray:
    """``labels`` as an array; label lists of different lengths (multilabel) become a 1-D
    object array, which numpy refuses to build implicitly."""
    try:
        return np.asarray(labels)
    except ValueError:  # ragged: [["a", "b"], ["c"]]
        items = list(labels)
        out = np.empty(len(items), dtype=object)
        out[:] = [list(item) if isinstance(item, (list, tuple, set, frozenset)) else item
                  for item in items]  # fmt: skip
        return out


def _class_name(value: Any, names: tuple[str, ...]) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and names:
        if not 0 <= int(value) < len(names):
            raise ValueError(f"label index {value} is outside the {len(names)} class names")
        return names[int(value)]
    return str(value)
