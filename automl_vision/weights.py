"""Pretrained (ImageNet) weights: where they are found locally, when they are downloaded, and
what a sweep's plan says about each model.

``pretrained`` (a ``TrainingConfig`` option) is one of:

==============  =================================================================================
value           meaning
==============  =================================================================================
``"auto"``      (the default) fine-tune from the model's published ImageNet weights: those on
                this machine, else downloaded from the Hugging Face hub when it answers, else a
                random initialization (the sweep warns once, naming only the models that have
                published weights; a model without any just starts from scratch)
``True``        the weights are required: on this machine or downloaded; a model whose weights
                cannot be had is an error, raised when the sweep is planned or before its first
                trial starts
``False``       random initialization; nothing is looked up, no network
a file          a checkpoint (timm's, or a ``best.safetensors`` of this project) loaded into the
                model, tensors whose shapes differ (the classifier) left as initialized
a folder        a weights folder (see below), required like ``True``; nothing is downloaded
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

A model has *published* weights when timm's pretrained config names an ``hf_hub_id`` or a
``url``; only those are ever downloaded or named in a warning.

Planning (``plan_weights``) says per model which ``WeightsSource`` it will use: ``CACHED``,
``DOWNLOAD`` (not here, published on the hub, and the hub accepts a connection) or ``RANDOM``.
Whether the hub answers is one TCP connection with a short timeout (``CONNECT_TIMEOUT_S``;
``hub_unreachable``), tried only when some model needs a download, never under
``HF_HUB_OFFLINE=1``: a machine without network decides in seconds, never hangs
(``huggingface_hub`` itself retries for about a minute).

The download (``download_planned``) happens once per model in the sweep's own process, after
planning and before any trial is dispatched, so that parallel trials never race for the same
file: it goes through ``huggingface_hub.hf_hub_download`` (its progress bar, its cache, the
endpoint ``$HF_ENDPOINT`` read when called) into the Hugging Face cache, where every trial then
finds it. A download that fails falls back like an unreachable hub (one warning) for
``"auto"``, and is an error for ``True``. Trials themselves never download: on a cluster, a node
without the weights in its own cache starts ``"auto"`` trials from scratch.

Found weights are loaded through timm's own loader: ``timm.create_model(name, pretrained=True,
pretrained_cfg_overlay={"file": path})``, which adapts the checkpoint to the model
(``checkpoint_filter_fn``) and replaces the classifier when the class count differs.
``fetch_weights`` (``automl-vision weights fetch``) downloads ahead of time, e.g. on a machine
with network, optionally copying into a weights folder (``--to DIR``).
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from automl_vision.space.model_names import timm_model_name

__all__ = [
    "CONNECT_TIMEOUT_S",
    "FETCH_TIMEOUT_S",
    "CachedWeights",
    "MissingWeightsError",
    "MissingWeightsWarning",
    "PlannedWeights",
    "PretrainedMode",
    "WeightsDownloadError",
    "WeightsLookup",
    "WeightsPlan",
    "WeightsSource",
    "cached_weights",
    "download_planned",
    "fetch_command",
    "fetch_weights",
    "find_weights",
    "hub_cache_dir",
    "hub_endpoint",
    "hub_offline",
    "hub_unreachable",
    "parse_pretrained",
    "plan_weights",
]

log = logging.getLogger(__name__)

#: how long the hub gets to accept a connection before a sweep decides it is unreachable
CONNECT_TIMEOUT_S = 3.0
#: how long a download waits for the hub's answers (metadata, then each read of the file)
FETCH_TIMEOUT_S = 10
WEIGHTS_DIR_ENV = "AUTOML_VISION_WEIGHTS_DIR"
SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
HUB_FILES = ("model.safetensors", "pytorch_model.bin")
_TRUE = {"1", "on", "yes", "true"}


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) set now, or when ``huggingface_hub`` was
    imported (it then refuses every request): no network at all."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(key, "").strip().lower() in _TRUE:
            return True
    from huggingface_hub import constants  # lazy: huggingface_hub only when the hub is asked about

    return bool(constants.is_offline_mode())


def hub_endpoint() -> str:
    """The hub's address: ``$HF_ENDPOINT`` as it is now (``huggingface_hub`` reads it only once,
    when imported), else ``huggingface_hub``'s own."""
    if os.environ.get("HF_ENDPOINT"):
        return os.environ["HF_ENDPOINT"].rstrip("/")
    from huggingface_hub import constants  # lazy: as above

    return str(constants.ENDPOINT).rstrip("/")


