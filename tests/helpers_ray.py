"""A real two-node Ray cluster on loopback, in a network namespace of its own.

``unshare -n`` makes a namespace that has only a loopback interface (the test brings it up),
so Ray binds to 127.0.0.1 and nothing the tests start can reach, or be reached from, any
other address. A holder process keeps the namespace alive; every Ray process and every
driver runs in it through ``nsenter``. ``stop`` kills every process of the namespace (so it
never touches another Ray on the machine), and the fixture calls it even when a test fails.

Two nodes: the head (2 CPUs, custom resource ``head``) and a second node (2 CPUs, custom
resource ``second``) whose raylet a test may kill.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAD_PORT = 6379  # the namespace is empty: every port is free
SECOND_NODE_MANAGER_PORT = 46001


def ray_cli() -> str:
    return str(Path(sys.executable).with_name("ray"))


@dataclass
class LoopbackCluster:
    holder: subprocess.Popen[bytes]
    temp_dir: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{HEAD_PORT}"

    @property
    def netns(self) -> str:
        return f"/proc/{self.holder.pid}/ns/net"

    def env(self) -> dict[str, str]:
        path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
        return {
            **os.environ,
            "PYTHONPATH": path,
            "RAY_USAGE_STATS_ENABLED": "0",
            "OMP_NUM_THREADS": "1",
            # the cluster's own home: no ~/.ray/auth_token of this machine's other Ray sessions
            # (a token there makes the head require it, and the nodes must agree on it)
            "HOME": str(self.temp_dir),
            "RAY_AUTH_MODE": "disabled",
            # Ray runs its workers at nice 15 by default: on a machine busy with other work the
            # trials starve (the cluster tests took six times as long beside a CPU burner)
            "RAY_worker_niceness": "0",
        }

    def command(self, *argv: str) -> list[str]:
        return ["nsenter", f"--net={self.netns}", *argv]

    def run(self, *argv: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*argv),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def driver(self, script: str, *args: str, timeout: float = 1200) -> dict:
        """Run ``tests/<script>`` as a Ray driver in the namespace; it prints its result as
        one ``RESULT <json>`` line (Ray may print other lines)."""
        done = self.run(sys.executable, str(ROOT / "tests" / script), *args, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(
                f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
            )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
        if not lines:
            raise AssertionError(f"{script} printed no RESULT line:\n{done.stdout[-3000:]}")
        return json.loads(lines[-1].removeprefix("RESULT "))

    def start_node(self, *options: str) -> None:
        done = self.run(ray_cli(), "start", *options, timeout=600)
        if done.returncode != 0:
            raise AssertionError(f"ray start {options} failed:\n{done.stdout}\n{done.stderr}")

    def namespace_pids(self) -> list[int]:
        try:
            mine = os.readlink(self.netns)
        except OSError:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.holder.pid:
                continue
            try:
                if os.readlink(entry / "ns" / "net") == mine:
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def raylet_of_second_node(self) -> int:
        for pid in self.namespace_pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"raylet" in cmdline.split(b" ")[0] and (
                f"--node_manager_port={SECOND_NODE_MANAGER_PORT}".encode() in cmdline
            ):
                return pid
        raise AssertionError("the second node's raylet is not running")

    def stop(self) -> None:
        """Kill every process of the namespace, then the holder (the namespace goes with it)."""
        for _ in range(3):
            pids = self.namespace_pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        self.holder.kill()
        self.holder.wait(10)


def start_loopback_cluster() -> LoopbackCluster:
    """Start the namespace, the head and the second node (raises with Ray's output if not)."""
    holder = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", "ip link set lo up && exec sleep 100000"],
        stdin=subprocess.DEVNULL,
    )
    # a short folder: Ray's Unix sockets live under it (their paths are length-limited)
    temp_dir = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    cluster = LoopbackCluster(holder, temp_dir)
    try:
        deadline = time.monotonic() + 10
        while (
            b"state UP"
            not in subprocess.run(
                cluster.command("ip", "link", "show", "lo"), capture_output=True
            ).stdout
            and b"LOOPBACK,UP"
            not in subprocess.run(
                cluster.command("ip", "link", "show", "lo"), capture_output=True
            ).stdout
        ):
            if time.monotonic() > deadline or holder.poll() is not None:
                raise AssertionError("unshare -n: the namespace's loopback did not come up")
            time.sleep(0.1)
        common = (
            "--num-cpus=2",
            "--num-gpus=0",
            "--object-store-memory=100000000",
            "--disable-usage-stats",
        )
        cluster.start_node(
            "--head",
            f"--port={HEAD_PORT}",
            "--node-ip-address=127.0.0.1",
            "--include-dashboard=false",
            f"--temp-dir={temp_dir}",
            '--resources={"head": 1}',
            # a dead node is noticed within ~2 s instead of Ray's default ~15 s
            '--system-config={"health_check_period_ms": 500, "health_check_failure_threshold": 3}',
            *common,
        )
        cluster.start_node(
            f"--address={cluster.address}",
            "--node-ip-address=127.0.0.1",
            f"--node-manager-port={SECOND_NODE_MANAGER_PORT}",
            '--resources={"second": 1}',
            *common,
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster
