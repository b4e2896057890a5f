"""Every executor kind and its backend, and the one place a kind is looked up.

``backend(kind)`` is the kind's ``ExecutorBackend``; ``check_request`` refuses what a request
asks of the wrong kind (each backend names the options only it uses, ``own_options``) or of a
kind that cannot run here or cannot run these trials; ``resolve`` turns a request into its
``Capacity``, ``auto`` included (a training sweep: the process pool's capacity, run inline
when it is one trial at a time; an objective: inline, in threads when several run at once).

Adding an executor kind: a module with its ``Executor`` and its ``ExecutorBackend`` (see
``process.py`` or ``ray_backend.py``), a member of ``ExecutorKind`` and one entry below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from automl_vision.executors.backend import (
    Capacity,
    ExecutorBackend,
    ExecutorKind,
    ExecutorRequest,
    Purpose,
)
from automl_vision.executors.function import InlineBackend
from automl_vision.executors.machine import Machine
from automl_vision.executors.process import ProcessBackend
from automl_vision.executors.ray_backend import RayBackend

__all__ = ["BACKENDS", "backend", "check_request", "resolve", "resolved_kind"]

BACKENDS: Mapping[ExecutorKind, ExecutorBackend] = {
    ExecutorKind.INLINE: InlineBackend(),
    ExecutorKind.PROCESS: ProcessBackend(),
    ExecutorKind.RAY: RayBackend(),
}


def backend(kind: ExecutorKind) -> ExecutorBackend:
    """The backend of ``kind`` (``auto`` is not a kind of its own: see ``resolve``)."""
    return BACKENDS[ExecutorKind.INLINE if kind is ExecutorKind.AUTO else kind]


def _own_options(request: ExecutorRequest) -> list[tuple[str, ExecutorKind]]:
    """(option, the kind it belongs to) for each kind-specific option the request sets."""
    return [
        (name, kind)
        for kind, owner in BACKENDS.items()
        for name in owner.own_options
        if getattr(request, name) not in (None, {}, ())
    ]


def check_request(request: ExecutorRequest, purpose: Purpose = Purpose.TRAINING) -> None:
    """A ``ValueError`` naming the option when the request cannot be run as asked."""
    for name, owner in _own_options(request):
        if owner is not request.kind:
            raise ValueError(
                f"{name} is only used with executor={owner.value!r} (executor is "
                f"{request.kind.value!r})"
            )
    if request.kind is ExecutorKind.AUTO:
        return
    chosen = backend(request.kind)
    chosen.available()
    if purpose not in chosen.purposes:
        runs = " or ".join(repr(k.value) for k, b in BACKENDS.items() if purpose in b.purposes)
        raise ValueError(
            f"executor: {request.kind.value!r} does not run {purpose.value} trials (use {runs})"
        )
    chosen.check(request, purpose)


def resolved_kind(request: ExecutorRequest, purpose: Purpose, trials: int) -> ExecutorKind:
    """The kind that runs ``trials`` at once: ``auto`` is inline for one at a time and for
    objectives, else the process pool."""
    if request.kind is not ExecutorKind.AUTO:
        return request.kind
    if purpose is Purpose.OBJECTIVE or trials == 1:
        return ExecutorKind.INLINE
    return ExecutorKind.PROCESS


def resolve(
    request: ExecutorRequest, purpose: Purpose, machine: Machine, connection: Any = None
) -> Capacity:
    """The capacity of ``request`` on ``machine`` (or on the cluster of ``connection``)."""
    if request.kind is not ExecutorKind.AUTO:
        return backend(request.kind).capacity(request, purpose, machine, connection)
    if purpose is Purpose.OBJECTIVE:
        return BACKENDS[ExecutorKind.INLINE].capacity(request, purpose, machine)
    pooled = BACKENDS[ExecutorKind.PROCESS].capacity(request, purpose, machine)
    if resolved_kind(request, purpose, pooled.trials) is ExecutorKind.PROCESS:
        return pooled
    inline = BACKENDS[ExecutorKind.INLINE].capacity(request, purpose, machine)
    return dataclasses.replace(inline, notes=pooled.notes)
