"""Shared fixtures of the fault suite: the fork server of its tiny sweeps and the
uninterrupted reference sweep."""

from __future__ import annotations

import pytest
from killing import SweepForker, results, run_sweep


@pytest.fixture(scope="session")
def forker(tmp_path_factory):
    """One fork server per test process (killing.SweepForker), stopped at the session's end."""
    server = SweepForker(tmp_path_factory.mktemp("forker"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def reference(digits_folder, tmp_path_factory, forker):
    """The results of the tiny 3-epoch sweep run without a fault."""
    output = tmp_path_factory.mktemp("reference")
    run_sweep(digits_folder, output, codes=(0,), forker=forker)
    return results(output)
