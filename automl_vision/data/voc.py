"""Pascal VOC folders read as multilabel images: each image's labels are its objects' classes.

The folder::

    root/Annotations/<name>.xml     one <annotation> per image
    root/JPEGImages/<filename>      the image its <filename> names

Every XML file in ``Annotations`` is read, in name order (``ImageSets/Main/*.txt`` lists are
not needed and not read; hidden files are skipped). An image's labels are the distinct
``<object><name>`` values, sorted, leaving out objects marked ``<difficult>1</difficult>`` —
VOC's own classification convention, under which such objects neither make an image positive
nor count against it; here the image is simply not labelled with them (an image whose objects
are all difficult, or that has none, is kept with no labels). Boxes, poses and the rest are
ignored.

The folder is the data root: an annotation file, or the image a ``<filename>`` names, that
leads outside it (``../x.jpg``, an absolute path, a symbolic link out) refuses the whole
dataset (``root.py``: ``OutsideDataRootError``) unless ``allow_outside_root``.

The XML is untrusted: a file with a document type declaration (``<!DOCTYPE``, the only place
entities can be declared — the "billion laughs" and external-entity attacks) is refused before
it is parsed; VOC's annotation files never have one. Other errors (not well-formed XML, no
``<filename>``, an object without ``<name>``, a missing image file) name the file.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from automl_vision.data.labelled import LabelledImages
from automl_vision.data.root import DataRoot

__all__ = ["looks_like_voc", "read_voc", "refuse_declarations"]

ANNOTATIONS = "Annotations"
IMAGES = "JPEGImages"


class _Declared(Exception):
    """The XML declares a document type (and so could declare entities)."""


def looks_like_voc(folder: str | Path, *, allow_outside_root: bool = False) -> bool:
    """Whether ``folder`` has an ``Annotations`` sub-folder holding XML files. A symbolic link
    named ``Annotations`` that leads outside ``folder`` is refused (``OutsideDataRootError``)
    before it is followed, unless ``allow_outside_root``."""
    folder = Path(folder).expanduser()
    annotations = folder / ANNOTATIONS
    if annotations.is_symlink():
        root = DataRoot.of(folder, allow_outside=allow_outside_root)
        root.check(
            root.start(folder), Path(ANNOTATIONS), where=f"VOC folder {str(folder)!r}",
            what="a symbolic link to", value=os.readlink(annotations),
        )  # fmt: skip
    return annotations.is_dir() and bool(_xml_files(annotations))


def read_voc(folder: str | Path, *, allow_outside_root: bool = False) -> LabelledImages:
    """A Pascal VOC folder's images with their labels (module docstring)."""
    folder = Path(folder).expanduser()
    root = DataRoot.of(folder, allow_outside=allow_outside_root)
    start = root.start(folder)
    where = f"VOC folder {str(folder)!r}"
    root.check(start, Path(ANNOTATIONS), where=where, what="folder", value=ANNOTATIONS)
    annotations = folder / ANNOTATIONS
    files = _xml_files(annotations) if annotations.is_dir() else []
    if not files:
        raise ValueError(
            f"{where}: no annotation files; expected {ANNOTATIONS}/<name>.xml with the images "
            f"in {IMAGES}/"
        )
    paths: list[Path] = []
    labels: list[tuple[str, ...]] = []
    for name in files:
        relative = Path(ANNOTATIONS) / name
        xml_file = folder / relative
        root.check(start, relative, where=where, what="annotation file", value=str(relative))
        filename, found = _read_annotation(xml_file)
        image = Path(IMAGES) / filename
        root.check(start, image, where=str(xml_file), what="<filename>", value=filename)
        if not (folder / image).is_file():
            raise ValueError(
                f"{xml_file}: the image {filename!r} it names does not exist (looked for "
                f"{str(folder / image)!r})"
            )
        paths.append(folder / image)
        labels.append(found)
    return LabelledImages(tuple(paths), tuple(labels), str(folder), multilabel=True)


def _xml_files(annotations: Path) -> list[str]:
    """The names of the XML files in ``annotations`` (hidden ones skipped), sorted."""
    return sorted(
        entry.name
        for entry in os.scandir(annotations)
        if entry.name.lower().endswith(".xml") and not entry.name.startswith(".")
    )


def refuse_declarations(data: bytes, where: str) -> None:
    """Nothing if ``data`` is well-formed XML without a document type declaration; else one
    ``ValueError`` naming ``where``. Expat stops at the declaration's start, before any entity
    in it is read, let alone expanded."""
    parser = expat.ParserCreate()

    def declared(*_: object) -> None:
        raise _Declared

    parser.StartDoctypeDeclHandler = declared
    parser.EntityDeclHandler = declared
    try:
        parser.Parse(data, True)
    except _Declared:
        raise ValueError(
            f"{where}: the XML declares a document type (<!DOCTYPE ...>), where entities could "
            "expand without bound or read other files; VOC annotations have none, so it is refused"
        ) from None
    except expat.ExpatError as err:
        raise ValueError(f"{where}: not well-formed XML ({err})") from None


def _read_annotation(xml_file: Path) -> tuple[str, tuple[str, ...]]:
    """(the image file name, the labels) of one VOC annotation file."""
    try:
        data = xml_file.read_bytes()
    except OSError as err:
        raise ValueError(f"{xml_file}: cannot be read ({err.strerror})") from None
    refuse_declarations(data, str(xml_file))
    try:
        tree = ET.fromstring(data)  # safe: no document type, so no entities (checked above)
    except ET.ParseError as err:
        raise ValueError(f"{xml_file}: not well-formed XML ({err})") from None
    if tree.tag != "annotation":
        raise ValueError(f"{xml_file}: expected an <annotation> element, found <{tree.tag}>")
    filename = (tree.findtext("filename") or "").strip()
    if not filename:
        raise ValueError(f"{xml_file}: no <filename> naming the image in {IMAGES}/")
    names: set[str] = set()
    for k, obj in enumerate(tree.findall("object"), start=1):
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise ValueError(f"{xml_file}, object {k}: no <name>")
        if (obj.findtext("difficult") or "0").strip() != "1":
            names.add(name)
    return filename, tuple(sorted(names))
