"""COCO-style annotation JSON read as multilabel images: each image's labels are the categories
of its annotations.

The file::

    {"images": [{"id": 1, "file_name": "a.jpg"}, ...],
     "annotations": [{"image_id": 1, "category_id": 3}, ...],
     "categories": [{"id": 3, "name": "dog"}, ...]}

Only these keys are read; boxes, segmentations and the rest are ignored. An image's labels are
the distinct names of its annotations' categories, sorted; an image without annotations is kept
with no labels (a negative for every class). Crowd annotations (``"iscrowd": 1``) count like any
other: a crowd of people still shows people. A category no annotation uses is not a class (no
image could teach it).

``file_name`` is relative to the JSON file's folder, the data root; when no file is found
there, the same name under that folder's ``images/`` sub-folder is tried. COCO's own layout is
read too: a JSON file in a folder named ``annotations`` (``coco/annotations/
instances_val2017.json`` beside ``coco/val2017/``) has that folder's parent as its data root,
and its images are also looked for under ``<parent>/<split>/``, ``<parent>/images/<split>/``,
``<parent>/`` and ``<parent>/images/``, where ``<split>`` is the file name's last
``_``-separated part (``val2017``). A name that leads
outside the root (``../x.jpg``, an absolute path elsewhere, a symbolic link out) refuses the
whole dataset (``root.py``: ``OutsideDataRootError``) unless ``allow_outside_root``.

Errors name the file and the entry (``images[3]``, ``annotations[7]``, ``categories[0]``): an
entry without its keys, a repeated image or category id, an annotation naming an unknown image
or category, an image file that does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from automl_vision.data.labelled import LabelledImages
from automl_vision.data.root import DataRoot

__all__ = ["coco_document", "parse_coco", "read_coco"]

_KEYS = ("images", "annotations", "categories")


def coco_document(path: str | Path) -> dict[str, Any] | None:
    """The parsed file if it is COCO-style JSON (a top-level object holding ``images``,
    ``annotations`` and ``categories``), else None (not JSON at all included)."""
    try:
        document = json.loads(Path(path).expanduser().read_bytes())
    except ValueError:  # not JSON (JSON lines, say), or not text
        return None
    if isinstance(document, dict) and all(key in document for key in _KEYS):
        return document
    return None


def read_coco(path: str | Path, *, allow_outside_root: bool = False) -> LabelledImages:
    """A COCO-style annotation file's images with their labels (module docstring)."""
    path = Path(path).expanduser()
    document = coco_document(path)
    if document is None:
        raise ValueError(
            f"{path}: not COCO-style annotation JSON (expected one object with the keys "
            "'images', 'annotations' and 'categories')"
        )
    return parse_coco(path, document, allow_outside_root=allow_outside_root)


def parse_coco(
    path: Path, document: dict[str, Any], *, allow_outside_root: bool = False
) -> LabelledImages:
    """``read_coco`` of a file already parsed into ``document``."""
    for key in _KEYS:
        if not isinstance(document.get(key), list):
            raise ValueError(f"{path}: {key!r} must be a list of objects")
    categories = _categories(path, document["categories"])
    ids, paths = _images(path, document["images"], allow_outside_root)
    names: list[set[str]] = [set() for _ in paths]
    for k, entry in enumerate(document["annotations"]):
        where = f"{path}, annotations[{k}]"
        image_id = _key(entry, "image_id", where)
        category_id = _key(entry, "category_id", where)
        if category_id not in categories:
            raise ValueError(f"{where}: category_id {category_id!r} is not among the categories")
        if image_id not in ids:
            raise ValueError(f"{where}: image_id {image_id!r} is not among the images")
        names[ids[image_id]].add(categories[category_id])
    if not paths:
        raise ValueError(f"{path}: no images listed")
    labels = tuple(tuple(sorted(found)) for found in names)
    return LabelledImages(tuple(paths), labels, str(path), multilabel=True)


def _key(entry: Any, key: str, where: str) -> int | str:
    """``entry[key]``, an id (a whole number or a string)."""
    if not isinstance(entry, dict) or key not in entry:
        raise ValueError(f"{where}: missing key {key!r}")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{where}: {key} must be a whole number or a string, got {value!r}")
    return value


def _categories(path: Path, entries: list[Any]) -> dict[int | str, str]:
    out: dict[int | str, str] = {}
    for k, entry in enumerate(entries):
        where = f"{path}, categories[{k}]"
        category_id = _key(entry, "id", where)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: 'name' must be a non-empty string, got {name!r}")
        if category_id in out:
            raise ValueError(f"{where}: category id {category_id!r} is listed twice")
        out[category_id] = name.strip()
    return out


def _images(
    path: Path, entries: list[Any], allow_outside_root: bool
) -> tuple[dict[int | str, int], list[Path]]:
    """({image id: position}, the image files in the order listed)."""
    base, places = _places(path)
    root = DataRoot.of(base, allow_outside=allow_outside_root)
    start = root.start(base)
    ids: dict[int | str, int] = {}
    paths: list[Path] = []
    for k, entry in enumerate(entries):
        where = f"{path}, images[{k}]"
        image_id = _key(entry, "id", where)
        file_name = entry.get("file_name")
        if not isinstance(file_name, str) or not file_name.strip():
            raise ValueError(f"{where}: 'file_name' must be a non-empty string")
        if image_id in ids:
            raise ValueError(f"{where}: image id {image_id!r} is listed twice")
        ids[image_id] = len(paths)
        paths.append(_image_file(file_name, base, places, root, start, where))
    return ids, paths


def _places(path: Path) -> tuple[Path, tuple[Path, ...]]:
    """(the data root's folder, the folders relative to it where images are looked for, in
    order), see the module docstring."""
    folder = path.parent
    if folder.name != "annotations":
        return folder, (Path(), Path("images"))
    split = path.stem.rsplit("_", 1)[-1]
    here = Path(folder.name)
    return folder.parent, (
        here,
        here / "images",
        Path(split),
        Path("images") / split,
        Path(),
        Path("images"),
    )


def _image_file(
    file_name: str, base: Path, places: tuple[Path, ...], root: DataRoot, start: Path, where: str
) -> Path:
    """The first ``base/<place>/file_name`` that exists; each checked to stay inside the data
    root before it is looked at."""
    name = Path(file_name).expanduser()
    tried = []
    for relative in (name,) if name.is_absolute() else tuple(place / name for place in places):
        root.check(start, relative, where=where, what="file_name", value=file_name)
        candidate = base / relative
        if candidate.is_file():
            return candidate
        tried.append(str(candidate))
    raise ValueError(
        f"{where}: image file {file_name!r} does not exist (looked for {', '.join(tried)})"
    )
