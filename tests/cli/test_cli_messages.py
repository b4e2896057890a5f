"""How the command line words its mistakes and warnings: one line each, naming the command."""

from __future__ import annotations

import warnings

import pytest

from automl_vision.cli import main


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["tune", "--data", "d", "--max-trails", "3"],
         "automl-vision tune: unknown option --max-trails; did you mean --max-trials?"),
        (["tune", "--data", "d", "--max-trails=3"],
         "automl-vision tune: unknown option --max-trails; did you mean --max-trials?"),
        (["cache", "info", "--dri", "x"],
         "automl-vision cache: unknown option --dri; did you mean --dir?"),
        (["--verbsoe", "spaces"], "automl-vision: unknown option --verbsoe; did you mean --verbose?"),
    ],
)  # fmt: skip
def test_an_unknown_option_names_the_command_and_the_close_match(argv, line, capsys) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == line + "\n"


def test_an_unknown_option_without_a_close_match_points_to_help(capsys) -> None:
    assert main(["spaces", "--zzzzzz"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "automl-vision spaces: unknown option --zzzzzz (see automl-vision spaces --help)\n"
    )


def test_an_unexpected_argument_is_one_line(capsys) -> None:
    assert main(["spaces", "cnn", "extra"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "automl-vision spaces: unexpected argument extra" in err


class _Noted(UserWarning):
    pass


def test_a_warning_is_one_clean_line_and_the_display_is_restored(
    tmp_path, monkeypatch, capsys
) -> None:
    def warns(spec, **_: object) -> None:
        warnings.warn("no weights for test_resnet: it starts from scratch", _Noted, stacklevel=2)

    monkeypatch.setattr("automl_vision.cli.tune.run_spec", warns)
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["tune", "--data", str(tmp_path), "--dry-run"]) == 0
    assert warnings.showwarning is before  # the library's callers keep Python's display
    err = capsys.readouterr().err
    assert err == "automl-vision: warning: no weights for test_resnet: it starts from scratch\n"
