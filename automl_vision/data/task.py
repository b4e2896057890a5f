"""The classification task: one label per image, or a set of labels per image."""

from __future__ import annotations

from automl_vision.enums import ChoiceEnum

__all__ = ["Task"]


class Task(ChoiceEnum):
    """``multiclass``: exactly one label per image; ``multilabel``: any set of labels.

    Azure's task names (``image_classification``, ``image_classification_multilabel``) are
    aliases, so a job's ``task:`` and ``tune(task=...)`` parse through this one enum."""

    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"

    @classmethod
    def _aliases(cls) -> dict[str, Task]:
        return {
            "image_classification": cls.MULTICLASS,
            "image_classification_multilabel": cls.MULTILABEL,
        }

    @classmethod
    def _allowed_text(cls) -> str:
        return "'multiclass' or 'multilabel'"

    @classmethod
    def parse(cls, value: Task | str, field: str = "task", hint: str = "") -> Task:  # type: ignore[override]
        """``Task`` or its name in any case (``"multi-label"`` and ``"multi_label"`` too)."""
        return super().parse(value, field, hint)
