"""``automl-vision`` command line: a thin layer over the library.

Every user error exits with status 2 and one clear message on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from automl_vision.space import as_parameter_spaces, load_search_space, preset_names


def _cmd_spaces(args: argparse.Namespace) -> int:
    if not args.name:
        for name in preset_names():
            print(name)
        return 0
    for i, space in enumerate(load_search_space(args.name)):
        print(f"search_space[{i}]:")
        for field, value in space.to_dict().items():
            print(f"  {field}: {value}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    spaces = load_search_space(args.path)
    print(f"{args.path}: {len(spaces)} valid search space(s)")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """Show the search-space language end to end: load a preset, sample configurations."""
    name = args.space
    spaces = as_parameter_spaces(load_search_space(name))
    print(f"preset {name!r}: {len(spaces)} space(s)")
    for i, space in enumerate(spaces):
        print(f"  search_space[{i}]: {space.to_dict()}")
    print(f"\n{args.trials} configurations drawn with seed {args.seed}:")
    for trial in range(args.trials):
        rng = np.random.default_rng([args.seed, trial])
        space = spaces[int(rng.integers(len(spaces)))]
        config = space.sample(rng)
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in config.items()
        )
        print(f"  trial {trial}: {shown}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automl-vision", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("spaces", help="list the preset search spaces, or show one")
    p.add_argument("name", nargs="?", help="preset name or YAML file")
    p.set_defaults(func=_cmd_spaces)

    p = sub.add_parser("validate", help="check a search-space or sweep-job YAML file")
    p.add_argument("path")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo", help="run the demo")
    p.add_argument("--space", default="default", help="preset name or YAML file")
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValueError as err:  # every invalid input of the library is a ValueError
        print(f"automl-vision: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
