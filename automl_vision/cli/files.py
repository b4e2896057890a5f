"""Commands about search-space and sweep-job files: ``spaces`` (the preset search spaces, or one
of them) and ``validate`` (check a search-space or sweep-job YAML file).

``validate`` reads a sweep job exactly as ``tune -c`` does (``SweepSpec.job_options``) and, when
the job names its data, plans it as ``tune --dry-run`` does (``plan_sweep(dry_run=True)``: the
data, the metric for its task, the sizes against this machine, the training options), so what
``tune`` would refuse before training, ``validate`` refuses with the same line; nothing is
written. A job without ``training_data`` (given later with ``--data``) gets every check that
needs no data.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from automl_vision.config.spec import SweepSpec
from automl_vision.planning.plan import plan_sweep
from automl_vision.space import load_search_space, preset_names
from automl_vision.space.load import read_yaml

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    p = sub.add_parser("spaces", help="list the preset search spaces, or show one")
    p.add_argument("name", nargs="?", help="preset name or YAML file")
    p.set_defaults(func=_spaces)

    p = sub.add_parser("validate", help="check a search-space or sweep-job YAML file")
    p.add_argument("path")
    p.set_defaults(func=_validate)


def _spaces(args: argparse.Namespace) -> int:
    if not args.name:
        for name in preset_names():
            print(name)
        return 0
    for i, space in enumerate(load_search_space(args.name)):
        print(f"search_space[{i}]:")
        for field, value in space.to_dict().items():
            print(f"  {field}: {value}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    path = Path(args.path)
    data = read_yaml(path, "file")
    if isinstance(data, dict) and set(data) - {"search_space"}:
        return _validate_job(path)
    spaces = load_search_space(path)
    print(f"{path}: {len(spaces)} valid search space(s)")
    return 0


def _validate_job(path: Path) -> int:
    """A sweep job: its options as ``tune -c`` reads them, then, with its data, its plan."""
    options = SweepSpec.job_options(path)
    spaces = len(options.get("search_space") or ())
    if options.get("data") is None:
        # every option's own check; the data (and what depends on it) waits for --data
        SweepSpec(**{**options, "data": path.parent})
        print(
            f"{path}: a valid sweep job ({spaces} search space(s)); it names no training_data, "
            "so the checks that need the data run when tune is given --data"
        )
        return 0
    plan = plan_sweep(SweepSpec(**options), dry_run=True)
    print(
        f"{path}: a valid sweep job ({len(plan.spaces)} search space(s)), planned on its data "
        f"as tune --dry-run does ({plan.dataset.task.value}, {len(plan.dataset.images)} images)"
    )
    return 0
