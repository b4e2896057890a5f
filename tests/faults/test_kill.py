"""kill -9 a seeded sweep at named points, resume it, and check that nothing was lost.

After every resume: the store passes ``PRAGMA integrity_check``, no finished trial was lost or
run again, every interrupted trial continued from its last completed epoch (its resume
checkpoint), and the final results equal those of an uninterrupted sweep with the same seed.
Both tests are slow (make test runs them, the quick suite does not): the first tries one
kill point, the second the other 22 of ``KILL_POINTS``.
"""

from __future__ import annotations

import pytest
from killing import kill_and_resume, seeded_kill_points


def _check(outcome) -> None:
    assert outcome.integrity == "ok"
    assert outcome.lost == 0
    assert outcome.resumed_from_last_epoch
    assert all(n <= 1 for n in outcome.redone_epochs)
    assert outcome.equal


@pytest.mark.slow
@pytest.mark.parametrize("point", seeded_kill_points()[:1], ids=lambda p: f"{p[0]}:{p[1]}")
def test_kill_and_resume(digits_folder, tmp_path, reference, forker, point) -> None:
    outcome = kill_and_resume(digits_folder, tmp_path, *point, reference, forker)
    assert outcome.reached
    _check(outcome)


@pytest.mark.slow
@pytest.mark.parametrize("point", seeded_kill_points()[1:], ids=lambda p: f"{p[0]}:{p[1]}")
def test_kill_and_resume_everywhere(digits_folder, tmp_path, reference, forker, point) -> None:
    _check(kill_and_resume(digits_folder, tmp_path, *point, reference, forker))
