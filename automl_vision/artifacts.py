"""The names of the files a trial folder and a sweep directory hold (no imports: any layer may
read them without loading torch).

``trials/<trial_id>/`` holds ``trial.json`` (who owns the folder: the sweep's id, the trial's
id and its configuration's key), ``resume.safetensors`` (the resume state, rewritten every
epoch), ``best.safetensors`` (the best epoch's checkpoint), ``best.onnx`` when asked,
``metrics.jsonl`` and ``log.txt``. The sweep directory links ``best.safetensors`` to the best
trial's and keeps ``deployment.json``, the deployment metrics measured of each architecture
(``deployment_cache.py``). Release 1 wrote pickles, ``best.pt`` and ``resume.pt``: read only
when trusted or converted (``automl-vision convert``).
"""

from __future__ import annotations

__all__ = [
    "BEST_FILE",
    "DEPLOYMENT_FILE",
    "LEGACY_BEST_FILE",
    "LEGACY_RESUME_FILE",
    "LOG_FILE",
    "ONNX_FILE",
    "OWNER_FILE",
    "RESUME_FILE",
    "TRIALS_DIR",
]

BEST_FILE = "best.safetensors"
RESUME_FILE = "resume.safetensors"
OWNER_FILE = "trial.json"
ONNX_FILE = "best.onnx"
TRIALS_DIR = "trials"
#: the sweep directory's deployment metrics, one entry per architecture, device and runtime
DEPLOYMENT_FILE = "deployment.json"
#: every trial's log, whatever runs it: a worker's stdout/stderr, or in the sweep's own process
#: the trial's log records and its error (``executors/trial_log.py``)
LOG_FILE = "log.txt"
LEGACY_BEST_FILE = "best.pt"
LEGACY_RESUME_FILE = "resume.pt"
