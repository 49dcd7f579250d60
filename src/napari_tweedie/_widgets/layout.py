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


#: widest label column, pixels: longer labels wrap onto a second line
LABEL_MAX_WIDTH = 96


def compact_choices(container: Container) -> None:
    """Combo boxes of ``container`` (and sub-containers) narrow enough for the dock.

    Combo boxes are about 9 characters wide at least (long layer names no
    longer widen the dock; the open list shows them whole) and grow with the
    dock; the label column is capped (:func:`_wrap_labels`).  Text labels wrap
    instead of widening it (:func:`fit_width`).
    """
    from qtpy.QtWidgets import QComboBox

    _wrap_labels(container)
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
            box.setMinimumContentsLength(9)


def _wrap_labels(container: Container) -> None:
    """Cap ``container``'s label column at :data:`LABEL_MAX_WIDTH`; longer labels wrap.

    magicgui widens every row's label to the widest one, so one long label
    ("search distance (px)") widened the whole form past a docked width.
    """
    width = 0
    for row in _labeled_rows(container):
        label = row._label_widget.native
        label.setWordWrap(True)
        width = max(width, min(label.sizeHint().width(), LABEL_MAX_WIDTH))
    for row in _labeled_rows(container):
        row._label_widget.native.setMinimumWidth(width)
        row._label_widget.native.setMaximumWidth(width)


def _labeled_rows(container: Container):
    for widget in container:
        row = getattr(widget, "_labeled_widget_ref", None)
        row = row() if row is not None else None
        if row is not None and hasattr(row, "_label_widget"):
            yield row


def fit_scroll(container: Container) -> None:
    """Keep a scrollable ``container``'s dock at least as wide as its widest row.

    Only vertical scrolling is meant: without this the dock took the rows'
    width without the vertical scroll bar, and the right edge of every row
    (numbers, the ends of labels) was cut off.  The width follows every
    re-layout of the rows (a method's parameters rebuilt, a box shown).
    """
    from qtpy.QtCore import QEvent, QObject
    from qtpy.QtWidgets import QScrollArea

    scroll = container.root_native_widget
    if not isinstance(scroll, QScrollArea) or scroll.widget() is None:
        return
    if scroll.findChild(QObject, "fit_scroll") is not None:
        return

    def fit() -> None:
        bar = scroll.verticalScrollBar().sizeHint().width()
        need = scroll.widget().minimumSizeHint().width() + bar + 2 * scroll.frameWidth()
        if need != scroll.minimumWidth():
            scroll.setMinimumWidth(need)

    class _Refit(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
            if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Show):
                fit()
            return False

    refit = _Refit(scroll)
    refit.setObjectName("fit_scroll")
    scroll.widget().installEventFilter(refit)
    fit()
