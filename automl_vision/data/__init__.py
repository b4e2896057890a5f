"""Datasets, splits, the decoded-image cache, batched transforms and demo data.

``load_dataset(data)`` reads an image folder, a JSONL file (Azure's shape), an Azure MLTable
folder, a CSV file, a COCO-style annotation JSON file, a Pascal VOC folder or ``(images,
labels)`` arrays into an ``ImageDataset`` (task, class names, split, fingerprint);
``ImageDataset.decode(size)`` decodes once through the cache. The images a dataset file names
stay inside its folder (``root.py``: ``OutsideDataRootError`` otherwise, unless
``allow_outside_root=True``). ``iterative_split(labels, fractions, seed)`` splits images into
parts (train, validation, test) keeping every label's share (``stratify.py``).

May import: the foundations (``enums``, ``system``). Reading a dataset does not import torch;
the batched transforms and the loader (``transforms.py``, ``loader.py``) do.
"""

from automl_vision.data.cache import DecodedImages, decode_images, default_cache_dir
from automl_vision.data.dataset import CorruptImageWarning, DecodedSplit, ImageDataset, load_dataset
from automl_vision.data.root import OutsideDataRootError
from automl_vision.data.sources import LabelledImages, read_arrays, read_source
from automl_vision.data.split import stratified_split
from automl_vision.data.stratify import iterative_split
from automl_vision.data.task import Task

__all__ = [
    "CorruptImageWarning",
    "DecodedImages",
    "DecodedSplit",
    "ImageDataset",
    "LabelledImages",
    "OutsideDataRootError",
    "Task",
    "decode_images",
    "default_cache_dir",
    "iterative_split",
    "load_dataset",
    "read_arrays",
    "read_source",
    "stratified_split",
]
