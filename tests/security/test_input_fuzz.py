"""Fuzzing the ways in: the YAML job file (random mappings of known and unknown keys with random
values, random YAML text, YAML tags), the distribution expressions of a search space, and the
``tune`` flags. ``main()`` runs in this process (fast), always with ``validate`` or ``tune
--dry-run`` so nothing trains.

Properties: no traceback ever (``main`` returns; a library call raises only ``ValueError``); a
refusal is exit 2 with exactly one error line on stderr (the only other lines a sweep writes
there are its ``automl_vision:`` announcements); nothing on disk changes, whether the input is
refused or planned. Warnings are silenced: they are not refusals.

The regressions the fuzzer found are pinned as ``@example``s.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import event, example, given
from hypothesis import strategies as st
from PIL import Image

from automl_vision.cli import main
from automl_vision.config.job import AZURE_ONLY_KEYS, Limits, SweepJob, SweepSettings
from automl_vision.config.options import SweepOptions
from automl_vision.config.surfaces import Form
from automl_vision.policies.from_dict import POLICY_TYPES
from automl_vision.space import ImageClassificationSearchSpace, parse_distribution
from automl_vision.space.distributions import (
    DISTRIBUTIONS,
    Distribution,
    choice,
    normal,
    quniform,
    randint,
    uniform,
)
from automl_vision.space.fields import FIELDS

# -- the sandbox: every path the fuzzer may name lies under ROOT ---------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A tiny image folder (2 classes of 3 images) and an empty folder, in one sandbox."""
    base = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (base / "data" / label).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(base / "data" / label / f"{i}.png")
    (base / "empty").mkdir()
    return base


def snapshot(*roots: Path) -> dict[str, str]:
    out = {}
    for top in roots:
        for path in sorted(top.rglob("*")):
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return out


def run_cli(argv: list[str], root: Path) -> tuple[int, str, str]:
    """``main(argv)`` with its output captured; checks the properties."""
    cache = Path(os.environ["AUTOML_VISION_CACHE"])
    before = snapshot(root, cache)
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        code = main(argv)  # a traceback fails the test here
    text = err.getvalue()
    assert code in (0, 2), (argv, code, text)
    assert "Traceback" not in text
    if code == 2:
        lines = [line for line in text.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("automl-vision: error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], (argv, text)
        assert all(line.startswith("automl_vision: ") for line in lines[:-1]), (argv, text)
    assert snapshot(root, cache) == before, argv
    event(f"{argv[0]} exit {code}")
    return code, out.getvalue(), text


# -- values ----------------------------------------------------------------------------------------

WORDS = [
    "auto", "none", "null", "true", "1e20", "-1", "0", "nan", "inf", "resnet18", "test_resnet",
    "random", "grid", "bayesian", "sobol", "bandit", "hyperband:min_resource=1", "cpu", "cuda",
    "multiclass", "multilabel", "image_classification", "uri_folder", "mltable", "accuracy",
    "iou", "maximize", "choice(1, 2)", "uniform(0, 1)", "loguniform(-5, -1)", "randint(3)",
    "quniform(1, 1e20, 1)", "choice('sgd', 'adam')", "default", "cpu_tiny", "tensorboard",
    "process", "inline", "ray", "localhost:6379", "{data}", "{empty}", "{missing}", "x" * 300,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-3, 40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)

FIELD_NAMES = sorted(FIELDS)
JOB_KEYS = sorted(
    (set(SweepJob.model_fields) - {"ignored_keys", "pretrained"}) | set(AZURE_ONLY_KEYS)
)
SECTION_KEYS = {
    "limits": [*sorted(Limits.model_fields), "max_total_trials", "timeout", "trial_timeout"],
    "sweep": sorted(SweepSettings.model_fields),
}


def keys(known: list[str]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(known), st.text(max_size=8), st.integers(-2, 2))


def values(known_keys: list[str]) -> st.SearchStrategy:
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(keys(known_keys), children, max_size=4),
        ),
        max_leaves=8,
    )


bounds = st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)).map(sorted)
valid_distributions = st.one_of(
    bounds.map(lambda b: uniform(*b)),
    st.tuples(bounds, st.sampled_from([0.01, 1, 16, 1e-300])).map(lambda a: quniform(*a[0], a[1])),
    st.tuples(st.floats(-20, 20), st.floats(0.01, 5)).map(lambda a: normal(*a)),
    st.integers(1, 10**6).map(randint),
    st.lists(
        st.one_of(st.integers(-5, 300), st.sampled_from(["sgd", "adam", "step", "test_resnet"])),
        min_size=1, max_size=5, unique=True,
    ).map(choice),
)  # fmt: skip
space_values = st.one_of(
    scalars,
    valid_distributions.map(str),
    valid_distributions.map(lambda d: d.to_dict()),
    values(FIELD_NAMES),
)
spaces = st.dictionaries(st.sampled_from(FIELD_NAMES), space_values, max_size=5)

