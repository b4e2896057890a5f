"""Loading search spaces from YAML files, mappings and the bundled presets.

Accepted shapes (Azure CLI v2): a mapping with a ``search_space:`` list (a whole sweep job is
fine: only that key is read), a list of space mappings, or one space mapping. Values are fixed
values, distribution strings (``"choice('a', 'b')"``) or ``{type: ..., ...}`` mappings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from automl_vision.space.errors import SearchSpaceError
from automl_vision.space.image_classification import ImageClassificationSearchSpace

__all__ = [
    "format_validation_error",
    "load_search_space",
    "preset_names",
    "preset_path",
    "read_yaml",
    "search_space_from_data",
]


def format_validation_error(err: ValidationError, where: str = "") -> str:
    """One line per problem, ``where: field: message``, without pydantic's boilerplate.

    Messages that already start with the field's name (ours do) are not prefixed twice.
    """
    lines = []
    for e in err.errors(include_url=False):
        msg = str(e["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in e["loc"])
        field = str(e["loc"][-1]) if e["loc"] else ""
        if loc and not (field and msg.startswith(field)):
            msg = f"{loc}: {msg}"
        lines.append(f"{where}: {msg}" if where else msg)
    return "\n".join(lines)


def read_yaml(path: Path, what: str, error: type[ValueError] = ValueError) -> Any:
    """The parsed YAML file at ``path`` (read safely: no tags that build objects), or one
    ``error`` naming the file: it does not exist, or it is not YAML."""
    if not path.is_file():
        raise error(f"{what} {str(path)!r} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise error(f"{path}: not valid YAML: {problem}{where}") from None


def _presets_dir() -> Path:
    """The presets: the package resource ``automl_vision/search_spaces``, found one way.

    The top-level ``search_spaces/`` folder is their one source: in a clone (and an editable
    install) ``automl_vision/search_spaces`` is a symlink to it; the wheel build follows the
    link and ships the files there.
    """
    path = Path(str(resources.files("automl_vision") / "search_spaces"))
    if not path.is_dir():
        raise SearchSpaceError(
            f"the preset search spaces are missing: {path} is not a folder (in a clone it is a "
            "symlink to search_spaces/: check out with symlinks, git's core.symlinks=true)"
        )
    return path


def preset_names() -> list[str]:
    """Names of the bundled preset spaces (``search_spaces/<name>.yaml``)."""
    return sorted(p.stem for p in _presets_dir().glob("*.yaml"))


def preset_path(name: str) -> Path:
    path = _presets_dir() / f"{name}.yaml"
    if not path.is_file():
        raise SearchSpaceError(
            f"no preset search space named {name!r}; presets: {', '.join(preset_names())}"
        )
    return path


def search_space_from_data(
    data: Any, where: str = "search_space"
) -> list[ImageClassificationSearchSpace]:
    """Spaces from parsed YAML: ``{search_space: [...]}``, a list of mappings, or one mapping."""
    if isinstance(data, Mapping) and "search_space" in data:
        data = data["search_space"]
    elif isinstance(data, ImageClassificationSearchSpace):
        return [data]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, Sequence) or isinstance(data, str) or not data:
        raise SearchSpaceError(f"{where}: expected a non-empty list of search spaces, got {data!r}")
    spaces = []
    for i, item in enumerate(data):
        if isinstance(item, ImageClassificationSearchSpace):
            spaces.append(item)
            continue
        try:
            spaces.append(ImageClassificationSearchSpace.model_validate(item))
        except ValidationError as err:
            raise SearchSpaceError(format_validation_error(err, f"{where}[{i}]")) from None
    return spaces


def load_search_space(
    source: str | Path | Mapping[str, Any] | Sequence[Any],
) -> list[ImageClassificationSearchSpace]:
    """Load a sweep's search space (a list of spaces) from a preset name, a YAML file or data.

    >>> spaces = load_search_space("default")
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        is_file_like = path.suffix in (".yaml", ".yml") or path.exists() or len(path.parts) > 1
        if not is_file_like:
            path = preset_path(str(source))
        data = read_yaml(path, "search space file", SearchSpaceError)
        try:
            return search_space_from_data(data)
        except SearchSpaceError as err:
            raise SearchSpaceError(f"{path}: {err}") from None
    return search_space_from_data(source)
