"""A cell (one method on one dataset): its folder, its protocol and its recorded state.

``OUT/cells/<dataset>/<method>/`` holds the cell's sweep (``sweep/``, an ordinary sweep
directory), its retrained models (``retrain/rank<r>-seed<s>/``) and ``cell.json``: the protocol
the cell was run under (the method's options, the split's fingerprint, seeds, top_k,
retrain_on, bootstrap, level) with its digest, its state (``tuning`` -> ``retraining`` ->
``finished``), the selected rank and the compute spent. ``cell.json`` is written atomically
when the cell starts and after each phase.

A cell whose ``cell.json`` records another protocol is refused (one error naming the cell and
what changed) unless forced; forced, whatever the change invalidates is moved aside to
``OUT/replaced/<dataset>/<method>-<n>/`` (the whole cell when the method's options or the split
changed, its retrained models when ``retrain_on`` did) and the rest is kept: a model of rank r
and seed s is the same model whatever ``top_k`` and ``seeds`` are, and the statistics are
recomputed on every run.
"""

from __future__ import annotations

import enum
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.benchmarking.spec import canonical
from automl_vision.config.options import SweepOptions
from automl_vision.storage import write_atomically

__all__ = [
    "CELL_FILE",
    "Cell",
    "CellState",
    "ProtocolChangedError",
    "cell_protocol",
    "protocol_changes",
]

CELL_FILE = "cell.json"


class CellState(str, enum.Enum):
    """The phases a cell goes through, as written in ``cell.json``."""

    TUNING = "tuning"
    RETRAINING = "retraining"
    FINISHED = "finished"


class ProtocolChangedError(ValueError):
    """A cell already run under another protocol (force to re-run what changed)."""


def cell_protocol(
    options: dict[str, Any],
    *,
    split: str,
    seeds: int,
    top_k: int,
    retrain_on: str,
    bootstrap: int,
    level: float,
) -> dict[str, Any]:
    """The protocol of a cell as plain JSON data: the method's options as validated (a search
    space by its definition, not its file name) and the benchmark's protocol keys."""
    validated = SweepOptions(data="<benchmark>", **options)
    return {
        "method": canonical({name: getattr(validated, name) for name in sorted(options)}),
        "split": split,
        "seeds": seeds,
        "top_k": top_k,
        "retrain_on": retrain_on,
        "bootstrap": bootstrap,
        "level": level,
    }


def digest(protocol: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(protocol, sort_keys=True).encode()).hexdigest()[:16]


_WHAT = {
    "method": "the method's options",
    "split": "the dataset or its split (fingerprint)",
}


def protocol_changes(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two protocols, one short phrase each (none: the same protocol)."""
    out = []
    for key in now:
        old, new = before.get(key), now[key]
        if old == new:
            continue
        if key in _WHAT:
            out.append(_WHAT[key])
        else:
            out.append(f"{key} {old} -> {new}")
    return out


@dataclass(frozen=True)
class Cell:
    """One method on one dataset, in ``root`` (the benchmark's output folder)."""

    root: Path
    dataset: str
    method: str

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.method}"

    @property
    def folder(self) -> Path:
        return self.root / "cells" / self.dataset / self.method

    @property
    def sweep_dir(self) -> Path:
        return self.folder / "sweep"

    @property
    def retrain_dir(self) -> Path:
        return self.folder / "retrain"

    def model_dir(self, rank: int, seed: int) -> Path:
        return self.retrain_dir / f"rank{rank}-seed{seed}"

    def read(self) -> dict[str, Any] | None:
        """``cell.json`` (None before the cell started, or when it does not parse)."""
        try:
            record = json.loads((self.folder / CELL_FILE).read_text())
        except (OSError, ValueError):
            return None
        return (
            record
            if isinstance(record, dict) and isinstance(record.get("protocol"), dict)
            else None
        )

    def write(self, protocol: dict[str, Any], state: CellState, **facts: Any) -> None:
        """``cell.json`` with ``state`` and ``facts`` (compute, selected rank), atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "version": 1,
            "dataset": self.dataset,
            "method": self.method,
            "state": CellState(state).value,
            "protocol": protocol,
            "protocol_fingerprint": digest(protocol),
            "updated_at": time.time(),
            **facts,
        }
        write_atomically(self.folder / CELL_FILE, json.dumps(record, indent=1, default=str))

    def finished(self, protocol: dict[str, Any]) -> bool:
        record = self.read()
        return (
            record is not None
            and record.get("state") == CellState.FINISHED
            and record["protocol"] == protocol
        )

    def check(self, protocol: dict[str, Any], *, force: bool) -> None:
        """Refuse this cell if it was run under another protocol, unless ``force``; forced,
        move aside what the change invalidates (see the module docstring)."""
        record = self.read()
        if record is None:
            return
        changes = protocol_changes(record["protocol"], protocol)
        if not changes:
            return
        if not force:
            state = record.get("state", "started")
            raise ProtocolChangedError(
                f"cell {self.name} ({state}) was run under another protocol: "
                f"{', '.join(changes)} changed; run with force=True (--force) to re-run what "
                "that changes (the old results are moved to replaced/), or use another "
                "output_dir"
            )
        before = record["protocol"]
        state = record.get("state")
        state = CellState(state) if state in {s.value for s in CellState} else CellState.TUNING
        if before.get("method") != protocol["method"] or before.get("split") != protocol["split"]:
            self._move_aside(self.folder)
            return
        if before.get("retrain_on") != protocol["retrain_on"]:
            self._move_aside(self.retrain_dir)
        # seeds, top_k, bootstrap, level: every model already retrained stays valid
        self.write(protocol, CellState.RETRAINING if state == CellState.FINISHED else state)

    def _move_aside(self, path: Path) -> None:
        if not path.exists():
            return
        base = self.root / "replaced" / self.dataset
        base.mkdir(parents=True, exist_ok=True)
        n = 1
        while (base / f"{self.method}-{n}").exists():
            n += 1
        target = base / f"{self.method}-{n}"
        shutil.move(str(path), str(target))
