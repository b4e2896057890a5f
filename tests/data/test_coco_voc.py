"""COCO-style annotation JSON and Pascal VOC folders (``data/coco.py``, ``data/voc.py``): labels,
difficult objects, images without labels, errors naming the file and entry, the data root,
hostile XML, and ``load_dataset`` end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from automl_vision.data import OutsideDataRootError, Task, load_dataset, read_source


def _png(path: Path, colour: tuple[int, int, int] = (10, 20, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """An image beside the data root (what an escaping name reaches)."""
    return _png(tmp_path / "outside" / "secret.png", (200, 0, 0))


# -- COCO ------------------------------------------------------------------------------------
CATEGORIES = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}, {"id": 7, "name": "person"},
              {"id": 9, "name": "bird"}]  # fmt: skip


def _coco(root: Path, **changes) -> Path:
    """Four images: a (cat, dog, cat), b (dog, a crowd of people), c (none), d (cat; found
    under images/)."""
    for name in ("a.png", "b.png", "c.png"):
        _png(root / name)
    _png(root / "images" / "d.png")
    document = {
        "info": {"description": "test"},
        "images": [{"id": i, "file_name": f"{n}.png", "width": 8, "height": 8}
                   for i, n in enumerate("abcd", start=1)],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]},
            {"id": 2, "image_id": 1, "category_id": 2},
            {"id": 3, "image_id": 1, "category_id": 1},
            {"id": 4, "image_id": 2, "category_id": 2},
            {"id": 5, "image_id": 2, "category_id": 7, "iscrowd": 1},
            {"id": 6, "image_id": 4, "category_id": 1},
        ],
        "categories": CATEGORIES,
    }  # fmt: skip
    document.update(changes)
    path = root / "instances.json"
    path.write_text(json.dumps(document))
    return path


def test_coco_labels_are_the_categories_of_each_images_annotations(tmp_path: Path) -> None:
    path = _coco(tmp_path / "data")
    images = read_source(path)
    assert images.multilabel
    assert images.labels == (("cat", "dog"), ("dog", "person"), (), ("cat",))
    root = tmp_path / "data"
    assert images.images == (root / "a.png", root / "b.png", root / "c.png", root / "images/d.png")


def test_a_json_file_that_is_not_coco_is_still_read_as_json_lines(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"image_url": "a.png", "label": ["x", "y"]}) + "\n")
    assert read_source(path).labels == (("x", "y"),)


def _image(i: int, name: str) -> dict:
    return {"id": i, "file_name": name}


COCO_ERRORS = [
    # (case, changes to the document, words in the message)
    ("unknown category", {"annotations": [{"image_id": 1, "category_id": 5}]},
     "annotations[0]: category_id 5 is not among the categories"),
    ("unknown image", {"annotations": [{"image_id": 1, "category_id": 1},
                                       {"image_id": 99, "category_id": 1}]},
     "annotations[1]: image_id 99 is not among the images"),
    ("missing image file", {"images": [_image(1, "a.png"), _image(2, "gone.png")]},
     "images[1]: image file 'gone.png' does not exist"),
    ("repeated image id", {"images": [_image(1, "a.png"), _image(1, "b.png")]},
     "images[1]: image id 1 is listed twice"),
    ("repeated category id", {"categories": [*CATEGORIES, {"id": 2, "name": "wolf"}]},
     "categories[4]: category id 2 is listed twice"),
    ("image without file_name", {"images": [{"id": 1}]}, "images[0]: 'file_name'"),
    ("annotation without category", {"annotations": [{"image_id": 1}]},
     "annotations[0]: missing key 'category_id'"),
    ("category without name", {"categories": [{"id": 1}]}, "categories[0]: 'name'"),
    ("a list id", {"images": [{"id": [1], "file_name": "a.png"}]}, "images[0]: id must be"),
    ("annotations not a list", {"annotations": {}}, "'annotations' must be a list"),
    ("no images", {"images": [], "annotations": []}, "no images listed"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "words"), [c[1:] for c in COCO_ERRORS], ids=[c[0] for c in COCO_ERRORS]
)
def test_coco_errors_name_the_file_and_the_entry(tmp_path: Path, changes, words) -> None:
    path = _coco(tmp_path, **changes)
    with pytest.raises(ValueError) as err:
        read_source(path)
    assert str(path) in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("kind", ["parent", "absolute", "link", "link under images/"])
def test_coco_images_stay_inside_the_data_root(tmp_path: Path, outside: Path, kind) -> None:
    root = tmp_path / "data"
    root.mkdir()
    if kind == "link":
        (root / "linked.png").symlink_to(outside)
    if kind == "link under images/":
        (root / "images").mkdir()
        (root / "images" / "linked.png").symlink_to(outside)
    name = {"parent": "../outside/secret.png", "absolute": str(outside)}.get(kind, "linked.png")
    path = _coco(root, images=[_image(1, "a.png"), _image(2, name)], annotations=[])
    with pytest.raises(OutsideDataRootError, match=r"images\[1\]: file_name"):
        read_source(path)
    assert read_source(path, allow_outside_root=True).images[1].resolve() == outside


def test_coco_reads_its_own_layout_of_annotations_beside_split_folders(
    tmp_path: Path, outside: Path
) -> None:
    """coco/annotations/instances_val2017.json with its images in coco/val2017/ (COCO's own
    layout): the data root is coco/, and nothing outside coco/ is reached."""
    coco = tmp_path / "coco"
    _png(coco / "val2017" / "1.png")
    _png(coco / "images" / "val2017" / "2.png")
    path = coco / "annotations" / "instances_val2017.json"
    path.parent.mkdir(parents=True)
    document = {
        "images": [_image(1, "1.png"), _image(2, "2.png")],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1},
                        {"id": 2, "image_id": 2, "category_id": 2}],
        "categories": CATEGORIES,
    }  # fmt: skip
    path.write_text(json.dumps(document))
    images = read_source(path)
    assert images.images == (coco / "val2017" / "1.png", coco / "images" / "val2017" / "2.png")
    assert images.labels == (("cat",), ("dog",))
    document["images"][1]["file_name"] = "../../outside/secret.png"
    path.write_text(json.dumps(document))
    with pytest.raises(OutsideDataRootError, match=r"images\[1\]: file_name"):
        read_source(path)


def test_coco_refuses_a_label_column(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="label_column='tags'"):
        read_source(_coco(tmp_path), "tags")


# -- VOC -------------------------------------------------------------------------------------
def _annotation(filename: str | None, objects: list[tuple[str, int]]) -> str:
    parts = [f"<object><name>{name}</name><pose>Left</pose><difficult>{difficult}</difficult>"
             "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
             for name, difficult in objects]  # fmt: skip
    name = f"<filename>{filename}</filename>" if filename is not None else ""
    return f"<annotation><folder>VOC2007</folder>{name}{''.join(parts)}</annotation>"


def _voc(root: Path, extra: dict[str, str] | None = None) -> Path:
    """Four images: 1 (dog, person, dog), 2 (dog; a difficult cat), 3 (no objects),
    4 (only a difficult bird)."""
    files = {
        "000001.xml": _annotation("000001.png", [("dog", 0), ("person", 0), ("dog", 0)]),
        "000002.xml": _annotation("000002.png", [("cat", 1), ("dog", 0)]),
        "000003.xml": _annotation("000003.png", []),
        "000004.xml": _annotation("000004.png", [("bird", 1)]),
        **(extra or {}),
    }
    (root / "Annotations").mkdir(parents=True)
    for name, text in files.items():
        (root / "Annotations" / name).write_text(text)
    for i in range(1, 5):
        _png(root / "JPEGImages" / f"00000{i}.png")
    return root


def test_voc_labels_leave_out_difficult_objects(tmp_path: Path) -> None:
    root = _voc(tmp_path / "VOC2007")
    images = read_source(root)
    assert images.multilabel
    assert images.labels == (("dog", "person"), ("dog",), (), ())
    assert images.images == tuple(root / "JPEGImages" / f"00000{i}.png" for i in range(1, 5))


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><filename>000001.png</filename><object><name>&lol3;</name></object></annotation>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<annotation><filename>000001.png</filename><object><name>&secret;</name></object></annotation>"""

