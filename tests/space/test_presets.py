"""The preset search spaces come from one place: the top-level ``search_spaces/`` folder, reached
through the package resource ``automl_vision/search_spaces`` (a symlink to it in a clone; the
wheel ships the files there), so a clone cannot silently use another copy."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from automl_vision.space import load, load_search_space, preset_names
from automl_vision.space.errors import SearchSpaceError
from automl_vision.space.load import _presets_dir, preset_path

REPO_PRESETS = Path(__file__).resolve().parents[2] / "search_spaces"


def test_the_presets_are_the_top_level_folder_reached_as_a_package_resource() -> None:
    assert _presets_dir().resolve() == REPO_PRESETS.resolve()
    assert _presets_dir().parent.name == "automl_vision"  # the resource, not a guessed path


def test_every_preset_file_is_listed_and_loads() -> None:
    files = sorted(p.stem for p in REPO_PRESETS.glob("*.yaml"))
    assert files and preset_names() == files
    for name in files:
        assert preset_path(name).resolve() == (REPO_PRESETS / f"{name}.yaml").resolve()
        assert load_search_space(name), name


def test_the_package_link_points_at_the_top_level_folder() -> None:
    link = REPO_PRESETS.parent / "automl_vision" / "search_spaces"
    assert link.is_symlink(), "automl_vision/search_spaces must be a symlink to search_spaces/"
    assert link.readlink() == Path("..") / "search_spaces"


def test_missing_presets_are_one_clear_error(monkeypatch, tmp_path) -> None:
    (tmp_path / "automl_vision").mkdir()  # a package without its presets
    monkeypatch.setattr(
        load, "resources", SimpleNamespace(files=lambda _: tmp_path / "automl_vision")
    )
    with pytest.raises(SearchSpaceError, match="preset search spaces are missing"):
        preset_names()
