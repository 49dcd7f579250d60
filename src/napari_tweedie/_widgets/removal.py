"""Removing layers from a viewer without crashing its canvas: one at a time, a redraw between.

Two patterns segfault napari 0.9 / vispy (``glDrawArrays``) under Mesa on the
next redraw (see ``tests/test_widget_crash.py``): removing a second layer
before the canvas has redrawn since the first removal (even a
``QTimer.singleShot(0)`` apart), and removing or adding a layer while a layer
that had been drawn was switched to ``visible = False``.  Every layer the
plugin removes goes through :func:`remove_layers`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import napari
from qtpy.QtCore import QTimer

__all__ = ["one_per_turn", "remove_layers", "viewer_open", "watch_jobs"]

#: per viewer: the layers waiting to be removed (see :func:`remove_layers`)
_REMOVALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: at least this long between two removals; and at most this long waiting for a redraw
REMOVAL_GAP_MS, REMOVAL_WAIT_S = 30, 1.0


def watch_jobs(viewer: napari.viewer.Viewer, widget: Any) -> None:
    """Hold removals from ``viewer`` while ``widget`` (with a ``busy`` property) runs a job."""
    _remover(viewer).widgets.add(widget)


def _remover(viewer: napari.viewer.Viewer) -> _Remover:
    remover = _REMOVALS.get(viewer)
    if remover is None:
        remover = _REMOVALS[viewer] = _Remover(viewer)
    return remover


def remove_layers(viewer: napari.viewer.Viewer, layers: Iterable[napari.layers.Layer]) -> None:
    """Remove ``layers`` from ``viewer`` one at a time, the canvas redrawn between two.

    All requests for one viewer share one queue (:class:`_Remover`), so two
    widgets retiring their layers at the same moment still remove them apart.
    """
    _remover(viewer).add(layers)


class _Remover:
    """One viewer's queue of layers to remove: one removal, then a redraw, then the next.

    Each removal happens in a later turn of the event loop than its request
    and at least :data:`REMOVAL_GAP_MS` after the former one, once the canvas
    has drawn since (or is not shown, or :data:`REMOVAL_WAIT_S` has passed).
    Removing two layers without a redraw between them segfaults the canvas
    (``glDrawArrays``), even a ``QTimer.singleShot(0)`` apart.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        self.viewer = weakref.ref(viewer)
        self.queue: list[napari.layers.Layer] = []
        self.widgets: weakref.WeakSet = weakref.WeakSet()  # see watch_jobs
        self.drawn = True
        self.last = 0.0
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(REMOVAL_GAP_MS)
        self.timer.timeout.connect(self.next)
        self.canvas = _canvas(viewer)
        if self.canvas is not None:
            self.canvas.events.draw.connect(self._drew)

    def _drew(self, event=None) -> None:
        self.drawn = True

    def add(self, layers: Iterable[napari.layers.Layer]) -> None:
        self.queue.extend(layer for layer in layers if layer not in self.queue)
        if self.queue and not self.timer.isActive():
            self.timer.start()

    def ready(self) -> bool:
        """Whether no job runs and the canvas has drawn since the last removal (or need not).

        A removal costs the GUI thread 0.2-0.3 s: it waits until no widget of
        this viewer runs a job (:func:`watch_jobs`; a cancelled run's layers,
        hidden, go once the next run is over too).
        """
        if any(widget.busy for widget in list(self.widgets)):
            return False
        shown = self.canvas is not None and self.canvas.native.isVisible()
        return self.drawn or not shown or time.monotonic() - self.last > REMOVAL_WAIT_S

    def next(self) -> None:
        """Remove the next queued layer still in the viewer, if the canvas is ready."""
        viewer = self.viewer()
        try:
            ready = viewer is not None and self.ready()
            if viewer is None:
                self.queue = []
        except RuntimeError:  # the window is closed: its layers go with it
            ready, self.queue = False, []
        if ready:
            while self.queue:
                layer = self.queue.pop(0)
                if layer in viewer.layers:
                    self.drawn, self.last = False, time.monotonic()
                    viewer.layers.remove(layer)
                    break
        if self.queue:
            self.timer.start()


def _canvas(viewer: napari.viewer.Viewer):
    """The viewer's vispy canvas (its ``draw`` events), or None where napari hides it otherwise."""
    import warnings

    with warnings.catch_warnings():  # napari has no public draw event; deprecated, not gone
        warnings.simplefilter("ignore", FutureWarning)
        window = getattr(viewer, "window", None)
        canvas = getattr(getattr(window, "_qt_viewer", None), "canvas", None)
        return getattr(canvas, "_scene_canvas", None)


def viewer_open(viewer: napari.viewer.Viewer) -> bool:
    """Whether ``viewer``'s window is still open (a closed one's canvas must not be touched)."""
    import warnings

    with warnings.catch_warnings():  # napari's plugin proxy warns on private names
        warnings.simplefilter("ignore")
        return hasattr(getattr(viewer, "window", None), "_qt_window")


def one_per_turn(calls: Iterable[Callable[[], Any]], viewer=None) -> None:
    """Run ``calls`` in order, each in a later turn of the event loop than the one before.

    Adding a layer costs the GUI thread ~0.1-0.2 s (its vispy visual, its
    controls); several added in one callback stalled the GUI for a second or more.
    With ``viewer``, the calls left are dropped once its window is closed (a layer
    added to a closed viewer aborted napari).
    """
    pending = list(calls)

    def next_call() -> None:
        if viewer is not None and not viewer_open(viewer):
            pending.clear()
        if pending:
            pending.pop(0)()
        if pending:
            QTimer.singleShot(0, next_call)

    if pending:
        QTimer.singleShot(0, next_call)