policies = st.one_of(
    values(["type"]),
    st.builds(
        lambda kind, extra: {"type": kind, **extra},
        st.sampled_from([*POLICY_TYPES, "none", "Bandit Policy", "nosuch"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "slack_factor",
                    "slack_amount",
                    "evaluation_interval",
                    "delay_evaluation",
                    "truncation_percentage",
                    "min_resource",
                    "max_resource",
                    "reduction_factor",
                    "brackets",
                    "exclude_finished_jobs",
                    "schedule_aware",
                    "promotion",
                ]
            ),
            scalars,
            max_size=4,
        ),
    ),
)

jobs = st.fixed_dictionaries(
    {},
    optional={
        "training_data": st.one_of(
            st.fixed_dictionaries(
                {"path": st.sampled_from(["{data}", "{empty}", "{missing}", "./data"])},
                optional={"type": st.sampled_from(["uri_folder", "mltable", "uri_file", "x"])},
            ),
            values(["path", "type"]),
        ),
        "search_space": st.one_of(st.lists(spaces, max_size=3), values(FIELD_NAMES)),
        "training_parameters": st.one_of(spaces, values(FIELD_NAMES)),
        "limits": st.one_of(
            st.dictionaries(st.sampled_from(SECTION_KEYS["limits"]), scalars, max_size=4),
            values(SECTION_KEYS["limits"]),
        ),
        "sweep": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "early_termination": policies,
                    "sampling_algorithm": scalars,
                    "seed": scalars,
                },
            ),
            values(SECTION_KEYS["sweep"]),
        ),
        "primary_metric": scalars,
        "task": scalars,
        "output_dir": st.sampled_from(["{empty}/run", "{missing}", "{data}"]),
    },
).flatmap(
    lambda job: st.dictionaries(keys(JOB_KEYS), values(JOB_KEYS), max_size=3).map(
        lambda extra: {**extra, **job}
    )
)


SMALL_SPACE = {
    "model_name": "test_resnet", "number_of_epochs": 2, "number_of_workers": 0,
    "training_crop_size": 8, "validation_crop_size": 8, "validation_resize_size": 8,
}  # fmt: skip


def _near(where: str, key, value) -> dict:
    """A job that plans, but for one key set to ``value``."""
    job: dict = {
        "training_data": {"path": "{data}"},
        "limits": {"max_trials": 2},
        "search_space": [dict(SMALL_SPACE)],
    }
    if where == "top":
        job[key] = value
    elif where == "space":
        job["search_space"][0][key] = value
    else:
        job.setdefault(where, {})[key] = value
    return job


near_valid_jobs = st.one_of(
    st.builds(_near, st.just("top"), keys(JOB_KEYS), values(JOB_KEYS)),
    st.builds(_near, st.just("limits"), st.sampled_from(SECTION_KEYS["limits"]), scalars),
    st.builds(_near, st.just("sweep"), st.just("early_termination"), policies),
    st.builds(_near, st.just("sweep"), st.sampled_from(SECTION_KEYS["sweep"]), scalars),
    st.builds(_near, st.just("space"), st.sampled_from(FIELD_NAMES), space_values),
)


def placed(text: str, root: Path) -> str:
    """``{data}``, ``{empty}``, ``{missing}`` as paths under ``root``."""
    return (
        text.replace("{data}", str(root / "data"))
        .replace("{empty}", str(root / "empty"))
        .replace("{missing}", str(root / "missing"))
    )


def with_paths(value, root: Path):
    if isinstance(value, str):
        return placed(value, root)
    if isinstance(value, list):
        return [with_paths(v, root) for v in value]
    if isinstance(value, dict):
        return {with_paths(k, root): with_paths(v, root) for k, v in value.items()}
    return value


# -- (a) the YAML job file -------------------------------------------------------------------------


@given(job=st.one_of(jobs, near_valid_jobs))
@example(job={"search_space": [{"number_of_epochs": 1e20}]})
@example(job={"limits": {"max_trials": True}})
@example(job={"training_data": {"path": "{data}"}, "primary_metric": "nosuch"})
@example(job={"training_data": {"path": "{missing}"}})
@example(job={"training_data": {"path": "{data}"}, "search_space": [{"training_crop_size": 4096,
         "validation_resize_size": 4096, "training_batch_size": 65536}]})  # fmt: skip
