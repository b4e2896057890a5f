"""ImageClassificationSearchSpace: Azure's 31 fields and this project's extension fields, their
ranges, conditions, YAML and presets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import yaml

from automl_vision import (
    AZURE_MODELS,
    ImageClassificationMultilabelSearchSpace,
    ImageClassificationSearchSpace,
    SearchSpaceError,
    choice,
    load_search_space,
    loguniform,
    normal,
    preset_names,
    qlognormal,
    quniform,
    randint,
    uniform,
)
from automl_vision.space import (
    AZURE_FIELDS,
    EXTENSION_FIELDS,
    FIELDS,
    InactiveParameterWarning,
    ParameterSpace,
    as_parameter_spaces,
    azure_defaults,
    timm_model_name,
)

Space = ImageClassificationSearchSpace

AZURE = {
    "ams_gradient", "beta1", "beta2", "distributed", "early_stopping", "early_stopping_delay",
    "early_stopping_patience", "enable_onnx_normalization", "evaluation_frequency",
    "gradient_accumulation_step", "layers_to_freeze", "learning_rate", "learning_rate_scheduler",
    "model_name", "momentum", "nesterov", "number_of_epochs", "number_of_workers", "optimizer",
    "random_seed", "step_lr_gamma", "step_lr_step_size", "training_batch_size",
    "validation_batch_size", "warmup_cosine_lr_cycles", "warmup_cosine_lr_warmup_epochs",
    "weight_decay", "training_crop_size", "validation_crop_size", "validation_resize_size",
    "weighted_loss",
}  # fmt: skip
# this project's fields beyond Azure's: the multilabel loss
EXTENSION = {"loss_function", "asl_gamma_neg", "asl_gamma_pos", "asl_clip"}
ALL_FIELDS = AZURE | EXTENSION

# one valid fixed value and one valid distribution per field
VALID = {
    "ams_gradient": (True, choice(True, False)),
    "beta1": (0.9, uniform(0.8, 0.99)),
    "beta2": (0.999, uniform(0.9, 0.9999)),
    "distributed": (False, choice(False, True)),
    "early_stopping": (True, choice(True, False)),
    "early_stopping_delay": (0, choice(0, 5)),
    "early_stopping_patience": (5, quniform(1, 10, 1)),
    "enable_onnx_normalization": (True, choice(True)),
    "evaluation_frequency": (1, choice(1, 2)),
    "gradient_accumulation_step": (2, choice(1, 2, 4)),
    "layers_to_freeze": (2, randint(5)),
    "learning_rate": (0.01, loguniform(-9, -2)),
    "learning_rate_scheduler": ("step", choice("warmup_cosine", "step")),
    "model_name": ("seresnext", choice("resnet50", "vitb16r224")),
    "momentum": (0.9, uniform(0, 1)),
    "nesterov": (False, choice(True, False)),
    "number_of_epochs": (15, quniform(5, 30, 5)),
    "number_of_workers": (0, choice(0, 4)),
    "optimizer": ("adamw", choice("sgd", "adam", "adamw")),
    "random_seed": (42, randint(1000)),
    "step_lr_gamma": (0.5, uniform(0.1, 0.9)),
    "step_lr_step_size": (5, choice(3, 5)),
    "training_batch_size": (32, quniform(16, 128, 16)),
    "validation_batch_size": (64, choice(64, 128)),
    "warmup_cosine_lr_cycles": (0.45, uniform(0.3, 0.5)),
    "warmup_cosine_lr_warmup_epochs": (2, choice(0, 1, 2)),
    "weight_decay": (1e-4, loguniform(-11.5, -6.9)),
    "training_crop_size": (224, choice(224, 256)),
    "validation_crop_size": (224, choice(224)),
    "validation_resize_size": (256, choice(256, 288)),
    "weighted_loss": (1, choice(0, 1, 2)),
    "loss_function": ("asl", choice("bce", "asl")),
    "asl_gamma_neg": (4.0, uniform(0, 6)),
    "asl_gamma_pos": (0.0, choice(0.0, 1.0)),
    "asl_clip": (0.05, uniform(0, 0.2)),
}


def test_has_exactly_the_31_azure_fields_and_the_extension_fields() -> None:
    assert set(Space.model_fields) == ALL_FIELDS == set(FIELDS) == set(VALID)
    assert set(AZURE_FIELDS) == AZURE and len(AZURE_FIELDS) == 31
    assert set(EXTENSION_FIELDS) == EXTENSION
    assert {name for name, spec in FIELDS.items() if spec.extension} == EXTENSION


@pytest.mark.parametrize("field", sorted(VALID))
def test_each_field_accepts_a_fixed_value_and_a_distribution(field: str) -> None:
    fixed, dist = VALID[field]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InactiveParameterWarning)
        assert getattr(Space(**{field: fixed}), field) == fixed
        assert getattr(Space(**{field: dist}), field) == dist
        assert getattr(Space(**{field: str(dist)}), field) == dist
        assert getattr(Space(**{field: dist.to_dict()}), field) == dist


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        (
            "learning_rate",
            1.5,
            r"learning_rate=1\.5 is out of range; learning_rate must be a number in \[0, 1\]",
        ),
        ("learning_rate", -0.1, "out of range"),
        ("learning_rate", "fast", "is not a number"),
        ("learning_rate", float("nan"), "finite"),
        ("beta1", 2, r"beta1 must be a number in \[0, 1\]"),
        ("momentum", True, "is not a number"),
        ("weight_decay", 1.01, "out of range"),
        ("training_batch_size", 0, "training_batch_size must be an integer in \\[1, 65536\\]"),
        ("training_batch_size", 32.5, "is not an integer"),
        ("number_of_epochs", -3, "out of range"),
        ("number_of_workers", -1, "number_of_workers must be an integer in \\[0, 1024\\]"),
        ("weighted_loss", 3, r"weighted_loss must be an integer in \[0, 2\]"),
        ("early_stopping_patience", 0, "out of range"),
        ("validation_resize_size", 0, "out of range"),
        ("optimizer", "rmsprop", "optimizer must be one of 'sgd', 'adam', 'adamw'"),
        ("learning_rate_scheduler", "cosine", "one of 'warmup_cosine', 'step'"),
        ("nesterov", "yes", "nesterov must be true or false"),
        ("ams_gradient", 2, "is not a boolean"),
        (
            "model_name",
            "resnet5",
            r"model_name='resnet5' is not a known model \(did you mean 'resnet50'",
        ),
        ("model_name", "vitb16r22", "did you mean 'vitb16r224'"),
        ("model_name", 5, "is not a model name"),
        ("optimizer", ["sgd", "adam"], r"a list is not a value; .* write choice\('sgd', 'adam'\)"),
        ("loss_function", "focal", "loss_function must be one of 'bce', 'asl'"),
        ("asl_gamma_neg", -1, r"out of range; asl_gamma_neg must be a number >= 0"),
        ("asl_gamma_pos", -0.5, "asl_gamma_pos must be a number >= 0"),
        ("asl_clip", 1, r"out of range; asl_clip must be a number in \[0, 1\)"),
        ("asl_clip", -0.01, r"asl_clip must be a number in \[0, 1\)"),
    ],
)
def test_invalid_fixed_values_name_the_field_and_the_allowed_range(field, value, match) -> None:
    with pytest.raises(ValueError, match=match) as info:
        Space(**{field: value})
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("field", "dist", "match"),
    [
        (
            "learning_rate",
            uniform(0.5, 2),
            r"learning_rate=uniform\(0\.5, 2\) can produce values in \[0\.5, 2\], outside the allowed range: learning_rate must be a number in \[0, 1\]",
        ),
        (
            "learning_rate",
            normal(0.01, 0.001),
            r"learning_rate=normal\(0\.01, 0\.001\) is unbounded",
        ),
        (
            "learning_rate",
            loguniform(-5, 1),
            r"can produce values in \[0\.00673795, 2\.71828\] \(log scale\)",
        ),
        ("momentum", choice(0.9, 1.5), r"options that are not allowed: 1\.5 is out of range"),
        ("number_of_epochs", randint(10), r"can produce integers in \[0, 9\]"),
        ("number_of_epochs", qlognormal(3, 1, 1), r"is unbounded, .* in \[1, 10000\]"),
        ("training_batch_size", uniform(16, 64), "produces non-integer values"),
        ("training_batch_size", normal(32, 4), "produces non-integer values"),
        ("optimizer", choice("sgd", "rmsprop"), "'rmsprop' is not allowed"),
        ("optimizer", uniform(0, 1), r"only a fixed value or choice\(\.\.\.\) can be searched"),
        ("nesterov", randint(2), "only a fixed value or choice"),
        ("model_name", choice("resnet50", "resnet_fifty"), "'resnet_fifty' is not a known model"),
        ("weighted_loss", randint(4), r"weighted_loss must be an integer in \[0, 2\]"),
        ("loss_function", choice("bce", "focal"), "'focal' is not allowed"),
        # [0, 1): a distribution that can reach 1 is refused, one that stops short is not
        ("asl_clip", uniform(0, 1), r"can produce values in \[0, 1\], outside the allowed"),
        ("asl_clip", choice(0.05, 1.0), "1.0 is out of range"),
        ("asl_gamma_neg", normal(4, 1), "is unbounded"),
    ],
)
def test_distributions_whose_support_leaves_the_range_are_rejected(field, dist, match) -> None:
    with pytest.raises(ValueError, match=match):
        Space(**{field: dist})


def test_bad_distribution_string_in_a_field_quotes_it() -> None:
    with pytest.raises(
        ValueError, match=r"learning_rate: cannot parse distribution 'uniform\(0\.1,'"
    ):
        Space(learning_rate="uniform(0.1,")
    with pytest.raises(
        ValueError, match=r"learning_rate: unknown distribution 'unifrom'.*did you mean 'uniform'"
    ):
        Space(learning_rate="unifrom(0.1, 0.2)")


def test_unknown_field_suggests_the_close_match() -> None:
    with pytest.raises(
        ValueError, match="unknown field 'learning_rat'.*did you mean 'learning_rate'"
    ):
        Space(learning_rat=0.1)
    with pytest.raises(ValueError, match="unknown field 'zzz'.*the fields are ams_gradient"):
        Space.from_dict({"zzz": 1})


def test_fixed_values_are_normalized() -> None:
    space = Space(optimizer="SGD", model_name="ResNet50", training_batch_size=32.0, nesterov=1)
    assert space.optimizer == "sgd" and space.model_name == "resnet50"
    assert space.training_batch_size == 32 and isinstance(space.training_batch_size, int)
    assert space.nesterov is True
    assert Space(optimizer=choice("SGD", "Adam")).optimizer == choice("sgd", "adam")
    assert Space(learning_rate=choice(0, 1)).learning_rate == choice(0.0, 1.0)


def test_space_is_immutable() -> None:
    space = Space(learning_rate=0.01)
    with pytest.raises(ValueError):
        space.learning_rate = 0.02  # type: ignore[misc]


def test_azure_model_names_map_to_timm() -> None:
    assert set(AZURE_MODELS) == {
        "mobilenetv2", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
        "resnest50", "resnest101", "seresnext", "vits16r224", "vitb16r224", "vitl16r224",
    }  # fmt: skip
    import timm

    for azure, arch in AZURE_MODELS.items():
        assert timm.is_model(arch), (azure, arch)
        assert timm_model_name(azure) == arch
    assert timm_model_name("seresnext") == "seresnext50_32x4d"
    assert timm_model_name("vitb16r224") == "vit_base_patch16_224"
    assert timm_model_name("efficientnet_b0") == "efficientnet_b0"


def test_any_timm_model_name_is_accepted() -> None:
    assert Space(model_name="efficientnet_b0").model_name == "efficientnet_b0"
    assert Space(model_name="test_resnet").model_name == "test_resnet"
    assert Space(model_name="resnet50.a1_in1k").model_name == "resnet50.a1_in1k"


def test_conditional_activity() -> None:
    space = Space(
        optimizer=choice("sgd", "adam"),
        momentum=uniform(0.8, 0.99),
        nesterov=choice(True, False),
        beta1=uniform(0.8, 0.99),
        ams_gradient=choice(True, False),
        learning_rate_scheduler=choice("step", "warmup_cosine"),
        step_lr_gamma=uniform(0.1, 0.9),
        warmup_cosine_lr_cycles=uniform(0.3, 0.5),
        learning_rate=uniform(0.001, 0.01),
    )
    adam_step = {"optimizer": "adam", "learning_rate_scheduler": "step"}
    assert space.inactive_fields(adam_step) == {"momentum", "nesterov", "warmup_cosine_lr_cycles"}
    sgd_cos = {"optimizer": "sgd", "learning_rate_scheduler": "warmup_cosine"}
    assert space.inactive_fields(sgd_cos) == {"beta1", "ams_gradient", "step_lr_gamma"}
    # unset parents take Azure's defaults: sgd and warmup_cosine
    assert space.inactive_fields({}) == {"beta1", "ams_gradient", "step_lr_gamma"}
    assert space.is_active("learning_rate", adam_step)
    assert "beta1" in space.active_fields({"optimizer": "adamw"})


def test_sampling_the_parameter_space_skips_inactive_fields() -> None:
    space = Space(
        optimizer=choice("sgd", "adam"), momentum=uniform(0.8, 0.99), beta1=uniform(0.8, 0.99)
    )
    ps = space.to_parameter_space()
    assert next(iter(ps)) == "optimizer"  # parents first
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(50):
        config = ps.sample(rng)
        seen.add(config["optimizer"])
        if config["optimizer"] == "sgd":
            assert "momentum" in config and "beta1" not in config
        else:
            assert "beta1" in config and "momentum" not in config
        assert ps.contains(config)
    assert seen == {"sgd", "adam"}
    assert not ps.contains({"optimizer": "sgd", "momentum": 0.9, "beta1": 0.9})
    assert not ps.contains({"optimizer": "sgd", "momentum": 1.5})


def test_setting_a_field_that_can_never_be_active_warns() -> None:
    with pytest.warns(
        InactiveParameterWarning,
        match="beta1 is set but never used.*optimizer is 'sgd' \\(the default\\)",
    ):
        Space(beta1=0.9)
    with pytest.warns(InactiveParameterWarning, match="step_lr_gamma"):
        Space(learning_rate_scheduler="warmup_cosine", step_lr_gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Space(optimizer=choice("sgd", "adam"), beta1=0.9)


def test_validation_crop_must_fit_in_the_resize() -> None:
    with pytest.raises(
        ValueError, match="validation_crop_size .* can exceed validation_resize_size"
    ):
        Space(validation_crop_size=256, validation_resize_size=224)
    with pytest.raises(ValueError, match="can exceed"):
        Space(validation_crop_size=choice(224, 288), validation_resize_size=choice(256, 320))
    Space(validation_crop_size=choice(224, 256), validation_resize_size=choice(256, 288))


def test_dict_round_trip_and_yaml_form() -> None:
    space = Space(
        model_name=choice("resnet50", "vitb16r224"),
        learning_rate=uniform(0.001, 0.01),
        number_of_epochs=15,
    )
    data = space.to_dict()
    assert data == {
        "learning_rate": "uniform(0.001, 0.01)",
        "model_name": "choice('resnet50', 'vitb16r224')",
        "number_of_epochs": 15,
    }
    assert Space.from_dict(data) == space
    assert Space.from_dict(yaml.safe_load(yaml.safe_dump(data))) == space


def test_multilabel_space_is_the_same_fields() -> None:
    assert set(ImageClassificationMultilabelSearchSpace.model_fields) == ALL_FIELDS
    assert ImageClassificationMultilabelSearchSpace(learning_rate=0.035).learning_rate == 0.035


AZURE_JOB = """
$schema: https://azuremlschemas.azureedge.net/latest/autoMLJob.schema.json
type: automl
task: image_classification
search_space:
  - model_name:
      type: choice
      values: [vitb16r224, vits16r224]
    learning_rate:
      type: uniform
      min_value: 0.001
      max_value: 0.01
    number_of_epochs:
      type: choice
      values: [15, 30]
  - model_name: "choice('seresnext', 'resnet50')"
    learning_rate: "uniform(0.005, 0.05)"
    layers_to_freeze: "choice(0, 2)"
