"""The GPU table of the speed issue in one run: ``automl-vision bench`` with its JSON.

On one GPU: ResNet-50 and ViT-S/16 at 224 px, bf16, batch 256 (trainer vs bare loop images/s,
alternating rounds), a sweep of 8 small ResNet-18 trials one at a time vs packed
(``max_concurrent_trials="auto"``, trials per hour), and the probe's predicted peak memory
against the measured one. Without a GPU it runs the tiny ``--quick`` table.

    python benchmarks/gpu.py [--json benchmarks/gpu_results.json] [--quick]
"""

from __future__ import annotations

import sys

from automl_vision.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--json" not in args:
        args += ["--json", "benchmarks/gpu_results.json"]
    sys.exit(main(["bench", *args]))