@example(job={"search_space": [{"number_of_epochs": "quniform(1, 1e308, 1e-308)"}]})
@example(job={"search_space": [{"model_name": {"type": "choice", "values": list(range(3000))}}]})
@example(job={"cache_dir": []})  # TypeError from Path([])
@example(job={"warm_start_from": 3})  # TypeError: not iterable
@example(job={"limits": {1: 2}})  # TypeError: keywords must be strings
@example(job={"limits": {"max_concurrent_trials": None}})  # TypeError: None > 1024
@example(job={"log_to": 7})  # TypeError: not iterable
@example(job={"training_data": {"path": "{data}"}, "training_options": {1: 2}})  # TypeError
def test_a_job_file_is_planned_or_refused_in_one_line(root, job) -> None:
    path = root / "job.yaml"
    path.write_text(yaml.safe_dump(with_paths(job, root), allow_unicode=True))
    run_cli(["validate", str(path)], root)
    run_cli(["tune", "-c", str(path), "--dry-run", "-q"], root)


TAGS = [
    "!!python/object:os.system", "!!python/object/apply:os.system", "!!python/name:os.system",
    "!!python/tuple", "!!binary", "!!set", "!!omap", "!!timestamp", "!!float", "!!int", "!!str",
    "!!bool", "!!null", "!!map", "!!seq", "!custom", "!<tag:example.com:x>",
]  # fmt: skip
fragments = st.one_of(
    st.sampled_from(["search_space:", "limits:", "sweep:", "- ", "  ", ": ", "[", "]", "{", "}",
                     ", ", "&a ", "*a", "? ", "|", ">", "'", '"', "#", "---", "...", "\n",
                     "\t", "%YAML 1.1\n", "%TAG ! tag:x:\n", "number_of_epochs: ", "1e20",
                     "max_trials: ", "choice(1, 2)"]),
    st.sampled_from(TAGS).map(lambda t: t + " "),
    st.text(max_size=6),
)  # fmt: skip


@given(text=st.one_of(st.text(max_size=80), st.lists(fragments, max_size=20).map("".join)))
@example(text="search_space:\n  - learning_rate: [1\n")
@example(text="!!python/object:os.system\nfoo: 1\n")
@example(text="search_space: " + "[" * 3000 + "]" * 3000)
@example(text="search_space: &a [*a]\n")
@example(text="!!timestamp")  # PyYAML raised AttributeError
@example(text="!!float")  # IndexError
@example(text="!!bool x")  # KeyError
@example(text="!!int 0x")  # ValueError
@example(text='a: !!binary "aGk="\nb: !!set {x}\nc: 2020-01-01\n')
def test_random_yaml_text_is_refused_in_one_line(root, text) -> None:
    path = root / "text.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    run_cli(["validate", str(path)], root)
    run_cli(["tune", "-c", str(path), "--dry-run", "-q"], root)


# -- (b) distribution expressions ----------------------------------------------------------------


def _literal(draw) -> str:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return repr(draw(st.integers(-(10**30), 10**30)))
    if kind == 1:
        return repr(draw(st.floats(allow_nan=True, allow_infinity=True)))
    if kind == 2:
        return repr(draw(st.text(max_size=6)))
    if kind == 3:
        return draw(st.sampled_from(["true", "false", "null", "None", "True", "1e308", "1e-308",
                                     "-0.0", "2**10", "x", "...", "{1}", "{'a': 1}", "1j"]))  # fmt: skip
    if kind == 4:
        return "[" + ", ".join(_literal(draw) for _ in range(draw(st.integers(0, 3)))) + "]"
    if kind == 5:
        return draw(st.text(alphabet="()[],=-+.e0123456789 abxz'\"_*/", max_size=8))
    return repr(draw(st.integers(-3, 70)))


def _number(draw) -> str:
    return draw(st.one_of(
        st.integers(-3, 300).map(repr),
        st.floats(-1e3, 1e3).map(repr),
        st.sampled_from(["0", "1", "1e308", "-1e308", "1e-308", "700", "-700", "1e20", "0.5"]),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ))  # fmt: skip


@st.composite
def expressions(draw) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(max_size=40))
    if kind < 5:  # well formed: a known name with its number of numeric arguments
        name = draw(st.sampled_from(sorted(DISTRIBUTIONS)))
        if name == "choice":
            count = draw(st.integers(1, 4))
            args = [draw(st.one_of(st.just(_number(draw)), st.just(_literal(draw))))
                    for _ in range(count)]  # fmt: skip
        else:
            args = [_number(draw) for _ in DISTRIBUTIONS[name].arg_names]
        return f"{name}({', '.join(args)})"
    name = draw(st.sampled_from([*DISTRIBUTIONS, "Choice", "QUniform", "LOGUNIFORM", "nosuch",
                                 "eval", "__import__", "os.system", ""]))  # fmt: skip
    args = [_literal(draw) for _ in range(draw(st.integers(0, 4)))]
    for key in draw(st.lists(st.sampled_from(["values", "min_value", "max_value", "q", "mu",
                                              "sigma", "upper", "x"]), max_size=2)):  # fmt: skip
        args.append(f"{key}={_literal(draw)}")
    close = draw(st.sampled_from([")", ")", ")", "", "))", ")(1)"]))
    return f"{name}({', '.join(args)}{close}"


