"""``benchmark(...)``: every method on every dataset under one protocol, then the leaderboard.

The run, in order:

1. the spec is validated (``spec.py``) and the output folder locked (one benchmark at a time);
2. each dataset is read once and its split fixed (``splits.py``);
3. every cell's protocol is compared with its ``cell.json``: a change is refused, for all
   cells at once and before anything is written, unless ``force`` (``cells.py``);
4. ``benchmark.json`` (the spec as run and each cell's protocol digest) and each dataset's
   ``split.json`` are written;
5. the cells run in order, dataset by dataset, method by method (``protocol.py``); a finished
   cell is read back;
6. the statistics (``board.py``) give the ``Leaderboard``, written with its plots and the
   HTML report.

Output folder::

    OUT/benchmark.json                       the spec as run, each cell's protocol digest
    OUT/leaderboard.{json,csv,md}            the leaderboard (reporting/leaderboard.py)
    OUT/plots/*.png, OUT/report.html
    OUT/datasets/<dataset>/split.json        the fixed split
    OUT/cells/<dataset>/<method>/sweep/      an ordinary sweep directory
    OUT/cells/<dataset>/<method>/retrain/rank<r>-seed<s>/   a retrained model, its
                                             result.json and test_probs.npy
    OUT/cells/<dataset>/<method>/cell.json   protocol, state, selected rank, compute
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_vision.benchmarking.board import build_leaderboard
from automl_vision.benchmarking.cells import Cell, ProtocolChangedError, cell_protocol, digest
from automl_vision.benchmarking.protocol import CellRun, run_cell
from automl_vision.benchmarking.spec import BenchmarkSpec, canonical
from automl_vision.benchmarking.splits import FixedSplit, fix_split
from automl_vision.dashboard.benchmark import write_benchmark_report
from automl_vision.reporting.announce import announce
from automl_vision.reporting.benchmark_plots import write_benchmark_plots
from automl_vision.reporting.leaderboard import Leaderboard
from automl_vision.storage import check_writable, write_atomically
from automl_vision.store.lock import SweepLock

__all__ = ["BENCHMARK_FILE", "BenchmarkResult", "benchmark", "run_benchmark"]

log = logging.getLogger("automl_vision.benchmarking")

BENCHMARK_FILE = "benchmark.json"


@dataclass
class BenchmarkResult:
    """What a benchmark produced: its ``leaderboard`` (``rows``: one per dataset × method ×
    metric with ``mean``, ``ci_low``, ``ci_high``, ``n_seeds``) and the folder holding
    everything (``output_dir``)."""

    leaderboard: Leaderboard
    output_dir: Path

    def __str__(self) -> str:
        board = self.leaderboard
        lines = []
        for dataset, metric in board.primary_metric.items():
            lines.append(f"{dataset} ({metric}, mean and {_level(board)} interval over seeds "
                         "and test images):")  # fmt: skip
            for row in board.rows:
                if row.dataset == dataset and row.metric == metric:
                    lines.append(
                        f"  {row.method}: {row.mean:.4f} [{row.ci_low:.4f}, {row.ci_high:.4f}] "
                        f"({row.n_seeds} seeds)"
                    )
        lines.append(f"outputs: {self.output_dir}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"BenchmarkResult({str(self)!r})"


def _level(board: Leaderboard) -> str:
    level = board.protocol.get("level", 0.95)
    return f"{100 * float(level):g}%"


def benchmark(
    spec: BenchmarkSpec | str | Path | None = None,
    *,
    datasets: dict[str, Any] | None = None,
    methods: dict[str, dict[str, Any]] | None = None,
    seeds: int | None = None,
    top_k: int | None = None,
    output_dir: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    **keys: Any,
) -> BenchmarkResult:
    """Run a benchmark: every method tuned on every dataset's train/validation split, its
    ``top_k`` configurations retrained with ``seeds`` seeds and scored on a test split tuning
    never saw; return the leaderboard.

    ``spec``: a ``BenchmarkSpec`` or a YAML file with its keys; the keywords win over it.
    ``datasets``: ``{name: data}`` (a path, ``(images, labels)`` arrays, or a mapping with
    ``data``, ``test_data``, ``validation_data``, ``task``, ...); ``methods``: ``{name: {tune
    keyword options}}``; ``seeds`` (K, default 3), ``top_k`` (default 1), ``output_dir``
    (default ``runs/benchmark-<digest>``) and the other keys of ``BenchmarkSpec``
    (``retrain_on``, ``test_size``, ``validation_size``, ``split_seed``, ``bootstrap``,
    ``level``). A killed benchmark run again resumes: finished cells and models are kept.
    ``force``: run cells whose protocol changed (what the change invalidates is moved to
    ``OUT/replaced/``) instead of refusing them. ``progress``: each phase as a line on
    standard error and tune's progress display (else only log records).
    """
    given = {"datasets": datasets, "methods": methods, "seeds": seeds, "top_k": top_k,
             "output_dir": output_dir, **keys}  # fmt: skip
    given = {k: v for k, v in given.items() if v is not None}
    if isinstance(spec, (str, Path)):
        spec = BenchmarkSpec.from_yaml(spec, **given)
    elif isinstance(spec, BenchmarkSpec):
        spec = spec.replace(**given) if given else spec
    elif spec is None:
        spec = BenchmarkSpec(**given)
    else:
        raise TypeError(f"spec must be a BenchmarkSpec or a YAML path, got {type(spec).__name__}")
    return run_benchmark(spec, force=force, progress=progress)


def run_benchmark(
    spec: BenchmarkSpec, *, force: bool = False, progress: bool = True
) -> BenchmarkResult:
    """Run a validated spec (see the module docstring)."""

    def say(line: str) -> None:
        if progress:
            announce(line)
        else:
            log.info("%s", line)

    out = Path(os.path.abspath(spec.resolved_output_dir()))
    created = not out.exists()
    check_writable(out)
    lock = SweepLock(out).acquire()
    try:
        splits = _splits(spec, say)
        protocols = _protocols(spec, splits)
        cells = {key: Cell(out, *key) for key in protocols}
        refused = []
        for key, cell in cells.items():
            try:
                cell.check(protocols[key], force=False)
            except ProtocolChangedError as err:
                refused.append(str(err))
        if refused and not force:
            raise ProtocolChangedError("\n".join(refused))
        for key, cell in cells.items():
            cell.check(protocols[key], force=force)
        _record(out, spec, splits, protocols)
        runs: dict[str, list[CellRun]] = {name: [] for name in spec.datasets}
        for (dataset, method), cell in cells.items():
            runs[dataset].append(
                run_cell(
                    cell,
                    splits[dataset],
                    spec.methods[method],
                    protocols[(dataset, method)],
                    seeds=spec.seeds,
                    top_k=spec.top_k,
                    retrain_on=spec.retrain_on,
                    progress=progress,
                    say=say,
                )
            )
        say("statistics: bootstrap over the test images and the seeds")
        board = build_leaderboard(
            splits,
            runs,
            bootstrap=spec.bootstrap,
            level=spec.level,
            protocol=_protocol_keys(spec, splits),
        )
        board.write(out)
        write_benchmark_plots(board, out)
        report = write_benchmark_report(out)
        say(f"leaderboard: {out / 'leaderboard.md'}; report: {report}")
        return BenchmarkResult(board, out)
    except BaseException:
        if created and [p.name for p in out.iterdir()] == [lock.path.name]:
            # refused before anything was written: leave nothing behind
            lock.release()
            lock.path.unlink(missing_ok=True)
            out.rmdir()
        raise
    finally:
        lock.release()


def _splits(spec: BenchmarkSpec, say: Any) -> dict[str, FixedSplit]:
    out = {}
    for name, dataset in spec.datasets.items():
        try:
            split = fix_split(
                name,
                dataset,
                test_size=spec.test_size,
                validation_size=spec.validation_size,
                seed=spec.split_seed,
            )
        except ValueError as err:
            message = str(err)
            raise ValueError(
                message if message.startswith(f"datasets.{name}") else f"datasets.{name}: {message}"
            ) from None
        say(
            f"dataset {name}: {split.task.value}, {len(split.class_names)} classes; split "
            f"{len(split.train)} train / {len(split.validation)} validation / {len(split.test)} "
            f"test (fingerprint {split.fingerprint[:12]})"
        )
        out[name] = split
    return out


def _protocols(
    spec: BenchmarkSpec, splits: dict[str, FixedSplit]
) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (dataset, method): cell_protocol(
            options,
            split=splits[dataset].fingerprint,
            seeds=spec.seeds,
            top_k=spec.top_k,
            retrain_on=spec.retrain_on.value,
            bootstrap=spec.bootstrap,
            level=spec.level,
        )
        for dataset in spec.datasets
        for method, options in spec.methods.items()
    }


def _protocol_keys(spec: BenchmarkSpec, splits: dict[str, FixedSplit]) -> dict[str, Any]:
    """The protocol as the leaderboard records it."""
    return {
        "seeds": spec.seeds,
        "top_k": spec.top_k,
        "retrain_on": spec.retrain_on.value,
        "test_size": spec.test_size,
        "validation_size": spec.validation_size,
        "split_seed": spec.split_seed,
        "bootstrap": spec.bootstrap,
        "level": spec.level,
        "splits": {name: split.fingerprint for name, split in splits.items()},
    }


def _record(
    out: Path,
    spec: BenchmarkSpec,
    splits: dict[str, FixedSplit],
    protocols: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """``benchmark.json`` and every ``split.json``."""
    datasets = {
        name: {key: _shown(value) for key, value in d.model_dump().items()}
        for name, d in spec.datasets.items()
    }
    keys = {k: v for k, v in spec.keys().items() if k != "datasets"}
    record = {
        "version": 1,
        "spec": {**canonical(keys), "datasets": datasets, "output_dir": str(out)},
        "cells": {f"{d}/{m}": digest(p) for (d, m), p in protocols.items()},
        "splits": {name: split.fingerprint for name, split in splits.items()},
    }
    write_atomically(out / BENCHMARK_FILE, json.dumps(record, indent=1, default=str))
    for name, split in splits.items():
        split.write(out / "datasets" / name)


def _shown(value: Any) -> Any:
    """A dataset key as ``benchmark.json`` shows it: paths as text, arrays as "arrays"."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Path):
        return str(value)
    return getattr(value, "value", "arrays")
