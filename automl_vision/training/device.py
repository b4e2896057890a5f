"""Which devices a training run uses, and what each one supports."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["DeviceSpec", "resolve_devices", "supports_bf16"]

DeviceSpec = str | torch.device | Sequence[str | torch.device]


def resolve_devices(device: DeviceSpec, *, distributed: bool) -> list[torch.device]:
    """The devices for one run.

    ``"auto"``: every visible GPU when ``distributed`` (one otherwise), else the CPU. A single
    name (``"cpu"``, ``"cuda"``, ``"cuda:1"``) or ``torch.device``: that device. A list: those
    devices, one process each (``["cpu", "cpu"]`` runs two CPU processes). With
    ``distributed=False`` only the first device of a list is used.
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        if torch.cuda.is_available():
            count = torch.cuda.device_count() if distributed else 1
            devices = [torch.device("cuda", i) for i in range(count)]
        else:
            devices = [torch.device("cpu")]
    elif isinstance(device, (str, torch.device)):
        devices = [_one(device)]
    else:
        devices = [_one(d) for d in device]
        if not devices:
            raise ValueError("device=[] names no device")
    if len({d.type for d in devices}) > 1:
        raise ValueError(f"devices {devices} mix device types; give CPUs or GPUs, not both")
    cuda = [d for d in devices if d.type == "cuda"]
    if cuda and not torch.cuda.is_available():
        raise ValueError(f"device {cuda[0]} asked for, but CUDA is not available here")
    if len(cuda) != len({d.index for d in cuda}):
        raise ValueError(f"devices {devices} name the same GPU twice")
    return devices if distributed else devices[:1]


def _one(device: str | torch.device) -> torch.device:
    try:
        d = torch.device(device.strip() if isinstance(device, str) else device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a device name: {err}") from None
    if d.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r}: only 'cpu' and 'cuda' devices are supported")
    if d.type == "cuda" and d.index is None:
        d = torch.device("cuda", 0)
    return d


def supports_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast is used on ``device`` (CUDA with bf16 support)."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()
