"""What this process may use of the machine: its CPUs and the CPU's model."""

from __future__ import annotations

import platform
from pathlib import Path

from automl_vision.system import available_cpus, cpu_name


def test_available_cpus_is_at_least_one() -> None:
    assert available_cpus() >= 1


def test_cpu_name_is_the_first_model_name_of_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\n"
        "model name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
    )
    assert cpu_name(info) == "AMD EPYC 7B13"


def test_cpu_name_without_cpuinfo_falls_back_to_the_platform(tmp_path: Path) -> None:
    expected = platform.processor() or platform.machine() or "unknown"
    assert cpu_name(tmp_path / "missing") == expected
    (tmp_path / "arm").write_text("processor\t: 0\nBogoMIPS\t: 50.00\n")
    assert cpu_name(tmp_path / "arm") == expected
