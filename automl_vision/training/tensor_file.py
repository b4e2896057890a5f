"""Files of tensors and plain data that cannot carry code: safetensors with a JSON tree.

A checkpoint (``checkpoint.py``) and a resume state (``resume.py``) are nested structures of
dicts, lists, tuples, numbers, strings and tensors. ``write_tensor_file`` stores them as one
safetensors file: the tensors in its data section, the structure as JSON in its header's
metadata, with a tensor in the tree written as ``{"$tensor": name}``. Reading it back parses
JSON and copies raw numbers, so a file from anyone, however crafted, cannot run code (unlike
``torch.load``, which unpickles). The file also says what it holds and proves it is whole:

================  ==============================================================================
metadata key      value
================  ==============================================================================
``format``        the ``TensorFileKind`` (``automl_vision.checkpoint``, ``automl_vision.resume``)
``version``       ``2`` (release 1 wrote pickles: ``LegacyCheckpointError``)
``tree``          the JSON structure
``sha256``        digest of the tree and of every tensor's name, dtype, shape and bytes
================  ==============================================================================

``weights``, a flat ``name -> tensor`` mapping (a model's state dict), is stored under its own
names, so the file is also an ordinary weights file that any safetensors reader loads; every
other tensor is named by its path in the tree (``~optimizer/state/0/exp_avg``).

Earlier releases wrote ``torch.save`` pickles; such a file is refused with
``LegacyCheckpointError`` and read only by ``read_legacy_pickle(..., trust=True)``, and then
through torch's weights-only unpickler with an allow-list of release 1's own classes.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open
from safetensors.torch import save as safetensors_bytes

from automl_vision.storage import write_atomically

__all__ = [
    "TENSOR_FILE_VERSION",
    "CorruptCheckpointError",
    "LegacyCheckpointError",
    "TensorFile",
    "TensorFileKind",
    "is_legacy_pickle",
    "legacy_message",
    "read_legacy_pickle",
    "read_metadata",
    "read_tensor_file",
    "write_tensor_file",
]

TENSOR_FILE_VERSION = "2"
_TREE_PREFIX = "~"
#: a header larger than this is not one we wrote (a model's header is a few hundred kB)
_MAX_HEADER = 256 * 2**20


class TensorFileKind(str, Enum):
    """What a tensor file holds (its ``format`` metadata)."""

    CHECKPOINT = "automl_vision.checkpoint"
    RESUME = "automl_vision.resume"


class CorruptCheckpointError(ValueError):
    """A checkpoint file that cannot be read back (bad checksum, truncated, not ours)."""


class LegacyCheckpointError(ValueError):
    """A pickle written by an earlier release: loading it could run code, so it needs trust."""


class TensorFile:
    """What ``read_tensor_file`` returns: the tree, the named weights and the metadata."""

    def __init__(self, tree: Any, weights: dict[str, torch.Tensor], meta: dict[str, str]):
        self.tree = tree
        self.weights = weights
        self.meta = meta


# -- the JSON tree ---------------------------------------------------------------------------
class _Encoder:
    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._storages: set[tuple[int, int]] = set()

    def tensor(self, name: str, value: torch.Tensor) -> str:
        value = value.detach().to("cpu").contiguous()
        storage = value.untyped_storage()
        key = (storage.data_ptr(), storage.nbytes())
        if value.numel() and key in self._storages:  # safetensors refuses shared memory
            value = value.clone()
        elif value.numel():
            self._storages.add(key)
        self.tensors[name] = value
        return name

    def encode(self, value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            return {"$tensor": self.tensor(_TREE_PREFIX + path, value)}
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, Enum):
            return self.encode(value.value, path)
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.encode(v, f"{path}/{k}") for k, v in value.items()}
            return {
                "$map": [
                    [self.encode(k, f"{path}/key"), self.encode(v, f"{path}/{k}")]
                    for k, v in value.items()
                ]
            }
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy scalar
            return self.encode(value.item(), path)
        raise TypeError(f"cannot store {type(value).__name__} at {path or '/'} in a tensor file")


def _decode(value: Any, tensors: Mapping[str, torch.Tensor], where: str) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "$tensor" in value:
        name = value["$tensor"]
        if not isinstance(name, str) or name not in tensors:
            raise CorruptCheckpointError(f"{where}: names a tensor it does not hold ({name!r})")
        return tensors[name]
    if "$tuple" in value:
        return tuple(_decode(v, tensors, where) for v in _items(value["$tuple"], where))
    if "$map" in value:
        pairs = _items(value["$map"], where)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise CorruptCheckpointError(f"{where}: a malformed mapping in its metadata")
        return {
            _hashable(_decode(k, tensors, where), where): _decode(v, tensors, where)
            for k, v in pairs
        }
    if any(k.startswith("$") for k in value):
        raise CorruptCheckpointError(f"{where}: unknown marker in its metadata")
    return {k: _decode(v, tensors, where) for k, v in value.items()}


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise CorruptCheckpointError(f"{where}: a malformed list in its metadata")
    return value


def _hashable(key: Any, where: str) -> Any:
    if isinstance(key, (str, int, float, bool, tuple)) or key is None:
        return key
    raise CorruptCheckpointError(f"{where}: a mapping key of type {type(key).__name__}")


def _digest(tree_json: str, tensors: Mapping[str, torch.Tensor]) -> str:
    h = hashlib.sha256(tree_json.encode())
    for name in sorted(tensors):
        t = tensors[name]
        h.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        if t.numel():
            h.update(t.contiguous().reshape(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()


# -- writing ---------------------------------------------------------------------------------
def write_tensor_file(
    path: str | Path,
    kind: TensorFileKind,
    tree: Any,
    *,
    weights: Mapping[str, torch.Tensor] | None = None,
    meta: Mapping[str, str] | None = None,
    fault: str | None = None,
) -> Path:
    """Write ``tree`` (and ``weights`` under their own names) atomically; return the path.

    A temporary file in the same folder is flushed, fsynced and renamed over ``path``, so a
    kill at any moment leaves the old file or the new one. ``meta`` adds string metadata
    (e.g. who owns a resume state). ``fault`` names a ``faults.fault_point`` hit between the
    write and the rename (the fault suite's kill point).
    """
    path = Path(path)
    encoder = _Encoder()
    for name, value in (weights or {}).items():
        if name.startswith(_TREE_PREFIX):
            raise ValueError(f"weight names may not start with {_TREE_PREFIX!r}: {name!r}")
        encoder.tensor(name, value)
    tree_json = json.dumps(encoder.encode(tree, ""), allow_nan=True, separators=(",", ":"))
    metadata = {
        **{str(k): str(v) for k, v in (meta or {}).items()},
        "format": kind.value,
        "version": TENSOR_FILE_VERSION,
        "tree": tree_json,
        "sha256": _digest(tree_json, encoder.tensors),
    }
    payload = safetensors_bytes(encoder.tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    # written by Python: a full disk is an OSError(ENOSPC) naming the file, which the sweep
    # tells apart from a trial's failure
    return write_atomically(path, payload, fault=fault)


# -- reading ---------------------------------------------------------------------------------
def is_legacy_pickle(path: str | Path) -> bool:
    """Whether ``path`` looks like an earlier release's pickle (a torch zip, or the old resume
    header); read without unpickling anything."""
    with Path(path).open("rb") as f:
        head = f.read(32)
    if head.startswith((b"PK\x03\x04", b"automl_vision-resume ")):  # torch's zip, release 1
        return True
    # a bare pickle (protocol 2+ starts with 0x80), unless it is a safetensors header
    return head.startswith(b"\x80") and head[8:9] != b"{"


def read_metadata(path: str | Path, kind: TensorFileKind) -> dict[str, str]:
    """The string metadata of a tensor file of ``kind`` (its header only, no tensor read)."""
    path = Path(path)
    _check_header(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
    except SafetensorError as err:
        raise CorruptCheckpointError(_unreadable(path, err)) from None
    _check_meta(path, meta, kind)
    return meta


def read_tensor_file(path: str | Path, kind: TensorFileKind) -> TensorFile:
    """Read back a file of ``write_tensor_file``: no code runs, whatever the file holds.

    Raises ``LegacyCheckpointError`` for an earlier release's pickle and
    ``CorruptCheckpointError`` for anything else that is not a whole file of ``kind``; both
    messages name the file.
    """
    path = Path(path)
    meta = read_metadata(path, kind)
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CorruptCheckpointError(_unreadable(path, err)) from None
    tree_json = meta.get("tree", "")
    if _digest(tree_json, tensors) != meta.get("sha256"):
        raise CorruptCheckpointError(
            f"{path}: corrupt {_noun(kind)} (checksum mismatch)" + _corrupt_hint(kind)
        )
    try:
        raw = json.loads(tree_json)
    except ValueError:
        raise CorruptCheckpointError(f"{path}: its metadata is not JSON") from None
    tree = _decode(raw, tensors, str(path))
    weights = {k: v for k, v in tensors.items() if not k.startswith(_TREE_PREFIX)}
    return TensorFile(tree, weights, meta)


def _check_header(path: str | Path) -> None:
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(9)
    except OSError as err:
        raise CorruptCheckpointError(f"{path}: cannot read it ({err.strerror})") from None
    if is_legacy_pickle(path):
        raise LegacyCheckpointError(legacy_message(path))
    if len(head) < 9 or head[8:9] != b"{":
        raise CorruptCheckpointError(f"{path}: not an automl_vision file (not safetensors)")
    if int.from_bytes(head[:8], "little") > _MAX_HEADER:
        raise CorruptCheckpointError(f"{path}: not an automl_vision file (header too large)")


def _check_meta(path: Path, meta: Mapping[str, str], kind: TensorFileKind) -> None:
    if meta.get("format") != kind.value:
        found = meta.get("format")
        what = f"a {found!r} file" if found else "a safetensors file without automl_vision metadata"
        raise CorruptCheckpointError(f"{path}: not an automl_vision {_noun(kind)} ({what})")
    if meta.get("version") != TENSOR_FILE_VERSION:
        raise CorruptCheckpointError(
            f"{path}: an automl_vision {_noun(kind)} of version {meta.get('version')!r}; this "
            f"release reads version {TENSOR_FILE_VERSION}"
        )


def _noun(kind: TensorFileKind) -> str:
    return {TensorFileKind.CHECKPOINT: "checkpoint", TensorFileKind.RESUME: "resume state"}[kind]


def _corrupt_hint(kind: TensorFileKind) -> str:
    if kind is TensorFileKind.RESUME:
        return "; delete it to start the trial from epoch 1"
    return ""


def _unreadable(path: Path, err: BaseException) -> str:
    line = (str(err).splitlines() or [type(err).__name__])[0]
    return f"{path}: cannot read it ({line}); it is corrupt or truncated"


def legacy_message(path: str | Path) -> str:
    """The one line that refuses an earlier release's pickle file."""
    return (
        f"{path}: written by an earlier automl_vision release as a Python pickle, which can run "
        "code when loaded; if you made it yourself, convert it with `automl-vision convert "
        f"{path} --trust` (or pass trust_checkpoint=True / --trust), else delete it"
    )


def read_legacy_pickle(path: str | Path, *, trust: bool, classes: Sequence[type] = ()) -> Any:
    """Unpickle an earlier release's file, only with ``trust``.

    Even then, through torch's weights-only unpickler with an allow-list: tensors, plain
    containers and numbers, and ``classes`` (what release 1 pickled: ``Checkpoint``, ``Task``).
    A pickle naming anything else (a function to call) is refused, not run."""
    path = Path(path)
    if not trust:
        raise LegacyCheckpointError(legacy_message(path))
    data = path.read_bytes()
    if data.startswith(b"automl_vision-resume "):  # release 1's resume header: a checksum line
        data = data.partition(b"\n")[2]
    try:
        with torch.serialization.safe_globals(list(classes)):
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CorruptCheckpointError(
            f"{path}: holds Python objects beyond automl_vision's release-1 checkpoint "
            f"(refused even when trusted: {str(err).splitlines()[0][:200]})"
        ) from None
    except (RuntimeError, EOFError, AttributeError) as err:
        raise CorruptCheckpointError(_unreadable(path, err)) from None
