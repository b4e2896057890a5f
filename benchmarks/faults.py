"""The "Faults" table of RESULTS.md: kill -9 a seeded digits sweep at every kill point of
``tests/faults/killing.py``, resume it, and count what survived.

PYTHONPATH=. python benchmarks/faults.py DIGITS_DIR WORK_DIR
(DIGITS_DIR: digit PNG folders, e.g. ``automl-vision demo-data``'s digits)
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

from killing import kill_and_resume, results, run_sweep, seeded_kill_points


def main(data: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    run_sweep(data, work / "reference")
    reference = results(work / "reference")
    tried = survived = lost = 0
    redone: list[int] = []
    for n, (point, count) in enumerate(seeded_kill_points()):
        outcome = kill_and_resume(data, work / f"kill{n:02d}", point, count, reference)
        if not outcome.reached:
            continue
        tried += 1
        lost += outcome.lost
        redone += outcome.redone_epochs
        ok = outcome.integrity == "ok" and outcome.lost == 0 and outcome.equal
        survived += ok and outcome.resumed_from_last_epoch
        print(f"{outcome.point}: {'ok' if ok else 'FAILED'} redone {outcome.redone_epochs}")
    print("| kill points tried | survived | trials lost | epochs re-done per kill (median, max) |")
    print("|---|---|---|---|")
    med = statistics.median(redone) if redone else 0
    print(f"| {tried} | {survived} | {lost} | {med}, {max(redone, default=0)} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