def hub_unreachable(timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """None when the hub accepts a TCP connection within ``timeout_s``; else why not (offline
    mode, no route, refused, timed out)."""
    if hub_offline():
        return "HF_HUB_OFFLINE is set"
    url = urlparse(hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout_s):
            return None
    except OSError as err:
        return f"no network: {url.hostname}:{port} unreachable ({err or type(err).__name__})"


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
    #: the Hugging Face repo (and revision) timm publishes the weights in; None: not on the hub
    hub_repo: tuple[str, str | None] | None = None
    #: the files of ``hub_repo`` that may hold them, first choice first
    hub_files: tuple[str, ...] = HUB_FILES
    #: timm's pretrained config names published weights (an ``hf_hub_id`` or a ``url``)
    published: bool = False

    @property
    def found(self) -> bool:
        return self.path is not None

    def missing_error(self, why: str | None = None) -> MissingWeightsError:
        if not self.published:
            return MissingWeightsError(
                f"pretrained=True but model {self.model!r} ({self.timm_name}) has no published "
                "pretrained weights (timm names none) and none were found on this machine; "
                f"looked in: {'; '.join(self.searched)}. Give pretrained=<folder or file>, or "
                "use pretrained='auto' / false"
            )
        reason = f" and cannot download them ({why})" if why else ""
        return MissingWeightsError(
            f"pretrained=True but model {self.model!r} ({self.timm_name}) has no pretrained "
            f"weights on this machine{reason}; looked in: {'; '.join(self.searched)}. Fetch "
            f"them with `{fetch_command([self.model])}` (needs network), give "
            "pretrained=<folder or file>, or use pretrained='auto' / false"
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

    for filename in _hub_files(cfg):
        found = try_to_load_from_cache(repo[0], filename, cache_dir=cache, revision=repo[1])
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
    return None


def _hub_files(cfg: Any) -> tuple[str, ...]:
    name = getattr(cfg, "hf_hub_filename", None) if cfg is not None else None
    return (name,) if name else HUB_FILES


def find_weights(model: str, weights_dir: Path | None = None) -> WeightsLookup:
    """Look for ``model``'s pretrained weights on this machine (see the module docstring)."""
    timm_name = timm_model_name(model)
    cfg = _pretrained_cfg(timm_name)
    repo = _hub_repo(cfg)
    url = getattr(cfg, "url", None) if cfg is not None else None
    about = {"hub_repo": repo, "hub_files": _hub_files(cfg), "published": bool(repo or url)}
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
                        model, timm_name, folder / f"{name}{suffix}", tuple(searched), **about
                    )
    cache = hub_cache_dir()
    if repo is not None:
        searched.append(f"Hugging Face cache {cache} (repo {repo[0]})")
        found = _in_hub_cache(cfg, cache)
        if found is not None:
            return WeightsLookup(model, timm_name, found, tuple(searched), **about)
    if url:
        import torch.hub  # lazy: torch only for torch's own cache folder

        legacy = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url.split("?")[0])
        searched.append(str(legacy))
        if legacy.is_file():
            return WeightsLookup(model, timm_name, legacy, tuple(searched), **about)
    if cfg is None:
        searched.append(f"(timm has no pretrained config for {timm_name})")
    return WeightsLookup(model, timm_name, None, tuple(searched), **about)


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
    paths = []
    for model in models:
        lookup = find_weights(model)
        if lookup.hub_repo is None:
            raise ValueError(
                f"model {model!r} ({lookup.timm_name}): timm knows no Hugging Face weights"
            )
        path = download_weights(lookup, timeout_s=timeout_s)
        if to is not None:
            to.mkdir(parents=True, exist_ok=True)
            target = to / f"{lookup.timm_name}{path.suffix}"
            shutil.copyfile(path, target)
            path = target
        paths.append(path)
    return paths


