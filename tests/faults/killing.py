"""Kill a tiny sweep (``crash_sweep.py``) with SIGKILL at a named point, resume it, and check
what survived. Used by ``test_kill.py`` and ``benchmarks/faults.py``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from helpers_sweep import reports_recorded

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("crash_sweep.py")

#: every kill point the suite may try: (point, count) -> the count-th time it is reached
KILL_POINTS = [
    *(("epoch", n) for n in (1, 2, 3, 4, 5, 7)),
    *(("checkpoint", n) for n in (1, 2, 3, 4, 6, 8)),
    *(("report", n) for n in (1, 2, 3, 5, 6)),
    *(("commit", n) for n in (1, 2, 3)),
    *(("finish", n) for n in (1, 2, 3)),
]


def seeded_kill_points(seed: int = 0) -> list[tuple[str, int]]:
    order = np.random.default_rng(seed).permutation(len(KILL_POINTS))
    return [KILL_POINTS[i] for i in order]


def sweep_env(fault: str | None = None) -> dict[str, str]:
    """The environment of a ``crash_sweep.py`` subprocess (``fault``: AUTOML_VISION_FAULT)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    env.pop("AUTOML_VISION_FAULT", None)
    if fault:
        env["AUTOML_VISION_FAULT"] = fault
    return env


def sweep_command(data: Path, output: Path, *options: str) -> list[str]:
    return [sys.executable, str(SCRIPT), str(data), str(output), *options]


class SweepForker:
    """``forker.py`` as a server: each ``run`` forks a child of a process that imported the
    sweep's libraries once (a fresh interpreter per sweep spends most of its CPU importing)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.count = 0
        self.server = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("forker.py"))],
            env=sweep_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        self.count += 1
        err = self.scratch / f"sweep{self.count}.err"
        request = {"argv": argv, "env": env, "stderr": str(err)}
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline()
        if not answer:
            raise AssertionError(f"the fork server ended ({self.server.poll()})")
        code = json.loads(answer)["code"]
        stderr = err.read_text() if err.exists() else ""
        return subprocess.CompletedProcess(argv, code, "", stderr)

    def close(self) -> None:
        self.server.stdin.close()
        try:
            self.server.wait(60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(60)


def run_sweep(
    data: Path,
    output: Path,
    fault: str | None = None,
    *options: str,
    codes: tuple[int, ...] = (0, -9),
    forker: SweepForker | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the tiny sweep to its end (or its fault); fail unless its exit code is in ``codes``
    (``forker``: a child of the fork server instead of a fresh interpreter)."""
    if forker is not None:
        done = forker.run([str(data), str(output), *options], sweep_env(fault))
    else:
        done = subprocess.run(
            sweep_command(data, output, *options),
            env=sweep_env(fault),
            capture_output=True,
            text=True,
            timeout=1200,
        )
    if done.returncode not in codes:
        raise AssertionError(f"sweep exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def integrity(output: Path) -> str:
    db = sqlite3.connect(output / "sweep.db")
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def results(output: Path) -> list[tuple]:
    """Each trial's params, status, value and reports (the comparable outcome of a sweep)."""
    from automl_vision.store.database import SweepStore

    store = SweepStore(output / "sweep.db")
    try:
        return [
            (
                t.index,
                sorted(t.params.items()),
                t.status.value,
                t.value,
                [(r.step, sorted(r.model_metrics.items())) for r in t.reports],
            )
            for t in store.load_trials()
        ]
    finally:
        store.close()


@dataclass
class KillOutcome:
    point: str
    reached: bool  # the process was killed (the point was reached before the sweep ended)
    integrity: str
    lost: int  # finished trials whose record changed or that ran again
    redone_epochs: list[int]  # per interrupted trial: epochs trained again
    resumed_from_last_epoch: bool
    equal: bool  # the final results equal the uninterrupted sweep's


def kill_and_resume(
    data: Path,
    output: Path,
    point: str,
    count: int,
    reference,
    forker: SweepForker | None = None,
) -> KillOutcome:
    from automl_vision.store.database import SweepStore
    from automl_vision.training.resume import load_resume

    code = run_sweep(data, output, f"{point}:{count}", forker=forker).returncode
    if code == 0:
        return KillOutcome(f"{point}:{count}", False, integrity(output), 0, [], True, True)
    after_kill = integrity(output)
    store = SweepStore(output / "sweep.db")
    before = {t.index: t for t in store.load_trials()}
    attempts_before = {i: store.attempts(i) for i in before}
    store.close()
    finished = {i: t for i, t in before.items() if t.status.value != "QUEUED"}
    saved = {}
    for i, t in before.items():
        resume = output / "trials" / t.trial_id / "resume.safetensors"
        if t.status.value == "QUEUED" and resume.exists():
            saved[i] = int(load_resume(resume)["epoch"])
    run_sweep(data, output, forker=forker)
    final = results(output)
    store = SweepStore(output / "sweep.db")
    counts = store.attempt_counts()
    attempts = {i: store.attempts(i) for i in before}
    store.close()
    before_counts = {i: len(attempts_before[i]) for i in finished}
    lost = sum(
        1
        for i, t in finished.items()
        if counts.get(i) != before_counts[i]  # ran again
        or final[i][2] != t.status.value
        or final[i][3] != t.value
    )
    redone, from_last = [], True
    for i, t in before.items():
        if t.status.value != "QUEUED":
            continue
        last = attempts[i][-1]
        started = int(last["started_from_epoch"])
        if started != saved.get(i, 0):
            from_last = False
        reported = max((r.step for r in t.reports), default=0)
        redone.append(max(0, reported - started))
    return KillOutcome(
        f"{point}:{count}",
        True,
        after_kill if after_kill != "ok" else integrity(output),
        lost,
        redone,
        from_last,
        final == reference,
    )


def start_sweep(data: Path, output: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        sweep_command(data, output, *options),
        env=sweep_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_reports(
    process: subprocess.Popen[str], output: Path, n: int, limit: float = 600
) -> None:
    """Block until the sweep has committed ``n`` reports (fail if it ends or takes too long)."""
    import time

    deadline = time.monotonic() + limit
    while reports_recorded(output) < n:
        if process.poll() is not None:
            raise AssertionError(
                f"the sweep ended early ({process.returncode}): {process.stderr.read()[-2000:]}"
            )
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {n} reports within {limit} s")
        time.sleep(0.05)
