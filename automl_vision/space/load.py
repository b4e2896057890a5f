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

from automl_vision.space.errors import SearchSpaceError, short_repr
from automl_vision.space.image_classification import ImageClassificationSearchSpace

__all__ = [
    "MAX_YAML_VALUES",
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


#: the most values a YAML file may hold once its aliases are expanded: far above any sweep job,
#: far below what a few lines of nested aliases can build ("billion laughs")
MAX_YAML_VALUES = 100_000


def read_yaml(path: Path, what: str, error: type[ValueError] = ValueError) -> Any:
    """The parsed YAML file at ``path`` (read safely: no tags that build objects), or one
    ``error`` naming the file: it does not exist, is a folder or unreadable, is not YAML (or
    not UTF-8/16 text), nests too deeply, refers to itself, or its aliases expand to more
    than ``MAX_YAML_VALUES`` values."""
    if path.is_dir():
        raise error(f"{what} {str(path)!r} is a folder, not a YAML file")
    if not path.is_file():
        raise error(f"{what} {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_bytes())  # bytes: YAML's own UTF-8/16 detection
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise error(f"{path}: not valid YAML: {problem}{where}") from None
    except (RecursionError, MemoryError):
        raise error(f"{path}: not usable YAML: it is nested too deeply") from None
    except OSError as err:
        raise error(f"{what} {str(path)!r} cannot be read: {err.strerror or err}") from None
    except Exception as err:  # PyYAML's own constructors fail on some tagged values (!!int '')
        raise error(
            f"{path}: not valid YAML: a tagged value cannot be read ({type(err).__name__}: "
            f"{short_repr(str(err))})"
        ) from None
    problem = _size_problem(data)
    if problem:
        raise error(f"{path}: not usable YAML: {problem}")
    return data


def _size_problem(data: Any) -> str:
    """Why parsed YAML is unusable ("" when it is fine): it refers to itself (an alias inside
    its own anchor), or it holds more than ``MAX_YAML_VALUES`` values with aliases expanded.
    Shared nodes are counted once per use but visited once, so the count costs no more than
    the file's own size."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise _SelfReference
        open_.add(key)
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_YAML_VALUES:
                break
        open_.discard(key)
        sizes[key] = total
        return total

    try:
        total = size(data)
    except _SelfReference:
        return "a value refers to itself (an alias inside its own anchor)"
    except RecursionError:
        return "it is nested too deeply"
    if total > MAX_YAML_VALUES:
        return (
            f"it holds more than {MAX_YAML_VALUES} values once its aliases are expanded "
            "(nested YAML aliases)"
        )
    return ""


class _SelfReference(Exception):
    """A parsed YAML value contains itself."""


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
        raise SearchSpaceError(
            f"{where}: expected a non-empty list of search spaces, got {short_repr(data)}"
        )
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