def _try_parse(text: str) -> Distribution | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse_distribution(text)
    except ValueError as err:
        message = str(err)
        assert "\n" not in message and len(message) < 600, message
        return None


@given(text=expressions(), field=st.sampled_from(FIELD_NAMES), u=st.floats(0, 1, exclude_max=True))
@example(text="quniform(0, 1e308, 1e-308)", field="learning_rate", u=0.5)
@example(text="qloguniform(0, 700, 1e-300)", field="learning_rate", u=0.5)
@example(text="lognormal(0, 1e300)", field="learning_rate", u=0.5)
@example(text="qlognormal(0, 1e300, 1)", field="number_of_epochs", u=0.5)
@example(text="normal(1e308, 1e308)", field="learning_rate", u=0.5)
@example(text="choice(" + "-" * 50_000 + "1)", field="learning_rate", u=0.5)
@example(text="choice(" + "not " * 50_000 + "1)", field="learning_rate", u=0.5)
@example(text="quniform(1, 1e20, 1)", field="number_of_epochs", u=0.5)
@example(text="randint(1e20)", field="random_seed", u=0.5)  # numpy could not draw it
@example(text="qnormal(0, 2260844053336077.0, 3)", field="random_seed", u=0.5)  # ints > 2**53
@example(text="quniform(1e308, 1e308, 3)", field="random_seed", u=0.5)
def test_a_distribution_text_parses_or_is_one_value_error(text, field, u) -> None:
    dist = _try_parse(text)
    event("parsed" if dist is not None else "refused")
    if dist is not None:
        assert _try_parse(str(dist)) == dist  # it prints to the text it parses from
        support = dist.support
        for point in (0.0, u, 1.0 - 1e-12):
            value = dist.from_unit(point)
            if not isinstance(dist, choice):
                assert math.isfinite(value) and support.contains(value), (dist, point, value)
        assert support.contains(dist.sample(np.random.default_rng(0)))
    try:  # as a field of a search space: checked against the field, or one ValueError
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ImageClassificationSearchSpace(**{field: text})
    except ValueError as err:
        assert "Traceback" not in str(err)


# -- (c) the flags of tune -----------------------------------------------------------------------

OPTIONS = SweepOptions.surfaces()


@st.composite
def flag_values(draw, name: str) -> list[str]:
    option = OPTIONS[name]
    flag = option.flag_name(name)
    if option.form is Form.SWITCH:
        return [draw(st.sampled_from([flag, "--no-" + flag.removeprefix("--")]))]
    number = st.one_of(
        st.integers(-(2**70), 2**70).map(str),
        st.integers(-2, 30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(WORDS),
    )
    word = st.one_of(st.sampled_from(WORDS), st.text(max_size=10), number)
    if option.form is Form.NUMBER:
        return [flag, draw(number)]
    if option.form is Form.LIST:
        return [flag, *draw(st.lists(word, min_size=1, max_size=3))]
    if option.form is Form.PAIRS:
        pairs = st.lists(st.tuples(st.sampled_from(["cpu", "gpu", "pretrained", "amp", "nosuch",
                                                    "task", "crop_scale", "x=y", ""]), word),
                         max_size=3)  # fmt: skip
        return [flag, draw(pairs.map(lambda ps: ",".join(f"{k}={v}" for k, v in ps)))]
    return [flag, draw(word)]


@st.composite
def tune_flags(draw) -> list[str]:
    names = draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=5, unique=True))
    argv: list[str] = []
    for name in names:
        argv += draw(flag_values(name))
    if "data" not in names:
        argv += ["--data", "{data}"]
    if "output_dir" not in names:
        argv += ["--output-dir", "{empty}/run"]
    for key in draw(st.lists(st.sampled_from(["--pretrained", "-c", "--force", "--no-resume"]),
                             max_size=1)):  # fmt: skip
        argv += [key] if key.startswith("--f") or key.startswith("--no") else [key, "{missing}"]
    return argv


@given(argv=tune_flags())
@example(argv=["--data", "{data}", "--policy", "bandit:slack_factor=[1"])
@example(argv=["--data", "{data}", "--max-trials", "true"])
@example(argv=["--data", "{data}", "--max-concurrent-trials", "100000000"])
@example(argv=["--data", "{data}", "--threads-per-trial", "100000000000000000000"])
@example(argv=["--data", "{data}", "--training-options", "nosuch=1"])
@example(argv=["--data", "{data}", "--primary-metric", "nosuch"])
@example(argv=["--data", "{data}", "--search-space", "{data}"])
def test_tune_flags_are_planned_or_refused_in_one_line(root, argv) -> None:
    run_cli(["tune", *[placed(a, root) for a in argv], "--dry-run", "-q"], root)