def download_weights(lookup: WeightsLookup, *, timeout_s: float = FETCH_TIMEOUT_S) -> Path:
    """Download ``lookup``'s weights from its Hugging Face repo (at ``hub_endpoint()``) into
    the Hugging Face cache, with ``huggingface_hub``'s progress bar; the file in the cache.

    A failure (no network, the hub not answering within ``timeout_s``, no such file) is one
    ``OSError`` naming the model."""
    if lookup.hub_repo is None:
        raise OSError(f"model {lookup.model!r} ({lookup.timm_name}): not on the Hugging Face hub")
    repo, revision = lookup.hub_repo
    cache = hub_cache_dir()
    hint = (
        "Fetch them on a machine with network and copy the folder given by `--to DIR` here "
        f"(then pretrained=DIR), or the Hugging Face cache {cache}"
    )
    why = hub_unreachable(min(timeout_s, CONNECT_TIMEOUT_S))
    if why is not None:
        raise WeightsDownloadError(
            f"cannot download weights for {lookup.model!r} ({repo}): {why}. {hint}", why
        )
    # huggingface_hub reads these when it is imported; set them for a process that has not yet
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(timeout_s)))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(int(timeout_s)))
    from huggingface_hub import (  # lazy: only when downloading
        constants,
        get_hf_file_metadata,
        hf_hub_download,
        hf_hub_url,
    )
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError  # lazy: same

    constants.HF_HUB_DOWNLOAD_TIMEOUT = int(timeout_s)  # and for one that already has
    endpoint = hub_endpoint()
    last: Exception | None = None
    for filename in lookup.hub_files:
        try:
            # one HEAD without retries first: a hub that accepts connections but does not answer
            # fails here within timeout_s (hf_hub_download itself then retries for minutes)
            url = hf_hub_url(repo, filename, revision=revision, endpoint=endpoint)
            get_hf_file_metadata(url, timeout=timeout_s, endpoint=endpoint)
            log.info("downloading %s/%s from %s", repo, filename, endpoint)
            return Path(
                hf_hub_download(
                    repo,
                    filename,
                    revision=revision,
                    cache_dir=cache,
                    endpoint=endpoint,
                    etag_timeout=timeout_s,
                    library_name="automl_vision",
                )
            )
        except EntryNotFoundError as err:
            last = err
            continue
        except LocalEntryNotFoundError as err:
            cause = _first_line(err)
            raise WeightsDownloadError(
                f"cannot download weights for {lookup.model!r} ({repo}): {cause}. {hint}", cause
            ) from err
        except Exception as err:
            cause = f"{type(err).__name__}: {_first_line(err)}"
            raise WeightsDownloadError(
                f"cannot download weights for {lookup.model!r} from the Hugging Face hub "
                f"({repo}): {cause}. {hint}",
                cause,
            ) from err
    cause = f"none of {list(lookup.hub_files)} in {repo}"
    raise WeightsDownloadError(
        f"cannot download weights for {lookup.model!r}: {cause}: {_first_line(last)}", cause
    )


class WeightsDownloadError(OSError):
    """A download of pretrained weights failed: the message says what to do; ``cause`` is the
    short why (for a plan's line and the warning)."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def _first_line(err: BaseException | None) -> str:
    text = str(err) if err is not None else ""
    return text.splitlines()[0] if text else ""


# -- planning -----------------------------------------------------------------------------------
class WeightsSource(str, enum.Enum):
    """Where a model's starting weights come from in a sweep."""

    CACHED = "cached"
    DOWNLOAD = "will download"
    RANDOM = "random init"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class PlannedWeights:
    """One model of a sweep: its lookup, where its weights will come from, and why."""

    lookup: WeightsLookup
    source: WeightsSource
    #: the weights are required (``pretrained=True``): a failed download is an error
    required: bool = False
    #: why a ``RANDOM`` model has no weights (no published weights, the hub unreachable, ...)
    reason: str = ""

    @property
    def model(self) -> str:
        return self.lookup.model

    def describe(self) -> str:
        """The plan's line for this model."""
        if self.source is WeightsSource.CACHED:
            return f"{self.model}: cached ({self.lookup.path})"
        if self.source is WeightsSource.DOWNLOAD:
            repo = self.lookup.hub_repo[0] if self.lookup.hub_repo else "?"
            return f"{self.model}: will download ({repo} from {hub_endpoint()})"
        return f"{self.model}: random init ({self.reason})"


@dataclass(frozen=True)
class WeightsPlan:
    """Every model's ``PlannedWeights``, and the one warning of ``"auto"`` (None: nothing to
    say): it names only models that have published weights and will not get them."""

    models: tuple[PlannedWeights, ...] = ()
    warning: str | None = None

    def to_download(self) -> list[PlannedWeights]:
        return [w for w in self.models if w.source is WeightsSource.DOWNLOAD]


