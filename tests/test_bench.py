"""``automl-vision bench --quick`` on CPU: every part of the table is measured and printed."""

from __future__ import annotations

import json

from automl_vision.cli import main


def test_quick_bench_prints_the_table_and_writes_json(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--device", "cpu", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test_resnet @32px batch 16 fp32" in text
    assert "sweep of 2 small trials" in text and "trials/h" in text
    data = json.loads(out.read_text())
    (row,) = data["trainer"]
    assert row["bare_images_per_s"] > 0 and row["trainer_images_per_s"] > 0 and row["ratio"] > 0
    assert data["sweep"]["one_at_a_time_trials_per_hour"] > 0
    assert data["sweep"]["packed_trials_per_hour"] > 0