"""


def test_loads_the_azure_cli_v2_shape(tmp_path) -> None:
    path = tmp_path / "job.yml"
    path.write_text(AZURE_JOB)
    spaces = load_search_space(path)
    assert len(spaces) == 2
    assert spaces[0].model_name == choice("vitb16r224", "vits16r224")
    assert spaces[0].learning_rate == uniform(0.001, 0.01)
    assert spaces[1].layers_to_freeze == choice(0, 2)
    assert load_search_space(yaml.safe_load(AZURE_JOB)) == spaces
    assert load_search_space({"learning_rate": 0.01}) == [Space(learning_rate=0.01)]


def test_yaml_errors_name_the_file_the_space_and_the_field(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("search_space:\n  - learning_rate: 0.01\n  - learning_rate: uniform(0.5, 2)\n")
    with pytest.raises(
        SearchSpaceError, match=r"bad\.yaml: search_space\[1\]: learning_rate=uniform\(0\.5, 2\)"
    ):
        load_search_space(path)
    path.write_text("search_space:\n  - optimiser: sgd\n")
    with pytest.raises(
        SearchSpaceError, match="unknown field 'optimiser'.*did you mean 'optimizer'"
    ):
        load_search_space(path)
    path.write_text("search_space: [\n")
    with pytest.raises(SearchSpaceError, match="not valid YAML"):
        load_search_space(path)
    with pytest.raises(SearchSpaceError, match="does not exist"):
        load_search_space(tmp_path / "missing.yaml")
    with pytest.raises(SearchSpaceError, match="non-empty list"):
        load_search_space({"search_space": []})


def test_presets_load_by_name() -> None:
    names = preset_names()
    assert {"default", "cpu_tiny", "cnn", "vit"} <= set(names)
    for name in names:
        spaces = load_search_space(name)
        assert spaces and all(isinstance(s, Space) for s in spaces)
    with pytest.raises(SearchSpaceError, match="no preset search space named 'nope'; presets: cnn"):
        load_search_space("nope")


def test_a_list_of_spaces_is_one_sweep_space() -> None:
    spaces = as_parameter_spaces(load_search_space("default"))
    assert len(spaces) == 2 and all(isinstance(s, ParameterSpace) for s in spaces)
    plain = as_parameter_spaces({"x": uniform(0, 1), "kind": "choice('a', 'b')", "n": 3})
    assert plain[0]["kind"] == choice("a", "b") and plain[0].fixed == {"n": 3}
    with pytest.raises(SearchSpaceError, match="empty"):
        as_parameter_spaces([])
    with pytest.raises(SearchSpaceError, match=r"search_space\[0\]: expected a search space"):
        as_parameter_spaces([42])


def test_azure_defaults_depend_on_model_and_task() -> None:
    d = azure_defaults()
    assert d["model_name"] == "seresnext" and d["number_of_epochs"] == 15
    assert d["training_batch_size"] == 78 and d["learning_rate"] == 0.01
    assert azure_defaults(multilabel=True)["learning_rate"] == 0.035
    assert azure_defaults("vits16r224")["training_batch_size"] == 128
    assert azure_defaults("vitb16r224")["validation_batch_size"] == 48
    assert azure_defaults("vitl16r224", multilabel=True)["learning_rate"] == 0.002
    assert azure_defaults("vitb16r224")["learning_rate"] == 0.0125
    assert set(d) == ALL_FIELDS


def test_asl_fields_are_active_only_with_the_asymmetric_loss() -> None:
    space = Space(
        loss_function=choice("bce", "asl"), asl_gamma_neg=uniform(1, 6), asl_clip=choice(0, 0.05)
    )
    ps = space.to_parameter_space()
    assert next(iter(ps)) == "loss_function"  # the parent first
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        config = ps.sample(rng)
        seen.add(config["loss_function"])
        asl = {"asl_gamma_neg", "asl_clip"} <= set(config)
        assert asl == (config["loss_function"] == "asl"), config
    assert seen == {"bce", "asl"}
    assert space.inactive_fields({}) == {"asl_gamma_neg", "asl_clip"}  # bce by default
    assert Space(loss_function="ASL").loss_function == "asl"
    with pytest.warns(InactiveParameterWarning, match="asl_clip is set but never used.*'bce'"):
        Space(asl_clip=0.1)
    with pytest.warns(InactiveParameterWarning, match="asl_gamma_pos"):
        Space(loss_function="bce", asl_gamma_pos=1.0)
