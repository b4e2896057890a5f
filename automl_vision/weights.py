"""Pretrained (ImageNet) weights: where they are found locally, and how they are fetched.

``pretrained`` (a ``TrainingConfig`` option) is one of:

==============  =================================================================================
value           meaning
==============  =================================================================================
``"auto"``      (the default) fine-tune from ImageNet weights when they are on this machine, else
                start from a random initialization (the sweep warns once, naming the models)
``True``        the weights are required: a model without local weights is an error, raised
                when the sweep is planned, before any trial starts
``False``       random initialization
a file          a checkpoint (timm's, or a ``best.safetensors`` of this project) loaded into the
                model,
                tensors whose shapes differ (the classifier) left as initialized
a folder        a weights folder (see below), required like ``True``
==============  =================================================================================

Where weights are looked for, in order (``find_weights``):

1. a weights folder: the folder given as ``pretrained``, else ``$AUTOML_VISION_WEIGHTS_DIR``:
   ``<name>.safetensors`` / ``.pth`` / ``.pt`` / ``.bin`` with ``<name>`` the timm architecture
   (``resnet50``), its pretrained tag (``resnet50.a1_in1k``) or the model name as given
   (``seresnext``);
2. the Hugging Face hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
   ``~/.cache/huggingface/hub``): the model's ``hf_hub_id`` in timm's pretrained config, as
   ``models--<org>--<name>/snapshots/<commit>/model.safetensors`` (or ``pytorch_model.bin``)
   with ``refs/main`` naming the commit — the layout ``huggingface_hub`` writes and reads;
3. torch hub's checkpoint folder (``torch.hub.get_dir()/checkpoints``), where timm's older
   URL downloads go.

Found weights are loaded through timm's own loader: ``timm.create_model(name, pretrained=True,
pretrained_cfg_overlay={"file": path})``, which adapts the checkpoint to the model
(``checkpoint_filter_fn``) and replaces the classifier when the class count differs. Nothing is
downloaded during training. ``fetch_weights`` (``automl-vision weights fetch``) downloads
through ``huggingface_hub`` with short timeouts, so that a machine without network fails within
seconds (``hub_unreachable`` tries one TCP connection to the hub first: ``huggingface_hub``
itself retries for about a minute).
"""

from __future__ import annotations

import enum
import os
import shutil
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from automl_vision.space.model_names import timm_model_name

__all__ = [
    "FETCH_TIMEOUT_S",
    "CachedWeights",
    "MissingWeightsError",
    "MissingWeightsWarning",
    "PretrainedMode",
    "WeightsLookup",
    "cached_weights",
    "fetch_command",
    "fetch_weights",
    "find_weights",
    "hub_cache_dir",
    "hub_unreachable",
    "parse_pretrained",
]

FETCH_TIMEOUT_S = 10
WEIGHTS_DIR_ENV = "AUTOML_VISION_WEIGHTS_DIR"
SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
HUB_FILES = ("model.safetensors", "pytorch_model.bin")


def hub_unreachable(timeout_s: float) -> str | None:
    """None when the hub accepts connections; else why not (offline mode, no route, ...)."""
    from huggingface_hub import constants  # lazy: huggingface_hub only when the hub is asked about

    if constants.is_offline_mode():
        return "HF_HUB_OFFLINE is set"
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return None
    except OSError as err:
        return f"no network: {url.hostname}:{port} unreachable ({err})"


class PretrainedMode(str, enum.Enum):
    AUTO = "auto"
    REQUIRED = "true"
    OFF = "false"

    def __str__(self) -> str:
        return self.value


class MissingWeightsWarning(UserWarning):
    """``pretrained="auto"`` and some models have no local weights: they start from scratch."""


class MissingWeightsError(ValueError):
    """``pretrained=True`` and a model has no local weights."""


def parse_pretrained(value: Any) -> PretrainedMode | Path:
    """``"auto"``/True/False (also as text: ``true``, ``false``, ``yes``, ``no``) or a path."""
    if isinstance(value, PretrainedMode):
        return value
    if isinstance(value, bool):
        return PretrainedMode.REQUIRED if value else PretrainedMode.OFF
    if isinstance(value, str):
        text = value.strip().lower()
        words = {"auto": "auto", "true": "true", "yes": "true", "false": "false", "no": "false"}
        if text in words:
            return PretrainedMode(words[text])
    if isinstance(value, (str, Path)):
        path = Path(value).expanduser()
        if not path.exists():
            raise ValueError(
                f"pretrained={str(value)!r}: no such checkpoint file or weights folder (allowed: "
                "'auto', true, false, a checkpoint file or a weights folder)"
            )
        return path
    raise ValueError(
        f"pretrained={value!r} must be 'auto', true, false, a checkpoint file or a weights folder"
    )


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _pretrained_cfg(timm_name: str) -> Any:
    import timm  # lazy: timm (and torch) only when weights are fetched or named

    return timm.models.get_pretrained_cfg(timm_name)


