"""Content fingerprints and the decoded-image cache.

Images are decoded once per (content fingerprint, size) into a ``N×S×S×3`` uint8 ``.npy`` file
under a cache directory and memory-mapped by every trial that needs them. Each image is cropped
to its centre square and resized to ``S×S`` (bilinear, antialiased; ``PIL.ImageOps.fit``): the
validation transform (resize the shorter side, centre-crop) gives the same result on that square
as on the original, and training crops are drawn from it.

Several processes may ask for the same entry at once (the trials of a sweep): a writer fills a
temporary file and renames it into place (atomic on one file system), so a reader sees a
complete file or none; a lock file (POSIX) keeps two processes from decoding the same entry
twice. Images that cannot be decoded are recorded in the entry's sidecar JSON and reported by
index.

The cache has no size limit unless ``$AUTOML_VISION_CACHE_LIMIT_MB`` sets one: after an entry is
written, the least recently used entries (by the time they were last opened) are removed until
the cache fits, never the entry just written. ``cache_info`` and ``clear_cache`` (the CLI's
``automl-vision cache info|clear``) show its size and empty it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from automl_vision.system import available_cpus

__all__ = [
    "CacheInfo",
    "DecodedImages",
    "cache_info",
    "cache_limit",
    "clear_cache",
    "decode_image",
    "decode_images",
    "default_cache_dir",
    "fingerprint_images",
]

_BUFFER = 1 << 20


def default_cache_dir() -> Path:
    """``$AUTOML_VISION_CACHE``, else ``~/.cache/automl_vision``."""
    env = os.environ.get("AUTOML_VISION_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "automl_vision"


def cache_limit() -> int | None:
    """The cache's size limit in bytes (``$AUTOML_VISION_CACHE_LIMIT_MB``), None for none."""
    text = os.environ.get("AUTOML_VISION_CACHE_LIMIT_MB", "").strip()
    if not text:
        return None
    try:
        megabytes = float(text)
    except ValueError:
        raise ValueError(
            f"AUTOML_VISION_CACHE_LIMIT_MB={text!r} must be a number of megabytes"
        ) from None
    if not megabytes > 0:
        raise ValueError(f"AUTOML_VISION_CACHE_LIMIT_MB={text!r} must be > 0")
    return int(megabytes * 2**20)


@dataclass(frozen=True)
class CacheInfo:
    entries: int
    bytes: int
    limit: int | None


def _entry_files(entry: Path) -> list[Path]:
    """An entry's array and its sidecar JSON."""
    return [entry, entry.with_suffix(".json")]


#: the names the cache writes: ``<fingerprint>_<size>.npy`` with its ``.json`` sidecar (written
#: first) and ``.lock``, and their temporary files ``<name>.<pid>.<hex>.tmp``; nothing else in a
#: folder is ever counted or removed (``cache clear --dir`` on the wrong folder deletes nothing)
_ENTRY = re.compile(r"[0-9A-Za-z]{1,128}_[0-9]{1,5}\.npy")
_TEMPORARY = re.compile(r"[0-9A-Za-z]{1,128}_[0-9]{1,5}\.(npy|json)\.[0-9]+\.[0-9a-f]{32}\.tmp")


def _entries(cache_dir: Path) -> list[Path]:
    if not cache_dir.is_dir():
        return []
    return sorted(
        p
        for p in cache_dir.iterdir()
        if _ENTRY.fullmatch(p.name) and not p.is_symlink() and p.with_suffix(".json").is_file()
    )


def _entry_bytes(entry: Path) -> int:
    return sum(f.stat().st_size for f in _entry_files(entry) if f.is_file())


def cache_info(cache_dir: Path) -> CacheInfo:
    """How many entries the cache under ``cache_dir`` holds and their size."""
    entries = _entries(cache_dir)
    return CacheInfo(len(entries), sum(_entry_bytes(e) for e in entries), cache_limit())


def _remove_entry(entry: Path) -> int:
    size = _entry_bytes(entry)
    for f in (*_entry_files(entry), entry.with_suffix(".lock")):
        f.unlink(missing_ok=True)
    return size


def clear_cache(cache_dir: Path) -> tuple[int, int]:
    """Remove every entry (and leftover temporary files); return (bytes freed, entries)."""
    entries = _entries(cache_dir)
    freed = sum(_remove_entry(e) for e in entries)
    if cache_dir.is_dir():
        for leftover in cache_dir.iterdir():
            if _TEMPORARY.fullmatch(leftover.name):
                leftover.unlink(missing_ok=True)
    return freed, len(entries)


def _evict(cache_dir: Path, keep: Path, limit: int | None) -> None:
    """Remove least recently used entries (never ``keep``) until the cache fits ``limit``.

    A reader that already memory-mapped a removed entry keeps its data (POSIX unlink)."""
    if limit is None:
        return
    entries = [e for e in _entries(cache_dir) if e != keep]
    total = _entry_bytes(keep) + sum(_entry_bytes(e) for e in entries)
    for entry in sorted(entries, key=lambda e: e.stat().st_atime):
        if total <= limit:
            return
        total -= _remove_entry(entry)


def _threads(n: int) -> int:
    return max(1, min(8, available_cpus(), n))


# -- fingerprints -----------------------------------------------------------------------------
def _file_digest(path: Path) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as f:
        while chunk := f.read(_BUFFER):
            h.update(chunk)
    return h.digest()


