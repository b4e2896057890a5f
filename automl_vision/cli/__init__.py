"""``automl-vision``: the command line, a thin layer over the library.

    automl-vision tune --data PATH [options]     tune on an image folder / JSONL / CSV / MLTable
    automl-vision tune -c configs/job.yaml       a sweep job in Azure's CLI v2 YAML shape
    automl-vision status RUN_DIR                 trials so far (also while a sweep runs)
    automl-vision report RUN_DIR                 table, metrics JSON and plots
    automl-vision export RUN_DIR --onnx          the best model as ONNX
    automl-vision predict RUN_DIR IMAGES...      predict with the best model (Azure's JSONL)
    automl-vision weights fetch MODEL... [--to D] download pretrained weights (needs network)
    automl-vision weights list                   pretrained weights on this machine
    automl-vision demo                           a short sweep on bundled real digit images
    automl-vision demo-data [DIR]                write the demo datasets that configs/ use
    automl-vision spaces [NAME]                  preset search spaces
    automl-vision validate FILE                  check a search-space or sweep-job YAML
    automl-vision cache info | clear             the decoded-image cache: size, or empty it
    automl-vision bench [--quick] [--json F]     the speed table of this machine's device

Exit status: 0 done; 2 a user error or a storage problem (disk full, read-only folder, corrupt
store: one clear message on stderr, never a traceback); 3 the sweep ran but no trial produced a
value (the trials' errors on stderr); 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM: the
running trials paused after their epoch, and the same command resumes the sweep.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from automl_vision.space import load_search_space, preset_names

EXIT_USAGE = 2
EXIT_NO_VALUE = 3
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """A command-line mistake (reported like every other ValueError)."""


# -- value parsing ---------------------------------------------------------------------------
def _scalar(text: str) -> Any:
    value = yaml.safe_load(text)
    return value if isinstance(value, (int, float, bool, str)) or value is None else text


def parse_policy(text: str) -> dict[str, Any]:
    """``bandit:slack_factor=0.2,evaluation_interval=2`` -> Azure's early_termination mapping."""
    name, _, rest = text.partition(":")
    policy: dict[str, Any] = {"type": name.strip()}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"--policy {text!r}: expected key=value, got {item!r}")
        policy[key.strip()] = _scalar(value.strip())
    return policy


# -- commands ---------------------------------------------------------------------------------
def _cmd_tune(args: argparse.Namespace) -> int:
    from automl_vision.config.spec import SweepSpec
    from automl_vision.tuning.tune import run_spec

    spec = SweepSpec.from_args(args)  # the job file and/or flags: one validated spec
    result = run_spec(
        spec, resume=args.resume, force=args.force, dry_run=args.dry_run, progress=not args.quiet
    )
    if args.dry_run:
        return 0
    from automl_vision.tuning.optimize import NoTrialValueError

    try:
        result.best_trial  # noqa: B018 -- raises when no trial produced a value
    except NoTrialValueError as err:  # its message lists the trials' errors
        print(result.summary(), file=sys.stderr)
        print(f"automl-vision: error: {err}", file=sys.stderr)
        return EXIT_NO_VALUE
    print(result.summary())
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from automl_vision.reporting.result import TuneResult
    from automl_vision.store.retention import disk_usage

    result = TuneResult.load(args.run_dir)
    if args.json:
        print(json.dumps(_status_json(result, Path(args.run_dir)), indent=2, allow_nan=False))
        return 0
    print(result.summary())
    print(f"disk used: {disk_usage(args.run_dir) / 2**20:.1f} MiB in {args.run_dir}")
    print()
    print(result.trials)
    return 0


