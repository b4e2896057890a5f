"""Trial functions for the process-pool tests (importable by spawned workers)."""

from __future__ import annotations

import os
import time

from automl_vision.executors.base import TrialReturn


def curve(params, report, context):
    """Reports ``params['rate'] * step`` for 4 steps; returns a TrialReturn with the slot."""
    value = 0.0
    for step in range(1, 5):
        value = params["rate"] * step
        if report(step, {"accuracy": value, "loss": 1 - value}):
            break
    print(f"trial {context.trial_id} done")
    return TrialReturn(value, {"accuracy": value}, {"devices": os.environ["CUDA_VISIBLE_DEVICES"]})


def misbehave(params, report, context):
    kind = params["kind"]
    report(1, {"accuracy": 0.5})
    if kind == "raise":
        raise RuntimeError("bad trial")
    if kind == "die":
        os._exit(3)
    if kind == "hang":
        time.sleep(300)
    return 0.9


def resumable(params, report, context):
    """Reports ``params['rate'] * step`` for 9 steps, continuing after the last step it saved
    in its workdir (as a trainer resumes from its checkpoint); notes the step of each start."""
    from pathlib import Path

    saved = Path(context.workdir) / "step"
    start = int(saved.read_text()) if saved.exists() else 0
    with (Path(context.workdir) / "starts").open("a") as fh:
        fh.write(f"{start}\n")
    value = 0.0
    for step in range(start + 1, 10):
        value = params["rate"] * step
        saved.write_text(str(step))
        if report(step, {"accuracy": value}):
            break
    return TrialReturn(value, {"accuracy": value})


def which_process(params, report, context):
    """A deterministic value from the params, and the pid and slot that ran the trial."""
    value = (params["x"] * 7919) % 101 / 100
    report(1, {"accuracy": value})
    time.sleep(params.get("sleep", 0.0))
    return TrialReturn(
        value,
        {"accuracy": value},
        {"pid": os.getpid(), "devices": os.environ["CUDA_VISIBLE_DEVICES"]},
    )


def starts_then_dies(params, report, context):
    """Says its attempt starts after report ``params['from']``, then dies before reporting."""
    context.on_start(params["from"])
    os._exit(3)


def tells_progress(params, report, context):
    """Tells how far it is twice between its two reports."""
    from automl_vision.trial import TrainingProgress

    for batch in (1, 2):
        context.on_progress(TrainingProgress(1, 2, batch, 2))
    report(1, {"accuracy": 0.5})
    report(2, {"accuracy": 0.6})
    return 0.6


def _child() -> None:
    os._exit(0)


def with_children(params, report, context):
    """Starts a process of its own, as a data loader with workers does (fork, the loader's
    default on Linux); returns the rate if the child ran."""
    import multiprocessing as mp

    child = mp.get_context("fork").Process(target=_child)
    child.start()
    child.join(30)
    report(1, {"accuracy": params["rate"]})
    return params["rate"] if child.exitcode == 0 else 0.0
