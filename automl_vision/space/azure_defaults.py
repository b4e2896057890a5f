"""Azure AutoML-for-Images defaults for the classification fields.

A field that a search space or a trial leaves unset takes this value. Batch sizes and learning
rates depend on the model family (ViT sizes) and on the task (multiclass or multilabel).
This project's extension fields (``fields.EXTENSION_FIELDS``) have defaults here too: BCE, and
for ASL the paper's settings (Ridnik et al. 2021: gamma_neg 4, gamma_pos 0, clip 0.05).
"""

from __future__ import annotations

from typing import Any

from automl_vision.space.model_names import timm_model_name

__all__ = ["DEFAULT_MODEL", "azure_defaults"]

DEFAULT_MODEL = "seresnext"

_COMMON: dict[str, Any] = {
    "ams_gradient": False,
    "beta1": 0.9,
    "beta2": 0.999,
    "distributed": True,
    "early_stopping": True,
    "early_stopping_delay": 5,
    "early_stopping_patience": 5,
    "enable_onnx_normalization": False,
    "evaluation_frequency": 1,
    "gradient_accumulation_step": 1,
    "layers_to_freeze": 0,
    "learning_rate_scheduler": "warmup_cosine",
    "model_name": DEFAULT_MODEL,
    "momentum": 0.9,
    "nesterov": True,
    "number_of_epochs": 15,
    "number_of_workers": 8,
    "optimizer": "sgd",
    "random_seed": None,
    "step_lr_gamma": 0.5,
    "step_lr_step_size": 5,
    "warmup_cosine_lr_cycles": 0.45,
    "warmup_cosine_lr_warmup_epochs": 2,
    "weight_decay": 1e-4,
    "training_crop_size": 224,
    "validation_crop_size": 224,
    "validation_resize_size": 256,
    "weighted_loss": 0,
}

# this project's extension fields (not Azure's)
_EXTENSION: dict[str, Any] = {
    "loss_function": "bce",
    "asl_gamma_neg": 4.0,
    "asl_gamma_pos": 0.0,
    "asl_clip": 0.05,
}

# timm prefix -> (batch size, learning rate multiclass, learning rate multilabel)
_VIT = {
    "vit_small": (128, 0.0125, 0.025),
    "vit_base": (48, 0.0125, 0.025),
    "vit_large": (10, 0.001, 0.002),
}
_OTHER = (78, 0.01, 0.035)


def azure_defaults(model_name: str | None = None, multilabel: bool = False) -> dict[str, Any]:
    """Every field's default for ``model_name`` (Azure's default model when None) and the task."""
    model = model_name or DEFAULT_MODEL
    arch = timm_model_name(model)
    batch, lr_multiclass, lr_multilabel = next(
        (v for prefix, v in _VIT.items() if arch.startswith(prefix)), _OTHER
    )
    return {
        **_COMMON,
        **_EXTENSION,
        "model_name": model,
        "training_batch_size": batch,
        "validation_batch_size": batch,
        "learning_rate": lr_multilabel if multilabel else lr_multiclass,
    }
