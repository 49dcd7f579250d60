"""Dock helpers: bad input reported in the status line, labels that wrap, narrow combo boxes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from magicgui.widgets import Container, Label

__all__ = ["INPUT_ERRORS", "compact_choices", "fit_width", "reported"]

#: What bad input raises while a job is prepared: reported in the status line.
INPUT_ERRORS = (ValueError, KeyError, TypeError, OSError, ImportError)


def reported(what: str) -> Callable:
    """Decorate a widget method so that bad input reads ``"cannot <what>: ..."`` in its status.

    The method (of a widget with ``say``) returns None then (no job started) instead of raising.
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def guarded(self, *args: Any, **kwargs: Any):
            try:
                return method(self, *args, **kwargs)
            except INPUT_ERRORS as error:
                self.say(f"cannot {what}: {error}")
                return None

        return guarded

    return decorate


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