def _json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as None and unknown objects as strings (valid JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _status_json(result: Any, run_dir: Path) -> dict[str, Any]:
    """The sweep as JSON, each trial with its attempts (the epoch each started from, its end)."""
    from automl_vision.store.database import SweepStore

    data = _json_safe(result.to_dict())
    store = SweepStore.read_only(run_dir / SweepStore.FILENAME)
    try:
        for trial in data.get("trials", []):
            trial["attempts"] = store.attempts(int(trial["index"]))
    finally:
        store.close()
    return data


def _cmd_report(args: argparse.Namespace) -> int:
    from automl_vision.reporting.plots import save_plots
    from automl_vision.reporting.result import TuneResult
    from automl_vision.trial import best_trial

    result = TuneResult.load(args.run_dir)
    print(result.trials)
    print()
    print(result.summary())
    out = Path(args.output_dir) if args.output_dir else Path(args.run_dir)
    try:
        json_path = result.to_json(out / "metrics.json")
        plots = save_plots(
            result.trials,
            result.goal,
            result.primary_metric,
            out / "plots",
            best_trial(result.trials, result.goal),
        )
    except OSError as err:  # a read-only copy, a read-only file system
        raise UsageError(
            f"cannot write the report into {out} ({err.strerror or err}); pass --output-dir DIR "
            "to write it elsewhere"
        ) from None
    print(f"\nmetrics: {json_path}")
    for path in plots:
        print(f"plot: {path}")
    if args.html:
        from automl_vision.dashboard.report import write_html_report

        print(f"report: {write_html_report(args.run_dir, out / 'report.html')}")
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from automl_vision.dashboard.server import LOOPBACK, make_server

    server = make_server(args.run_dirs, host=args.host, port=args.port)
    if args.host not in LOOPBACK:
        print(
            f"automl-vision: warning: the dashboard listens on {args.host}, reachable from other "
            "machines, and the page has no login",
            file=sys.stderr,
        )
    print(f"dashboard: {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from automl_vision.reporting.result import TuneResult

    if not args.onnx:
        raise UsageError("export: say which format, e.g. --onnx")
    result = TuneResult.load(args.run_dir)
    checkpoint = result.best_checkpoint
    if checkpoint is None or not checkpoint.is_file():
        raise UsageError(f"{args.run_dir}: the best trial has no checkpoint to export")
    from automl_vision.training import export_onnx

    out = Path(args.output) if args.output else Path(args.run_dir) / "best.onnx"
    path = export_onnx(checkpoint, out, enable_onnx_normalization=args.normalization)
    print(f"exported {result.best_trial.trial_id} ({checkpoint}) to {path}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from automl_vision.predict import expand_inputs, load_model, write_jsonl

    predictor = load_model(args.run_dir, device=args.device, onnx=args.onnx)
    inputs = expand_inputs(args.images)
    if not inputs:
        raise UsageError(f"predict: no images in {' '.join(args.images)}")
    predictions = predictor.predict(inputs)
    out = Path(args.output) if args.output else None
    text = write_jsonl(predictions, out)
    failed = sum(p.error is not None for p in predictions)
    if out is None:
        sys.stdout.write(text)
    else:
        print(f"{len(predictions) - failed} predictions written to {out}", file=sys.stderr)
    if failed:
        print(f"automl-vision: {failed} image(s) could not be read (see 'error')", file=sys.stderr)
    return 0


def _cmd_weights(args: argparse.Namespace) -> int:
    to = Path(args.to) if getattr(args, "to", None) else None
    if args.action == "fetch":
        if not args.models:
            raise UsageError("weights fetch: name at least one model")
        from automl_vision.hub import hub_unreachable

        why = hub_unreachable(10)  # before importing torch and timm: fail in seconds
        if why is not None:
            raise OSError(
                f"cannot download weights for {', '.join(map(repr, args.models))} from the "
                f"Hugging Face hub: {why}. Fetch them on a machine with network (--to DIR) and "
                "copy DIR here (then pretrained=DIR)"
            )
    from automl_vision.training import weights

    if args.action == "fetch":
        for path in weights.fetch_weights(args.models, to):
            print(path)
        return 0
    found = weights.cached_weights(to)
    if not found:
        print(f"no pretrained weights cached (Hugging Face cache: {weights.hub_cache_dir()})")
    for w in found:
        print(f"{w.name}\t{w.size_bytes / 2**20:.1f} MiB\t{w.path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from automl_vision.data.demo import digits, digits_multilabel
    from automl_vision.tuning.tune import tune

    out = Path(args.output_dir)
    if args.multilabel:
        data = digits_multilabel(out / "data" / "digits_multilabel")
    else:
        data = digits(out / "data" / "digits")
    print(f"demo data: {data} (scikit-learn's handwritten digits as PNG files)", file=sys.stderr)
    result = tune(
        data,
        search_space="cpu_tiny",
        sampling="bayesian",
        max_trials=args.trials,
        output_dir=out / ("sweep_multilabel" if args.multilabel else "sweep"),
        device=args.device,
        resume=True,
        seed=args.seed,
        progress=not args.quiet,
    )
    print(result.summary())
    print(f"plots: {Path(result.output_dir or '.') / 'plots'}")
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from automl_vision.data.demo import digits, digits_mltable, digits_multilabel

    root = Path(args.directory)
    for path in (
        digits(root / "digits"),
        digits_multilabel(root / "digits_multilabel"),
        digits_mltable(root / "fridge_like"),
    ):
        print(path)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    import torch

    from automl_vision.bench import Settings, format_table, run_bench

    cuda = args.device != "cpu" and torch.cuda.is_available()
    if not args.quick and not cuda:
        print(
            "automl-vision bench: no GPU here; the full table needs one, running --quick",
            file=sys.stderr,
        )
    settings = Settings.gpu() if cuda and not args.quick else Settings.quick()
    result = run_bench(settings, device=args.device)
    print(format_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=2, default=str) + "\n")
        print(f"written {args.json}")
    return 0


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
    path = Path(args.path)
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    if isinstance(data, dict) and set(data) - {"search_space"}:
        from automl_vision.config.job import load_sweep_job

        job = load_sweep_job(path)
        spaces = job.spaces() or []
        print(f"{path}: a valid sweep job ({len(spaces)} search space(s))")
        return 0
    spaces = load_search_space(path)
    print(f"{path}: {len(spaces)} valid search space(s)")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from automl_vision.data.cache import cache_info, clear_cache, default_cache_dir

    directory = Path(args.dir).expanduser() if args.dir else default_cache_dir()
    if args.action == "clear":
        freed, entries = clear_cache(directory)
        print(f"{directory}: removed {entries} entries ({freed / 2**20:.1f} MiB)")
        return 0
    info = cache_info(directory)
    limit = f", limit {info.limit / 2**20:.0f} MiB" if info.limit else ", no size limit"
    print(f"{directory}: {info.entries} entries, {info.bytes / 2**20:.1f} MiB{limit}")
    return 0


# -- parser -----------------------------------------------------------------------------------
def _count_or_auto(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'auto', got {text!r}")
    return value


def _add_tune(sub: Any) -> None:
    p = sub.add_parser("tune", help="run a sweep", description="Tune an image classifier.")
    p.add_argument("-c", "--config", help="sweep job YAML (Azure CLI v2 shape)")
    p.add_argument("--data", help="image folder, JSONL, CSV or MLTable folder")
    p.add_argument("--validation-data", help="a separate validation source")
    p.add_argument("--task", help="multiclass | multilabel (inferred when absent)")
    p.add_argument("--search-space", help="preset name or YAML file")
    p.add_argument("--sampling", help="random | sobol | grid | bayesian")
    p.add_argument("--policy", help="e.g. bandit:slack_factor=0.2,delay_evaluation=2 or none")
    p.add_argument("--primary-metric")
    p.add_argument("--goal", help="maximize | minimize")
    p.add_argument("--max-trials", type=int)
    p.add_argument(
        "--max-concurrent-trials",
        type=_count_or_auto,
        help="a number, or auto (GPU: as many as fit by predicted memory; CPU: 1 per 2 CPUs)",
    )
    p.add_argument(
        "--recycle-workers-after",
        type=_count_or_auto,
        help="replace a worker process after N trials (auto: 1 on CUDA, never on CPU)",
    )
    p.add_argument("--timeout-minutes", type=float)
    p.add_argument("--trial-timeout-minutes", type=float)
    p.add_argument("--target-value", type=float, help="stop once a trial reaches this value")
    p.add_argument("--no-improvement-trials", type=int, help="stop after N trials without 1%% gain")
    p.add_argument("--warm-start-from", nargs="+", metavar="RUN_DIR")
    p.add_argument("--seed", type=int)
    p.add_argument("--output-dir", help="where the sweep lives (default runs/<data>-<hash>)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument(
        "--executor",
        help="auto (default: inline for one trial at a time, else process) | inline | process | ray",
    )
    p.add_argument(
        "--ray-address",
        help="with --executor ray: auto | HOST:PORT of a running cluster (default: a local Ray)",
    )
    p.add_argument(
        "--resources-per-trial", metavar="cpu=N,gpu=F", help="with --executor ray, e.g. gpu=0.25"
    )
    p.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="refuse to continue a sweep already in --output-dir (default: resume it)",
    )
    p.add_argument("--force", action="store_true", help="resume even if the sweep changed")
    p.add_argument("--no-default-trial", dest="default_trial", action="store_false")
    p.add_argument("--export-onnx", action="store_true", help="write best.onnx")
    p.add_argument("--log-to", help="tensorboard,mlflow (optional packages)")
    p.add_argument("--keep-checkpoints", type=int, help="best k trials keep best.pt (3)")
    p.add_argument(
        "--pretrained",
        help="auto (default: ImageNet weights when on this machine) | true | false | PATH",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan, train nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no live progress line")
    p.set_defaults(func=_cmd_tune)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="automl-vision",
        description="Tune image classifiers on your own machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every epoch")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_tune(sub)

    p = sub.add_parser("status", help="show a sweep's trials")
    p.add_argument("run_dir")
    p.add_argument("--json", action="store_true", help="print JSON: every trial with its attempts")
    p.set_defaults(func=_cmd_status)

    p = sub.add_parser("report", help="table, metrics JSON and plots of a sweep")
    p.add_argument("run_dir")
    p.add_argument("--output-dir", help="where to write metrics.json and plots/ (default RUN_DIR)")
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("dashboard", help="a live web page of one or more sweeps")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to be reachable (no login!)")
    p.set_defaults(func=_cmd_dashboard)

    p = sub.add_parser("export", help="export a sweep's best model")
    p.add_argument("run_dir")
    p.add_argument("--onnx", action="store_true")
    p.add_argument("--output", help="file to write (default RUN_DIR/best.onnx)")
    p.add_argument(
        "--normalization",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fold input normalization into the model (default: the trial's setting)",
    )
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("predict", help="predict images with a sweep's best model")
    p.add_argument("run_dir", help="sweep or training run directory, or a best.pt file")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--output", help="JSONL file (default: stdout)")
    p.add_argument("--onnx", action="store_true", help="run the ONNX model (onnxruntime)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("weights", help="fetch or list pretrained (ImageNet) weights")
    p.add_argument("action", choices=["fetch", "list"])
    p.add_argument("models", nargs="*", help="model names (fetch)")
    p.add_argument("--to", help="also copy the weights into this folder (pretrained=DIR)")
    p.set_defaults(func=_cmd_weights)

    p = sub.add_parser("demo", help="a short sweep on real digit images, made offline")
    p.add_argument("--output-dir", default="runs/demo")
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--multilabel", action="store_true", help="2x2 digit mosaics, multilabel")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("demo-data", help="write the demo datasets (used by configs/)")
    p.add_argument("directory", nargs="?", default="data")
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("bench", help="trainer vs bare loop, packed sweep, peak memory")
    p.add_argument("--quick", action="store_true", help="a tiny CPU-sized run (seconds)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("spaces", help="list the preset search spaces, or show one")
    p.add_argument("name", nargs="?", help="preset name or YAML file")
    p.set_defaults(func=_cmd_spaces)

    p = sub.add_parser("validate", help="check a search-space or sweep-job YAML file")
    p.add_argument("path")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("cache", help="the decoded-image cache: its size, or empty it")
    p.add_argument("action", choices=["info", "clear"])
    p.add_argument("--dir", help="the cache folder (default $AUTOML_VISION_CACHE or "
                   "~/.cache/automl_vision)")  # fmt: skip
    p.set_defaults(func=_cmd_cache)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from automl_vision.tuning.signals import SweepInterrupted

    try:
        return int(args.func(args))
    except (ValueError, OSError) as err:  # invalid input is a ValueError; files: OSError
        print(f"automl-vision: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SweepInterrupted as err:  # SIGINT/SIGTERM during a sweep: 130 / 143
        print(f"\nautoml-vision: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(
            "\nautoml-vision: interrupted; everything recorded so far is in the sweep's store: "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