VOC_ERRORS = [
    # (case, the file 000009.xml's bytes, words in the message)
    ("billion laughs", BILLION_LAUGHS.encode(), "declares a document type"),
    ("external entity", EXTERNAL.encode(), "declares a document type"),
    ("a document type in UTF-16", EXTERNAL.replace("<?xml version=\"1.0\"?>", "")
     .encode("utf-16"), "declares a document type"),
    ("an undeclared entity", b"<annotation><filename>&x;</filename></annotation>",
     "not well-formed XML"),
    ("not XML", b"<annotation><filename>", "not well-formed XML"),
    ("no filename", _annotation(None, [("dog", 0)]).encode(), "no <filename>"),
    ("an object without a name", _annotation("000001.png", [(" ", 0)]).encode(),
     "object 1: no <name>"),
    ("a missing image", _annotation("gone.png", []).encode(), "'gone.png' it names does not exist"),
    ("another root element", b"<html/>", "expected an <annotation>"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "words"), [c[1:] for c in VOC_ERRORS], ids=[c[0] for c in VOC_ERRORS]
)
def test_voc_errors_name_the_file(tmp_path: Path, data: bytes, words: str) -> None:
    root = _voc(tmp_path / "voc")
    (root / "Annotations" / "000009.xml").write_bytes(data)
    with pytest.raises(ValueError) as err:
        read_source(root)
    assert str(root / "Annotations" / "000009.xml") in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("kind", ["filename", "image link", "annotation link", "Annotations link"])
