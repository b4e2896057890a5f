"""What this process may use of the machine it runs on (no project imports)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["available_cpus", "cpu_name"]

_CPUINFO = Path("/proc/cpuinfo")


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity where the OS tells it, else the count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def cpu_name(cpuinfo: Path = _CPUINFO) -> str:
    """The CPU's model as the OS names it: the first ``model name`` of ``/proc/cpuinfo`` on
    Linux, else ``platform.processor()``, else the architecture (``x86_64``)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
