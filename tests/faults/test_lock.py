"""One writer per sweep directory: a second sweep is refused at once, naming the owner; the OS
drops the lock of a killed owner; readers never take it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from automl_vision.store.lock import SweepLock, SweepLockedError


def test_a_second_writer_is_refused_naming_the_owner(tmp_path) -> None:
    code = (
        "import sys, time\n"
        "from automl_vision.store.lock import SweepLock\n"
        f"SweepLock({str(tmp_path)!r}).acquire()\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "locked"
        with pytest.raises(
            SweepLockedError, match=rf"in use by a running sweep \(pid {owner.pid} on"
        ):
            SweepLock(tmp_path).acquire()
        os.kill(owner.pid, signal.SIGKILL)  # kill -9 leaves no stale lock
        owner.wait(10)
        time.sleep(0.1)
        with SweepLock(tmp_path):
            pass
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(10)


def test_tune_on_a_locked_directory_is_refused_by_the_cli(tmp_path, digits_folder, capsys) -> None:
    from automl_vision.cli import main

    with SweepLock(tmp_path / "run"):
        code = main(["tune", "--data", str(digits_folder), "--output-dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and f"pid {os.getpid()}" in err and "Traceback" not in err
