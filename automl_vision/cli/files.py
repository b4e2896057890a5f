"""Commands about search-space and sweep-job files: ``spaces`` (the preset search spaces, or one
of them) and ``validate`` (check a search-space or sweep-job YAML file)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from automl_vision.config.job import load_sweep_job
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
    data = read_yaml(path, "file") if path.is_file() else None
    if isinstance(data, dict) and set(data) - {"search_space"}:
        job = load_sweep_job(path)
        spaces = job.spaces() or []
        print(f"{path}: a valid sweep job ({len(spaces)} search space(s))")
        return 0
    spaces = load_search_space(path)
    print(f"{path}: {len(spaces)} valid search space(s)")
    return 0