def fingerprint_images(images: Sequence[Path] | np.ndarray) -> str:
    """A hex digest of the images' content, in order (file bytes, or the array's bytes)."""
    h = hashlib.blake2b(digest_size=16)
    if isinstance(images, np.ndarray):
        h.update(f"array{images.shape}{images.dtype}".encode())
        h.update(np.ascontiguousarray(images).data)
        return h.hexdigest()
    h.update(f"files{len(images)}".encode())
    with ThreadPoolExecutor(_threads(len(images))) as pool:
        for digest in pool.map(_file_digest, images):
            h.update(digest)
    return h.hexdigest()


# -- decoding ---------------------------------------------------------------------------------
def _to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer or float images scaled to 8 bits (``convert`` would clip).

    ``I;16*`` (16-bit PNG/TIFF) maps 0..65535 to 0..255. ``I`` (32-bit integers) is read as
    8-bit when its values fit in 0..255, as 16-bit when they fit in 0..65535, else scaled by its
    maximum. ``F`` (floats) is read as 0..1 when its values fit there, as 0..255 when they fit
    there, else scaled by its maximum. Negative values are clipped to 0.
    """
    mode = image.mode
    if not (mode.startswith("I;16") or mode in ("I", "F")):
        return image
    values = np.asarray(image, dtype=np.float64)
    peak = float(values.max()) if values.size else 0.0
    if mode.startswith("I;16"):
        full = 65535.0
    elif mode == "I":
        full = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    else:
        full = 1.0 if peak <= 1.0 else 255.0 if peak <= 255 else peak
    scaled = np.clip(np.rint(values * (255.0 / full)), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _to_square(image: Image.Image, size: int) -> np.ndarray:
    image = _to_8bit(image).convert("RGB")
    return np.asarray(ImageOps.fit(image, (size, size), Image.Resampling.BILINEAR))


def _decode_file(path: Path, size: int) -> np.ndarray:
    with Image.open(path) as image:
        image.draft("RGB", (size, size))
        image.load()
        return _to_square(image, size)


def _decode_array(image: np.ndarray, size: int) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    return _to_square(Image.fromarray(image), size)


def decode_image(image: Path | np.ndarray | Image.Image, size: int) -> np.ndarray:
    """One image as the trainer stores it: centre square resized to ``size``², RGB uint8."""
    if isinstance(image, Image.Image):
        return _to_square(image, size)
    if isinstance(image, np.ndarray):
        return _decode_array(image, size)
    return _decode_file(Path(image), size)


def _decode_into(images: Sequence[Path] | np.ndarray, size: int, out: np.ndarray) -> dict[int, str]:
    """Decode every image into ``out``; return {index: reason} for the ones that failed."""

    def one(index: int) -> tuple[int, str]:
        try:
            if isinstance(images, np.ndarray):
                out[index] = _decode_array(images[index], size)
            else:
                out[index] = _decode_file(images[index], size)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            out[index] = 0
            return index, f"{type(err).__name__}: {err}"
        return index, ""

    with ThreadPoolExecutor(_threads(len(images))) as pool:
        results = list(pool.map(one, range(len(images))))
    return {index: reason for index, reason in results if reason}


@dataclass(frozen=True)
class DecodedImages:
    """Decoded ``N×S×S×3`` uint8 images (memory-mapped when cached) and the failures."""

    array: np.ndarray
    failed: dict[int, str]  # index -> why it could not be decoded
    path: Path | None  # the cache file, None when decoded in memory

    @property
    def size(self) -> int:
        return int(self.array.shape[1])


def decode_images(
    images: Sequence[Path] | np.ndarray,
    size: int,
    *,
    fingerprint: str,
    cache_dir: Path | None,
) -> DecodedImages:
    """Decode ``images`` at ``size``; through the cache under ``cache_dir`` unless it is None."""
    if size < 1:
        raise ValueError(f"size={size} must be a positive number of pixels")
    shape = (len(images), size, size, 3)
    if cache_dir is None:
        array = np.empty(shape, dtype=np.uint8)
        return DecodedImages(array, _decode_into(images, size, array), None)
    cache_dir = Path(cache_dir).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / f"{fingerprint}_{size}.npy"
    meta = final.with_suffix(".json")
    with _lock(cache_dir / f"{fingerprint}_{size}.lock"):
        if not final.is_file():
            _write_entry(images, size, shape, final, meta)
            _evict(cache_dir, final, cache_limit())
        else:
            with contextlib.suppress(OSError):  # its last use (access time) for the LRU order
                os.utime(final, ns=(time.time_ns(), final.stat().st_mtime_ns))
    failed = {int(k): v for k, v in json.loads(meta.read_text())["failed"].items()}
    array = np.load(final, mmap_mode="r")
    if array.shape != shape:
        raise ValueError(f"cache entry {final} has shape {array.shape}, expected {shape}")
    return DecodedImages(array, failed, final)


def _write_entry(
    images: Sequence[Path] | np.ndarray,
    size: int,
    shape: tuple[int, ...],
    final: Path,
    meta: Path,
) -> None:
    tag = f".{os.getpid()}.{uuid.uuid4().hex}.tmp"
    tmp_array = final.with_name(final.name + tag)
    tmp_meta = meta.with_name(meta.name + tag)
    try:
        out = np.lib.format.open_memmap(tmp_array, mode="w+", dtype=np.uint8, shape=shape)
        failed = _decode_into(images, size, out)
        out.flush()
        del out
        tmp_meta.write_text(json.dumps({"shape": list(shape), "failed": failed}))
        os.replace(tmp_meta, meta)  # the sidecar first: a visible array always has one
        os.replace(tmp_array, final)
    finally:
        for leftover in (tmp_array, tmp_meta):
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` where the platform has one (POSIX)."""
    try:
        import fcntl  # lazy: POSIX only; elsewhere the atomic rename alone is enough
    except ImportError:  # no advisory locks: the atomic rename alone keeps readers safe
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
