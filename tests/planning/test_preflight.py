"""Errors found at planning time, before any trial runs: frozen layers beyond the model's stages,
a crop that does not fit in memory or on disk, a dataset whose images are all unreadable."""

from __future__ import annotations

import pytest
from helpers_sweep import tiny_space

from automl_vision import choice
from automl_vision.planning.plan import plan_sweep
from automl_vision.planning.preflight import check_plan


def test_layers_to_freeze_beyond_the_stages_is_found_at_planning(digits_folder, tmp_path):
    with pytest.raises(ValueError, match=r"search_space\[0\]\.layers_to_freeze can be 50.*5 stag"):
        plan_sweep(digits_folder, search_space=tiny_space(layers_to_freeze=choice(0, 50)))


def test_a_crop_larger_than_memory_is_found_at_planning(digits_folder) -> None:
    plan = plan_sweep(digits_folder, search_space=tiny_space(), output_dir="x")
    spaces = plan.parameter_spaces
    with pytest.raises(
        ValueError, match=r"search_space\[0\]\.training_crop_size can be 16: .*disk"
    ):
        check_plan(plan.dataset, spaces, available_memory=10**12, available_disk=1000)
    with pytest.raises(ValueError, match=r"training_crop_size can be 16: one batch of 64"):
        check_plan(plan.dataset, spaces, available_memory=64 * 3 * 16 * 16 * 4 - 1,
                   available_disk=10**12)  # fmt: skip
    check_plan(plan.dataset, spaces, available_memory=10**12, available_disk=10**12)


def test_all_images_corrupt_is_found_at_planning(tmp_path) -> None:
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.png").write_bytes(b"broken")
    with pytest.raises(ValueError, match="none of the 6 images could be read"):
        plan_sweep(tmp_path, search_space=tiny_space())


@pytest.mark.parametrize(
    ("loss", "said"),
    [("asl", "is 'asl'"), (choice("bce", "asl"), "can be 'asl'"), ("ASL", "is 'asl'")],
)
def test_the_asymmetric_loss_for_multiclass_data_is_refused_at_planning(
    digits_folder, loss, said
) -> None:
    with pytest.raises(
        ValueError, match=rf"search_space\[0\]\.loss_function {said}, which is for multilabel"
    ):
        plan_sweep(digits_folder, search_space=tiny_space(loss_function=loss), dry_run=True)
    plan_sweep(digits_folder, search_space=tiny_space(loss_function="bce"), dry_run=True)


def test_the_asymmetric_loss_is_planned_for_multilabel_data(digits_multilabel_folder) -> None:
    plan = plan_sweep(
        digits_multilabel_folder,
        search_space=tiny_space(loss_function=choice("bce", "asl"), asl_clip=choice(0, 0.05)),
        dry_run=True,
    )
    assert plan.parameter_spaces[0]["loss_function"] == choice("bce", "asl")