def fetch_command(models: Iterable[str]) -> str:
    return "automl-vision weights fetch " + " ".join(sorted(set(models)))


@dataclass(frozen=True)
class WeightsLookup:
    """Where the weights of ``model`` were looked for, and the file found (None: none)."""

    model: str
    timm_name: str
    path: Path | None
    searched: tuple[str, ...]

    @property
    def found(self) -> bool:
        return self.path is not None

    def missing_error(self) -> MissingWeightsError:
        return MissingWeightsError(
            f"pretrained=True but model {self.model!r} ({self.timm_name}) has no pretrained "
            f"weights on this machine; looked in: {'; '.join(self.searched)}. Fetch them with "
            f"`{fetch_command([self.model])}` (needs network), give pretrained=<folder or file>, "
            "or use pretrained='auto' / false"
        )


def _names(model: str, timm_name: str, cfg: Any) -> list[str]:
    names = [timm_name, model]
    if cfg is not None and getattr(cfg, "tag", None):
        names.insert(1, f"{cfg.architecture}.{cfg.tag}")
    return list(dict.fromkeys(names))


def _hub_repo(cfg: Any) -> tuple[str, str | None] | None:
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        return None
    repo, _, revision = hub_id.partition("@")
    return repo, revision or None


def _in_hub_cache(cfg: Any, cache: Path) -> Path | None:
    repo = _hub_repo(cfg)
    if repo is None or not cache.is_dir():
        return None
    from huggingface_hub import try_to_load_from_cache  # lazy: only when the cache is asked

    files = [cfg.hf_hub_filename] if getattr(cfg, "hf_hub_filename", None) else list(HUB_FILES)
    for filename in files:
        found = try_to_load_from_cache(repo[0], filename, cache_dir=cache, revision=repo[1])
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
    return None


def find_weights(model: str, weights_dir: Path | None = None) -> WeightsLookup:
    """Look for ``model``'s pretrained weights on this machine (see the module docstring)."""
    timm_name = timm_model_name(model)
    cfg = _pretrained_cfg(timm_name)
    searched: list[str] = []
    folders = [weights_dir] if weights_dir is not None else []
    if os.environ.get(WEIGHTS_DIR_ENV):
        folders.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    names = _names(model, timm_name, cfg)
    for folder in folders:
        searched.append(f"{folder}/{{{','.join(names)}}}{{{','.join(SUFFIXES)}}}")
        for name in names:
            for suffix in SUFFIXES:
                if (folder / f"{name}{suffix}").is_file():
                    return WeightsLookup(
                        model, timm_name, folder / f"{name}{suffix}", tuple(searched)
                    )
    cache = hub_cache_dir()
    repo = _hub_repo(cfg)
    if repo is not None:
        searched.append(f"Hugging Face cache {cache} (repo {repo[0]})")
        found = _in_hub_cache(cfg, cache)
        if found is not None:
            return WeightsLookup(model, timm_name, found, tuple(searched))
    url = getattr(cfg, "url", None) if cfg is not None else None
    if url:
        import torch.hub  # lazy: torch only for torch's own cache folder

        legacy = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url.split("?")[0])
        searched.append(str(legacy))
        if legacy.is_file():
            return WeightsLookup(model, timm_name, legacy, tuple(searched))
    if cfg is None:
        searched.append(f"(timm has no pretrained config for {timm_name})")
    return WeightsLookup(model, timm_name, None, tuple(searched))


# -- listing and fetching ---------------------------------------------------------------------
@dataclass(frozen=True)
class CachedWeights:
    name: str
    path: Path
    size_bytes: int


