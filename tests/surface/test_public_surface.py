"""Nothing public disappears: the surface recorded in ``public_surface.json`` (``automl_vision``'s
public names and their parameters, the CLI's commands and options, the keys a sweep job YAML
accepts, the early-termination types and keys, the search-space fields) is still all there.
Additions are allowed; a removal or a rename without an alias fails here."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from public_surface import SNAPSHOT, measure

RECORDED = json.loads(SNAPSHOT.read_text())


@pytest.fixture(scope="module")
def now() -> dict[str, Any]:
    return measure()


def test_every_public_name_is_still_there_with_its_parameters(now) -> None:
    """A function keeps its parameters; a class keeps each of its constructor's parameters as
    a parameter or as an attribute (a plan's ``slots`` may become a property of its capacity:
    ``plan_sweep`` builds plans, users read them)."""
    import automl_vision

    for name, entry in RECORDED["python"].items():
        assert name in now["python"], f"automl_vision.{name} is gone"
        before, after = entry["parameters"], now["python"][name]["parameters"]
        if before is None:
            continue
        value = getattr(automl_vision, name)
        kept = set(after or ()) | (
            {a for a in before if hasattr(value, a)} if isinstance(value, type) else set()
        )
        assert set(before) <= kept, (name, sorted(set(before) - kept))


@pytest.mark.parametrize("key", ["tune_options", "optimize_parameters", "plan_sweep_parameters"])
def test_every_option_of_the_entry_points_is_still_taken(now, key) -> None:
    assert set(RECORDED[key]) <= set(now[key]), sorted(set(RECORDED[key]) - set(now[key]))


def test_every_cli_command_and_option_is_still_there(now) -> None:
    for command, entry in RECORDED["cli"].items():
        assert command in now["cli"], f"the {command!r} command is gone"
        current = now["cli"][command]
        assert set(entry["flags"]) <= set(current["flags"]), (command, entry["flags"])
        assert current["positionals"][: len(entry["positionals"])] == entry["positionals"]
        for sub, options in entry.get("commands", {}).items():
            assert sub in current.get("commands", {}), (command, sub)
            assert set(options["flags"]) <= set(current["commands"][sub]["flags"])


def _job(dotted: str, value: Any, data: str) -> dict[str, Any]:
    value = json.loads(json.dumps(value).replace('"<data>"', json.dumps(data)))
    job: dict[str, Any] = {"training_data": {"path": data}}
    *parents, leaf = dotted.split(".") if not dotted.startswith("$") else [dotted]
    node = job
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return job


@pytest.mark.parametrize("dotted", sorted(RECORDED["job_keys"]))
def test_every_job_key_is_still_accepted(dotted, digits_folder, tmp_path) -> None:
    from automl_vision import SweepSpec, load_sweep_job

    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(_job(dotted, RECORDED["job_keys"][dotted], str(digits_folder))))
    load_sweep_job(path)
    SweepSpec.from_yaml(path)


@pytest.mark.parametrize("name", sorted(RECORDED["policies"]))
def test_every_policy_type_and_key_is_still_accepted(name) -> None:
    from automl_vision import policy_from_dict

    policy = policy_from_dict(RECORDED["policies"][name])
    assert policy_from_dict(policy.to_dict()) == policy


def test_every_search_space_field_is_still_there(now) -> None:
    assert set(RECORDED["search_space_fields"]) <= set(now["search_space_fields"])