def test_voc_stays_inside_the_data_root(tmp_path: Path, outside: Path, kind: str) -> None:
    root = _voc(tmp_path / "voc")
    if kind == "filename":
        (root / "Annotations" / "000009.xml").write_text(
            _annotation("../../outside/secret.png", [("dog", 0)])
        )
    elif kind == "image link":
        (root / "Annotations" / "000009.xml").write_text(_annotation("linked.png", [("dog", 0)]))
        (root / "JPEGImages" / "linked.png").symlink_to(outside)
    elif kind == "annotation link":
        (outside.parent / "evil.xml").write_text(_annotation("000001.png", [("dog", 0)]))
        (root / "Annotations" / "000009.xml").symlink_to(outside.parent / "evil.xml")
    else:
        (outside.parent / "Annotations").mkdir()
        (outside.parent / "Annotations" / "x.xml").write_text(_annotation("000001.png", []))
        os.rename(root / "Annotations", root / "kept")
        (root / "Annotations").symlink_to(outside.parent / "Annotations")
    with pytest.raises(OutsideDataRootError, match="leads outside the data root"):
        read_source(root)
    assert len(read_source(root, allow_outside_root=True)) >= 1


def test_voc_needs_no_image_sets_and_refuses_a_label_column(tmp_path: Path) -> None:
    root = _voc(tmp_path / "voc")
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("000001\n")  # not read
    assert len(read_source(root)) == 4
    with pytest.raises(ValueError, match="label_column='tags'"):
        read_source(root, "tags")


# -- end to end ------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["coco", "voc"])
def test_load_dataset_reads_them_as_multilabel(tmp_path: Path, source: str) -> None:
    data = _coco(tmp_path) if source == "coco" else _voc(tmp_path / "voc")
    dataset = load_dataset(data, cache=False, validation_size=0.25)
    assert dataset.task is Task.MULTILABEL
    expected = ("cat", "dog", "person") if source == "coco" else ("dog", "person")
    assert dataset.class_names == expected  # bird: a category no kept annotation uses
    assert len(dataset.train_indices) + len(dataset.validation_indices) == 4
    with pytest.raises(ValueError, match="task is multiclass"):
        load_dataset(data, task="multiclass", cache=False)
