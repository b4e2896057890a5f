"""A fork server for the fault suite's tiny sweeps (``crash_sweep.py``).

Each sweep of a kill test used to be a fresh ``python crash_sweep.py``: about 4.5 CPU-seconds of
importing torch, timm and the package before a sweep of about one second. The server imports them
once, in a process of its own that never runs a torch operation or starts a thread (so forking it
is safe), and forks one child per sweep. A child is a real process: its ``AUTOML_VISION_FAULT``
kill is a real SIGKILL, its stdout/stderr go to files, and nothing of the test's process is
shared with it. The server answers each request with the child's exit status (negative: the
signal that ended it) once the child has ended.

Protocol: one JSON line per request on the server's stdin, ``{"argv": [...], "env": {...},
"stderr": path}``; one JSON line per answer on its stdout, ``{"code": int}``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback


def _child(request: dict) -> int:
    os.environ.clear()
    os.environ.update(request["env"])
    import automl_vision.faults

    importlib.reload(automl_vision.faults)  # it reads AUTOML_VISION_FAULT when imported
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(err, 2)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process ends with os._exit
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    import crash_sweep

    return crash_sweep.run(request["argv"])


def serve() -> None:
    import crash_sweep  # noqa: F401
    import timm  # noqa: F401 - imported once here, inherited by every child
    import torch  # noqa: F401

    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"code": os.waitstatus_to_exitcode(status)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
