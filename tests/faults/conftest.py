"""Shared fixtures of the fault suite: the uninterrupted reference sweeps."""

from __future__ import annotations

import pytest
from killing import results, run_sweep


@pytest.fixture(scope="session")
def reference(digits_folder, tmp_path_factory):
    """The results of the tiny 3-epoch sweep run without a fault."""
    output = tmp_path_factory.mktemp("reference")
    run_sweep(digits_folder, output, codes=(0,))
    return results(output)
