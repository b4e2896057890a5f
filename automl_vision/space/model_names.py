"""Model names: Azure AutoML-for-Images names mapped to timm architectures, or any timm name.

Azure's names are checked without importing anything; any other name is looked up in timm's
registry, which imports timm (and torch) lazily, only when such a name is validated.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

__all__ = ["AZURE_MODELS", "canonical_model_name", "model_name_problem", "timm_model_name"]

# Azure AutoML-for-Images classification model names -> timm architectures.
AZURE_MODELS: dict[str, str] = {
    "mobilenetv2": "mobilenetv2_100",
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "resnet101": "resnet101",
    "resnet152": "resnet152",
    "resnest50": "resnest50d",
    "resnest101": "resnest101e",
    "seresnext": "seresnext50_32x4d",
    "vits16r224": "vit_small_patch16_224",
    "vitb16r224": "vit_base_patch16_224",
    "vitl16r224": "vit_large_patch16_224",
}


def timm_model_name(name: str) -> str:
    """The timm architecture for an Azure or timm name: ``seresnext`` -> ``seresnext50_32x4d``."""
    return AZURE_MODELS.get(name.strip().lower(), name.strip())


def canonical_model_name(name: str) -> str:
    """Azure names in lower case (``ResNet50`` -> ``resnet50``); timm names as given."""
    key = name.strip().lower()
    return key if key in AZURE_MODELS else name.strip()


@functools.lru_cache(maxsize=1)
def _timm_names() -> tuple[str, ...]:
    import timm  # lazy: timm (and torch) only for a model name Azure does not list

    return tuple(timm.list_models())


def _is_timm_model(name: str) -> bool:
    import timm  # lazy: timm (and torch) only for a model name Azure does not list

    return bool(timm.is_model(name))


#: names longer than this get no close-match suggestions (none is close; matching is costly)
_SUGGEST_MAX_LEN = 100


def model_name_problem(name: Any, *, suggest: bool = True) -> str:
    """'' when ``name`` is a usable model name, else why not (``suggest``: with close
    matches)."""
    if not isinstance(name, str) or not name.strip():
        return "is not a model name"
    if name.strip().lower() in AZURE_MODELS or _is_timm_model(name.strip()):
        return ""
    key = name.strip().lower()
    if not suggest or len(key) > _SUGGEST_MAX_LEN:
        return "is not a known model"
    close = difflib.get_close_matches(key, list(AZURE_MODELS), n=3, cutoff=0.6)
    close += [
        m for m in difflib.get_close_matches(key, _timm_names(), n=5, cutoff=0.6) if m not in close
    ]
    hint = f" (did you mean {', '.join(repr(c) for c in close[:5])}?)" if close else ""
    return f"is not a known model{hint}"