NOT_PUBLISHED = "no published weights: starts from scratch"


def _missing_warning(names: Sequence[str], why: str) -> str:
    return (
        f"pretrained='auto': the published ImageNet weights of {', '.join(names)} are not on "
        f"this machine and cannot be downloaded ({why}); "
        f"{'it starts' if len(names) == 1 else 'they start'} from a random initialization. "
        f"Fetch them with `{fetch_command(names)}` where there is network"
    )


def plan_weights(
    models: Sequence[str], pretrained: Any, *, timeout_s: float = CONNECT_TIMEOUT_S
) -> WeightsPlan:
    """Decide every model's starting weights for a sweep (nothing is downloaded here).

    ``"auto"``: ``CACHED`` when found on this machine; else ``DOWNLOAD`` when the weights are on
    the Hugging Face hub and it accepts a connection within ``timeout_s`` (asked once, only
    when needed, never under ``HF_HUB_OFFLINE``); else ``RANDOM``, with one warning naming the
    models that have published weights. ``True`` (or a weights folder): as ``"auto"`` but a
    model that will not have weights raises ``MissingWeightsError`` naming it (a folder never
    downloads). ``False`` and a checkpoint file look nothing up.
    """
    mode = parse_pretrained(pretrained)
    if mode is PretrainedMode.OFF or (isinstance(mode, Path) and mode.is_file()):
        return WeightsPlan()
    folder = mode if isinstance(mode, Path) else None
    required = mode is not PretrainedMode.AUTO
    lookups = [find_weights(m, folder) for m in dict.fromkeys(models)]
    downloadable = [w for w in lookups if not w.found and w.hub_repo is not None]
    why: str | None = "a weights folder is given" if folder is not None else None
    if downloadable and why is None:
        why = hub_unreachable(timeout_s)
    planned: list[PlannedWeights] = []
    for w in lookups:
        if w.found:
            planned.append(PlannedWeights(w, WeightsSource.CACHED, required))
        elif w.hub_repo is not None and why is None:
            planned.append(PlannedWeights(w, WeightsSource.DOWNLOAD, required))
        elif required:
            raise w.missing_error(why)
        elif not w.published:
            planned.append(PlannedWeights(w, WeightsSource.RANDOM, reason=NOT_PUBLISHED))
        else:
            because = why or "published at a URL only: fetch it into torch hub's cache"
            planned.append(PlannedWeights(w, WeightsSource.RANDOM, reason=because))
    missing = [p for p in planned if p.source is WeightsSource.RANDOM and p.lookup.published]
    warning = None
    if missing:
        reasons = list(dict.fromkeys(p.reason for p in missing))
        warning = _missing_warning([p.model for p in missing], "; ".join(reasons))
    return WeightsPlan(tuple(planned), warning)


def download_planned(
    plan: WeightsPlan, *, timeout_s: float = FETCH_TIMEOUT_S
) -> tuple[WeightsPlan, str | None]:
    """Download each model planned as ``DOWNLOAD``, once, into the Hugging Face cache: the plan
    as it now stands and the one warning of ``"auto"`` for the downloads that failed (they
    start from random initialization). A failed download of a required model raises
    ``MissingWeightsError``. Call it before trials are dispatched: they find the files in the
    cache."""
    done: list[PlannedWeights] = []
    failed: list[PlannedWeights] = []
    for w in plan.models:
        if w.source is not WeightsSource.DOWNLOAD:
            done.append(w)
            continue
        try:
            path = download_weights(w.lookup, timeout_s=timeout_s)
        except OSError as err:
            cause = err.cause if isinstance(err, WeightsDownloadError) else str(err)
            if w.required:
                raise w.lookup.missing_error(cause) from err
            log.debug("%s", err)
            gone = replace(w, source=WeightsSource.RANDOM, reason=f"download failed: {cause}")
            done.append(gone)
            failed.append(gone)
            continue
        done.append(replace(w, lookup=replace(w.lookup, path=path), source=WeightsSource.CACHED))
    if not failed:
        return WeightsPlan(tuple(done), None), None
    first = failed[0].reason.removeprefix("download failed: ")
    warning = _missing_warning([w.model for w in failed], f"the download failed: {first}")
    return WeightsPlan(tuple(done), warning), warning
