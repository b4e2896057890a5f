"""Sweeps on a real two-node Ray cluster on loopback (tests/helpers_ray.py), started once for
this module in a network namespace of its own and stopped at its end, also when a test fails.

Every driver runs in the namespace too (``tests/ray_driver.py``); the tests read what happened
from the sweep's store. The node-killing test runs last: it takes the second node down.
"""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1800),  # a real cluster on a machine that may be busy: generous
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None,
        reason='Ray is not installed (pip install "automl-vision[ray]"; make test installs it)',
    ),
]


@pytest.fixture(scope="module")
def cluster():
    from helpers_ray import start_loopback_cluster

    for tool in ("unshare", "nsenter", "ip"):
        assert shutil.which(tool), f"{tool} is needed to run the cluster in its own namespace"
    started = start_loopback_cluster()
    try:
        yield started
    finally:
        started.stop()


def _attempts(output):
    from automl_vision.store.database import SweepStore

    store = SweepStore.read_only(output / "sweep.db")
    try:
        trials = store.load_trials()
        return trials, {t.index: store.attempts(t.index) for t in trials}
    finally:
        store.close()


def test_a_sweep_runs_its_trials_on_both_nodes(cluster, digits_folder, tmp_path) -> None:
    out = cluster.driver(
        "ray_driver.py", cluster.address, "sweep", str(digits_folder), str(tmp_path),
        "--trials", "6", "--concurrency", "3", "--policy", "asha",
    )  # fmt: skip
    trials, attempts = _attempts(tmp_path)
    assert len(trials) == 6
    assert all(t.finished for t in trials), [t.status for t in trials]
    second = out["second_node"][:8]
    placements = [a["placement"] for t in trials for a in attempts[t.index]]
    assert all(placements), placements  # every attempt says where it ran
    on_second = [p for p in placements if f"({second})" in p]
    assert on_second and len(on_second) < len(placements), placements  # both nodes
    # the policy decided in the driver on the reports streamed from the workers
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["settings"]["executor"] == "ray"
    assert all(len(t.reports) >= 1 for t in trials)


def test_asha_stops_remote_trials_and_ray_equals_inline(cluster) -> None:
    out = cluster.driver("ray_driver.py", cluster.address, "optimize")
    assert out["ray"] == out["inline"]
    statuses = [t[1] for t in out["ray"]]
    assert "STOPPED" in statuses and "COMPLETED" in statuses


def test_a_trial_past_its_time_limit_is_killed_on_the_cluster(cluster) -> None:
    out = cluster.driver("ray_driver.py", cluster.address, "timeout")
    (short, short_status, _), (long, long_status, error) = sorted(out["trials"])
    assert (short, short_status) == (0.5, "COMPLETED")
    assert (long, long_status) == (600.0, "FAILED") and "time limit of 60 s" in error
    assert out["seconds"] < 400  # the 600 s trial was cancelled, not waited for


def test_a_driver_killed_with_kill_9_resumes_against_the_same_cluster(
    cluster, digits_folder, tmp_path
) -> None:
    import subprocess
    import sys
    import time

    from helpers_sweep import reports_recorded

    command = cluster.command(
        sys.executable, str(cluster_root() / "tests" / "ray_driver.py"), cluster.address,
        "sweep", str(digits_folder), str(tmp_path), "--trials", "4", "--concurrency", "2",
        "--epochs", "3",
    )  # fmt: skip
    first = subprocess.Popen(command, env=cluster.env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 600
    while reports_recorded(tmp_path) < 4:
        assert first.poll() is None, first.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "no 4 reports within 600 s"
        time.sleep(0.1)
    first.kill()  # kill -9 of the driver; Ray ends the actors it owned
    first.wait(30)
    before, _ = _attempts(tmp_path)
    done_before = {t.index: t.value for t in before if t.finished}
    cluster.driver(
        "ray_driver.py", cluster.address, "sweep", str(digits_folder), str(tmp_path),
        "--trials", "4", "--concurrency", "2", "--epochs", "3",
    )  # fmt: skip
    trials, attempts = _attempts(tmp_path)
    assert len(trials) == 4 and all(t.finished for t in trials)
    for index, value in done_before.items():  # nothing finished ran again
        assert len(attempts[index]) == 1 and trials[index].value == value
    resumed = [i for i in attempts if len(attempts[i]) > 1]
    assert resumed, "no trial was interrupted by the kill"
    reported = {t.index: len(t.reports) for t in before}
    for index in resumed:  # it went on from its checkpoint: at most one epoch trained again
        started = attempts[index][-1]["started_from_epoch"]
        assert started >= reported[index] - 1, (reported[index], attempts[index])


def cluster_root():
    from helpers_ray import ROOT

    return ROOT


def test_killing_the_second_nodes_raylet_reruns_its_trial(cluster, digits_folder, tmp_path) -> None:
    raylet = cluster.raylet_of_second_node()
    out = cluster.driver(
        "ray_driver.py", cluster.address, "sweep", str(digits_folder), str(tmp_path),
        "--trials", "4", "--concurrency", "3", "--epochs", "10",
        "--kill-second-node", str(raylet),
    )  # fmt: skip
    assert "killed_during_trial" in out, "no trial ran on the second node"
    trials, attempts = _attempts(tmp_path)
    assert all(t.finished for t in trials), [t.status for t in trials]
    rerun = [i for i, a in attempts.items() if len(a) > 1]
    assert rerun, attempts  # the trial(s) on the dead node got a second attempt
    for index in rerun:
        first, last = attempts[index][0], attempts[index][-1]
        assert "Ray worker died" in first["ended"], first
        assert last["status"] == "COMPLETED" and len(attempts[index]) == 2, attempts[index]
        assert f"({out['second_node'][:8]})" not in last["placement"]  # on the other node
