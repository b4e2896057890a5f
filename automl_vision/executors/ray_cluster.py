"""The sweep's connection to a Ray cluster, and how its data reaches the cluster's nodes.

``ray_session(address)`` connects the sweep's process (the driver) to a cluster for the length
of a sweep: ``None`` starts a local Ray instance and stops it afterwards, ``"auto"`` joins the
cluster this machine belongs to, ``"host:port"`` joins the cluster whose head listens there. Ray
is an optional extra; ``require_ray`` gives one clear error when it is missing.

Data: when every node sees the dataset's files under the same path (a shared filesystem) the
trials read them there (``DataTransport.SHARED_PATH``); otherwise the files' bytes are put in
Ray's object store once per sweep and each node writes them to a local folder once, where its
decoded-image cache then lives (``DataTransport.OBJECT_STORE``). The sweep directory itself must
be shared: trials write their checkpoints and resume files there, and the driver reads them.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from automl_vision.data.dataset import ImageDataset

__all__ = [
    "RAY_INSTALL_HINT",
    "DataTransport",
    "RaySession",
    "local_dataset",
    "packed_files",
    "ray_session",
    "require_ray",
]

logger = logging.getLogger(__name__)

RAY_INSTALL_HINT = 'executor="ray" needs Ray: pip install "automl-vision[ray]"'


def require_ray() -> Any:
    """The ``ray`` module, or one ValueError that says how to install it."""
    try:
        import ray  # lazy: Ray is an optional extra, imported only by a Ray sweep
    except ImportError:
        raise ValueError(RAY_INSTALL_HINT) from None
    return ray


class DataTransport(enum.Enum):
    """How a sweep's images reach the nodes that train on them."""

    SHARED_PATH = "shared path"  # every node reads the files where the driver does
    OBJECT_STORE = "object store"  # the files' bytes travel once through Ray's object store

    def describe(self, data: str) -> str:
        if self is DataTransport.SHARED_PATH:
            return f"data: {data} (every node sees it: trials read it in place)"
        return (
            f"data: {data} is not visible on every node: its files go to Ray's object store "
            "once per sweep and each node keeps a local copy"
        )


def _sees(paths: Sequence[str]) -> list[bool]:
    """Which of ``paths`` exist on the node running this (a probe task)."""
    return [os.path.exists(path) for path in paths]


@dataclass
class RaySession:
    """A connected driver: the ``ray`` module, the cluster's alive nodes, whether this session
    started the Ray instance (it then stops it)."""

    ray: Any
    address: str | None
    started_here: bool

    def alive_nodes(self) -> list[dict[str, Any]]:
        return [node for node in self.ray.nodes() if node.get("Alive")]

    def total(self, resource: str) -> float:
        return float(self.ray.cluster_resources().get(resource, 0.0))

    def nodes_not_seeing(self, paths: Sequence[str | Path]) -> dict[str, list[str]]:
        """Per node that lacks some of ``paths`` (absolute), the paths it lacks."""
        from ray.util.scheduling_strategies import (
            NodeAffinitySchedulingStrategy,  # lazy: Ray (optional)
        )

        wanted = [str(Path(p).absolute()) for p in paths]
        probe = self.ray.remote(num_cpus=0)(_sees)
        refs = {
            node["NodeManagerAddress"] + " " + node["NodeID"][:8]: probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
            ).remote(wanted)
            for node in self.alive_nodes()
        }
        missing: dict[str, list[str]] = {}
        for name, ref in refs.items():
            seen = self.ray.get(ref, timeout=120)
            lacking = [path for path, ok in zip(wanted, seen, strict=True) if not ok]
            if lacking:
                missing[name] = lacking
        return missing


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[RaySession]:
    """Connect to (or start) Ray for one sweep; disconnect (or stop it) afterwards."""
    ray = require_ray()
    if ray.is_initialized():  # the user's own session: use it, leave it running
        yield RaySession(ray, address, started_here=False)
        return
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if address is not None:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = "a local Ray instance" if address is None else f"the Ray cluster at {address!r}"
        raise ValueError(f"ray_address: could not connect to {where}: {err}") from None
    try:
        yield RaySession(ray, address, started_here=address is None)
    finally:
        ray.shutdown()


def _files_of(dataset: Any) -> tuple[Path, ...]:
    images = dataset.images.images
    return () if dataset.images.in_memory else tuple(Path(p).absolute() for p in images)


def packed_files(dataset: Any) -> dict[str, bytes]:
    """The bytes of every image file of ``dataset``, by absolute path (what the object store
    carries when the nodes cannot read the files)."""
    return {str(path): path.read_bytes() for path in _files_of(dataset)}


def local_dataset(dataset: Any, files: dict[str, bytes] | None) -> Any:
    """``dataset`` as this node can read it: unchanged when its files are here (or ``files`` is
    None); otherwise written once to a node-local folder and re-pointed there."""
    if files is None or not files:
        return dataset
    key = hashlib.blake2b(
        "\n".join(sorted(files)).encode() + str(len(files)).encode(), digest_size=8
    ).hexdigest()
    root = Path(tempfile.gettempdir()) / "automl_vision-ray-data" / key
    done = root / ".complete"
    if not done.exists():
        for n, (path, data) in enumerate(sorted(files.items())):
            target = root / f"{n:07d}{Path(path).suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + f".{os.getpid()}.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        done.touch()
    local = {path: root / f"{n:07d}{Path(path).suffix}" for n, path in enumerate(sorted(files))}
    images = replace(
        dataset.images, images=tuple(local[str(Path(p).absolute())] for p in dataset.images.images)
    )
    return ImageDataset(
        images,
        dataset.train_indices,
        dataset.validation_indices,
        task=dataset.task,
        class_names=dataset.class_names,
        cache_dir=None if dataset.cache_dir is None else root / ".decoded",
    )
