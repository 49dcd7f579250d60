"""Dock layout helpers: labels that wrap instead of widening the dock, narrow combo boxes."""

from __future__ import annotations

from magicgui.widgets import Container, Label

__all__ = ["compact_choices", "fit_width"]


def fit_width(label: Label) -> None:
    """Let ``label`` wrap its text and never widen its dock."""
    from qtpy.QtWidgets import QSizePolicy

    label.native.setWordWrap(True)
    label.native.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.native.setMinimumWidth(40)


def compact_choices(container: Container) -> None:
    """Combo boxes of ``container`` (and its sub-containers) as narrow as about 14 characters.

    Long layer names no longer widen the dock (the open list shows them
    whole); text labels wrap instead of widening it (:func:`fit_width`).
    """
    from qtpy.QtWidgets import QComboBox

    for widget in container:
        if isinstance(widget, Container):
            compact_choices(widget)
        elif isinstance(widget, Label):
            fit_width(widget)
        elif isinstance(widget.native, QComboBox):
            box = widget.native
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            box.setMinimumContentsLength(14)
