"""Preparing the next batch while the model trains on this one (CPU).

``ahead(batches, prepare, threads=n)`` yields ``prepare(batch)`` for each batch, computed in one
background thread that runs at most ``depth`` batches ahead. One thread prepares the batches
in order, so a seeded ``prepare`` (augmentation drawing from one generator) draws the same
numbers as it would inline; the thread uses the same number of intra-op threads as the
caller, so reductions add up in the same order and the results are the same bit for bit.
An error in the thread is raised in the caller; a caller that stops early stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import torch

__all__ = ["ahead"]

T = TypeVar("T")
_DONE = object()


def ahead(
    batches: Iterable[Any], prepare: Callable[[Any], T], *, threads: int, depth: int = 2
) -> Iterator[T]:
    """``prepare(b) for b in batches``, prepared in a background thread (see the module)."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        torch.set_num_threads(threads)
        try:
            for batch in batches:
                if not put(("item", prepare(batch))):
                    return
        except BaseException as err:  # handed to the caller, raised there
            put(("error", err))
            return
        put(("done", _DONE))

    thread = threading.Thread(target=work, name="automl-vision-augment", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = out.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()
