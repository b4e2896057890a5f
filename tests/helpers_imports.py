"""Which modules a piece of code imports, seen from a fresh interpreter: every probe of the
import-rule tests runs in ONE subprocess, once per test session.

That subprocess imports a few light third-party libraries that every probe needs anyway
(numpy, pydantic, yaml, PIL, scipy: none of them is torch or the trainer), then forks one child per
probe (all at once), so that each probe starts from an interpreter that has imported nothing of the project.
A probe is a list of steps run one after the other in its child; the modules loaded after each
step are recorded. The probe that imports torch runs in a subprocess of its own, started only
by the (slow) tests that read it, so the quick suite never waits for torch to load.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys

# name -> steps; the modules loaded after each step are returned, in order
PROBES: dict[str, list[str]] = {
    "automl_vision": ["import automl_vision"],
    "space": ["import automl_vision.space"],
    "sampling": ["import automl_vision.sampling"],
    "policies": ["import automl_vision.policies"],
    "trial": ["import automl_vision.trial"],
    "pareto": ["import automl_vision.pareto"],
    "deployment_cache": ["import automl_vision.deployment_cache"],
    "executors": ["import automl_vision.executors"],
    "scheduling": ["import automl_vision.scheduling"],
    "store": ["import automl_vision.store"],
    "reporting": ["import automl_vision.reporting"],
    "config": ["import automl_vision.config"],
    "planning": ["import automl_vision.planning"],
    "tuning": ["import automl_vision.tuning"],
    "benchmarking": ["import automl_vision.benchmarking.run\nimport automl_vision.cli.benchmark"],
    "optimize": [
        "from automl_vision import optimize, uniform\n"
        "from automl_vision.sampling.fixed import FixedConfigurations\n"
        "optimize(lambda p: p['x'], {'x': uniform(0, 1)},"
        " sampling=FixedConfigurations([{'x': 0.5}]))"
    ],
    "azure_space": [
        "from automl_vision import ImageClassificationSearchSpace, choice, uniform\n"
        "ImageClassificationSearchSpace(model_name=choice('resnet50', 'vitb16r224', 'seresnext'),"
        " learning_rate=uniform(0.001, 0.01))"
    ],
    "preset": ["from automl_vision import load_search_space\nload_search_space('default')"],
    "data": ["import automl_vision.data\nimport automl_vision.data.demo"],
    # torch loads in this one: first a non-Azure model name (timm, lazily), then the trainer
    "torch": [
        "import automl_vision",
        "from automl_vision import ImageClassificationSearchSpace\n"
        "ImageClassificationSearchSpace(model_name='efficientnet_b0')",
        "import automl_vision.training\nimport automl_vision.training.export",
    ],
}

_DRIVER = r"""
import json, os, sys
import numpy, pydantic, yaml, PIL.Image, scipy.optimize, scipy.stats  # light; every probe needs them

probes = json.loads(sys.stdin.read())
children = {}
for name, steps in probes.items():  # every child at once
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fresh start for this probe
        os.close(read)
        out = []
        try:
            for step in steps:
                exec(compile(step, name, "exec"), {})
                out.append(sorted(sys.modules))
            payload = {"modules": out}
        except BaseException as err:
            payload = {"error": f"{type(err).__name__}: {err}"}
        with os.fdopen(write, "w") as pipe:
            json.dump(payload, pipe)
        os._exit(0)
    os.close(write)
    children[name] = (pid, read)
results = {}
for name, (pid, read) in children.items():
    with os.fdopen(read) as pipe:
        results[name] = json.loads(pipe.read() or '{"error": "the probe died"}')
    os.waitpid(pid, 0)
print(json.dumps(results))
"""


#: the probes that load torch: run apart from the light ones
HEAVY_PROBES = frozenset({"torch"})


@functools.cache
def _run_probes(names: frozenset[str]) -> dict[str, dict]:
    out = subprocess.run(
        [sys.executable, "-c", _DRIVER],
        input=json.dumps({name: PROBES[name] for name in names}),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def loaded_after(probe: str) -> list[set[str]]:
    """The modules loaded after each step of ``PROBES[probe]`` (a fresh interpreter each)."""
    group = HEAVY_PROBES if probe in HEAVY_PROBES else frozenset(PROBES) - HEAVY_PROBES
    result = _run_probes(group)[probe]
    if "error" in result:
        raise AssertionError(f"probe {probe!r} failed: {result['error']}")
    return [set(modules) for modules in result["modules"]]