def cached_weights(weights_dir: Path | None = None) -> list[CachedWeights]:
    """Weights on this machine: timm repos in the Hugging Face cache and weights folders."""
    out: list[CachedWeights] = []
    cache = hub_cache_dir()
    if cache.is_dir():
        for repo in sorted(cache.glob("models--*")):
            for filename in HUB_FILES:
                for path in sorted(repo.glob(f"snapshots/*/{filename}")):
                    name = repo.name.removeprefix("models--").replace("--", "/")
                    out.append(CachedWeights(name, path, path.stat().st_size))
    folders = [weights_dir] if weights_dir is not None else []
    if os.environ.get(WEIGHTS_DIR_ENV):
        folders.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser())
    for folder in folders:
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix in SUFFIXES and path.is_file():
                out.append(CachedWeights(path.stem, path, path.stat().st_size))
    return out


def fetch_weights(
    models: Sequence[str], to: Path | None = None, *, timeout_s: float = FETCH_TIMEOUT_S
) -> list[Path]:
    """Download ``models``' pretrained weights into the Hugging Face cache (and copy them to
    ``to`` as ``<timm name>.<ext>`` when given). A network failure is one ``OSError`` naming the
    model, within about ``timeout_s`` seconds."""
    # huggingface_hub reads these when it is imported; set them for a process that has not yet
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(timeout_s)))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(int(timeout_s)))
    from huggingface_hub import constants, hf_hub_download  # lazy: only when fetching

    constants.HF_HUB_DOWNLOAD_TIMEOUT = int(timeout_s)  # and for one that already has
    paths = []
    for model in models:
        timm_name = timm_model_name(model)
        cfg = _pretrained_cfg(timm_name)
        repo = _hub_repo(cfg)
        if repo is None:
            raise ValueError(f"model {model!r} ({timm_name}): timm knows no Hugging Face weights")
        files = [cfg.hf_hub_filename] if cfg.hf_hub_filename else list(HUB_FILES)
        path = _download(model, repo, files, hub_cache_dir(), timeout_s, hf_hub_download)
        if to is not None:
            to.mkdir(parents=True, exist_ok=True)
            target = to / f"{timm_name}{path.suffix}"
            shutil.copyfile(path, target)
            path = target
        paths.append(path)
    return paths


def _download(
    model: str,
    repo: tuple[str, str | None],
    files: list[str],
    cache: Path,
    timeout_s: float,
    download: Any,
) -> Path:
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError  # lazy: as above

    hint = (
        "Fetch them on a machine with network and copy the folder given by `--to DIR` here "
        f"(then pretrained=DIR), or the Hugging Face cache {cache}"
    )
    why = hub_unreachable(timeout_s)
    if why is not None:
        raise OSError(
            f"cannot download weights for {model!r} ({repo[0]}): no network, {why}. {hint}"
        )
    last: Exception | None = None
    for filename in files:
        try:
            return Path(
                download(
                    repo[0],
                    filename,
                    revision=repo[1],
                    cache_dir=cache,
                    etag_timeout=timeout_s,
                    library_name="automl_vision",
                )
            )
        except LocalEntryNotFoundError as err:
            raise OSError(
                f"cannot download weights for {model!r} ({repo[0]}): {err}. {hint}"
            ) from err
        except EntryNotFoundError as err:
            last = err
            continue
        except Exception as err:
            raise OSError(
                f"cannot download weights for {model!r} from the Hugging Face hub ({repo[0]}): "
                f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}. {hint}"
            ) from err
    raise OSError(f"model {model!r}: none of {files} in {repo[0]}: {last}")


# -- planning -----------------------------------------------------------------------------------
def plan_weights(models: Sequence[str], pretrained: Any) -> tuple[list[WeightsLookup], str | None]:
    """Look up every model's weights for a sweep: (lookups, the one warning for ``"auto"``).

    ``pretrained=True`` (or a weights folder) with a model lacking weights raises
    ``MissingWeightsError`` naming it; ``False`` and a checkpoint file look nothing up.
    """
    mode = parse_pretrained(pretrained)
    if mode is PretrainedMode.OFF or (isinstance(mode, Path) and mode.is_file()):
        return [], None
    folder = mode if isinstance(mode, Path) else None
    lookups = [find_weights(m, folder) for m in dict.fromkeys(models)]
    missing = [w for w in lookups if not w.found]
    if missing and mode is not PretrainedMode.AUTO:
        raise missing[0].missing_error()
    if not missing:
        return lookups, None
    names = [w.model for w in missing]
    return lookups, (
        f"pretrained='auto': no ImageNet weights on this machine for {', '.join(names)}; "
        f"{'it starts' if len(names) == 1 else 'they start'} from a random initialization. "
        f"Fetch them with `{fetch_command(names)}` (needs network)"
    )
