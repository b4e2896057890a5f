"""Text and mapping forms of distributions.

Text: ``"uniform(0.001, 0.01)"``, ``"choice('resnet50', 'vitb16r224')"``, ``"choice([16, 32])"``,
keyword arguments (``"quniform(min_value=16, max_value=64, q=16)"``) and the SDK's capitalised
names (``"QUniform(...)"``). Mapping: Azure CLI v2's
``{type: uniform, min_value: .., max_value: ..}`` and ``{type: choice, values: [..]}``.
Parsing never evaluates code: arguments must be literals.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping
from typing import Any

from automl_vision.space.distributions import DISTRIBUTIONS, Distribution, choice
from automl_vision.space.errors import DistributionError, short_repr

__all__ = ["looks_like_distribution", "parse_distribution"]

_CALL = re.compile(r"^\s*[A-Za-z_][A-Za-z_0-9]*\s*\(")


def looks_like_distribution(text: str) -> bool:
    """True for strings that start like a call, ``name(``: those are parsed, never fixed values."""
    return bool(_CALL.match(text))


def _signature(name: str) -> str:
    if name == "choice":
        return "choice(option, ...) or choice([option, ...])"
    return f"{name}({', '.join(DISTRIBUTIONS[name].arg_names)})"


def _lookup(name: str, source: str) -> type[Distribution]:
    cls = DISTRIBUTIONS.get(name.lower())
    if cls is None:
        close = difflib.get_close_matches(name.lower(), DISTRIBUTIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DistributionError(
            f"unknown distribution {short_repr(name)} in {short_repr(source)}{hint} Known: "
            + ", ".join(DISTRIBUTIONS)
        )
    return cls


def _build(
    cls: type[Distribution], args: list[Any], kwargs: dict[str, Any], source: str
) -> Distribution:
    if cls is choice:
        if kwargs and set(kwargs) != {"values"}:
            raise DistributionError(
                f"{short_repr(source)}: choice takes only options or values=[...]"
            )
    else:
        unknown = set(kwargs) - set(cls.arg_names)
        if unknown:
            raise DistributionError(
                f"{short_repr(source)}: unknown argument(s) {', '.join(sorted(unknown))}; "
                f"expected {_signature(cls.name)}"
            )
        given = len(args) + len(kwargs)
        if given != len(cls.arg_names) or any(a in kwargs for a in cls.arg_names[: len(args)]):
            raise DistributionError(
                f"{short_repr(source)}: expected {_signature(cls.name)}, got {given} argument(s)"
            )
    try:
        return cls(*args, **kwargs)
    except DistributionError as err:
        raise DistributionError(f"{short_repr(source)}: {err}") from None
    except TypeError as err:  # e.g. an unhashable literal
        raise DistributionError(f"{short_repr(source)}: {err}") from None


#: YAML/JSON spellings of the constants, accepted inside a distribution's text
_YAML_CONSTANTS = {"true": True, "false": False, "null": None, "none": None}


class _YamlConstants(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id.lower() in _YAML_CONSTANTS:
            return ast.copy_location(ast.Constant(_YAML_CONSTANTS[node.id.lower()]), node)
        return node


def _literal(node: ast.expr) -> Any:
    """A literal argument; ``true``/``false``/``null`` (YAML, JSON) read as Python's."""
    return ast.literal_eval(_YamlConstants().visit(node))


def _parse_text(text: str) -> Distribution:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise DistributionError(
            f"cannot parse distribution {short_repr(text)}: {err.msg}"
        ) from None
    except (MemoryError, RecursionError):  # the parser's own limits: nested too deeply
        raise DistributionError(
            f"cannot parse distribution {short_repr(text)}: it is nested too deeply"
        ) from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise DistributionError(
            f"cannot parse distribution {short_repr(text)}: expected name(arguments), "
            "e.g. 'uniform(0.001, 0.1)'"
        )
    cls = _lookup(node.func.id, text)
    try:
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise DistributionError(
            f"cannot parse distribution {short_repr(text)}: arguments must be literal numbers, "
            "strings, booleans or lists"
        ) from None
    if any(k.arg is None for k in node.keywords) or any(
        isinstance(a, ast.Starred) for a in node.args
    ):
        raise DistributionError(
            f"cannot parse distribution {short_repr(text)}: no * or ** arguments"
        )
    return _build(cls, args, kwargs, text)


def _parse_mapping(data: Mapping[str, Any]) -> Distribution:
    if "type" not in data:
        raise DistributionError(f"distribution mapping {short_repr(dict(data))} has no 'type' key")
    cls = _lookup(str(data["type"]), str(dict(data)))
    kwargs = {str(k): v for k, v in data.items() if k != "type"}
    if cls is choice:
        if set(kwargs) != {"values"} or not isinstance(kwargs["values"], (list, tuple)):
            raise DistributionError(
                f"distribution mapping {short_repr(dict(data))}: choice needs "
                "'values: [option, ...]'"
            )
        return _build(cls, [], kwargs, str(dict(data)))
    missing = [a for a in cls.arg_names if a not in kwargs]
    if missing:
        raise DistributionError(
            f"distribution mapping {short_repr(dict(data))}: missing {', '.join(missing)}; "
            f"{cls.name} needs {', '.join(cls.arg_names)}"
        )
    return _build(cls, [], kwargs, str(dict(data)))


def parse_distribution(spec: str | Mapping[str, Any] | Distribution) -> Distribution:
    """Parse a distribution from its text form or Azure's mapping form.

    >>> parse_distribution("uniform(0.001, 0.01)")
    uniform(0.001, 0.01)
    >>> parse_distribution({"type": "choice", "values": ["a", "b"]})
    choice('a', 'b')
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, str):
        return _parse_text(spec)
    if isinstance(spec, Mapping):
        return _parse_mapping(spec)
    raise DistributionError(
        f"cannot parse a distribution from {short_repr(spec)} ({type(spec).__name__}): "
        "give a string like 'uniform(0, 1)' or a mapping with a 'type' key"
    )
