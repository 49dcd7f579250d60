"""Live preview layers of a running job: throttled updates and a teardown that never stalls it.

napari runs a full ``gc.collect()`` (0.3-0.5 s, holding the GIL) each time a
layer leaves the canvas, which stalled a cancelled worker's last step; so
:meth:`LiveLayers.retire` hides the layers at once and removes them after the
worker thread has ended.

Two patterns segfault napari 0.9 / vispy (``glDrawArrays``) under Mesa on the
next redraw (see ``tests/test_widget_crash.py``): removing a second layer
before the canvas has redrawn since the first removal (even a
``QTimer.singleShot(0)`` apart), and removing or adding a layer while a layer
that had been drawn was switched to ``visible = False``.  So the plugin hides
a layer it is about to remove with opacity 0, never ``visible``, and every
layer it removes goes through :func:`remove_layers`: one queue per viewer, one
removal at a time, the next only after the canvas has drawn.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import napari
import numpy as np
from qtpy.QtCore import QTimer

from .jobs import Job

__all__ = [
    "LiveLayers",
    "discard_layer",
    "remove_layers",
    "replace_image",
    "robust_limits",
    "show_image",
]

PLACEMENT = ("scale", "translate", "rotate", "shear", "affine")
#: at most this many pixels are read to set contrast limits (a strided sample)
LIMIT_SAMPLE = 65_536
#: per viewer: the layers waiting to be removed (see :func:`remove_layers`)
_REMOVALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: at least this long between two removals; and at most this long waiting for a redraw
REMOVAL_GAP_MS, REMOVAL_WAIT_S = 30, 1.0


def robust_limits(data: Any, percentiles: tuple[float, float] = (1, 99)) -> tuple[float, float]:
    """Contrast limits of ``data``: its 1st and 99th percentiles (of a strided sample).

    Non-finite values are ignored; a constant image gets a small positive range.
    """
    array = np.asarray(data)
    stride = max(1, int(np.ceil(np.sqrt(array.size / LIMIT_SAMPLE))))
    sample = array[..., ::stride, ::stride] if array.ndim >= 2 else array[::stride]
    sample = np.asarray(sample, np.float64)
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(sample, percentiles))
    if high <= low:
        high = low + max(abs(low) * 1e-3, 1e-6)
    return low, high


class LiveLayers:
    """The preview layers a running job shows in ``viewer``, by name.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer the layers are added to.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        self.viewer = viewer
        self.layers: dict[str, napari.layers.Image] = {}
        self._tracked: set[str] = set()  # names whose contrast limits follow their data
        self._last = 0.0
        self._exiting: set[Job] = set()  # jobs whose thread must end before a removal
        self._pending: dict[str, tuple[np.ndarray, dict]] = {}  # layers to add, in order
        self._adder = QTimer()
        self._adder.setSingleShot(True)
        self._adder.setInterval(0)
        self._adder.timeout.connect(self._add_next)

    def due(self, interval_s: float, *, final: bool = False) -> bool:
        """Whether an update is due: ``interval_s`` since the last one, or the ``final`` step.

        Returns
        -------
        bool
            True starts a new interval.
        """
        now = time.monotonic()
        if not final and now - self._last < interval_s:
            return False
        self._last = now
        return True

    def show(self, name: str, data: np.ndarray, **kwargs: Any) -> napari.layers.Image | None:
        """Update the preview layer ``name`` with ``data``, or add it in a later turn.

        ``kwargs`` go to ``add_image`` when the layer is added.  Without
        ``contrast_limits`` the limits follow the data: the 1st and 99th
        percentiles of each update (:func:`robust_limits`).  An image layer of
        that name the job does not own yet (a former result) is taken over:
        its data and placement are replaced.  New layers are added one per
        turn of the event loop (each costs the GUI thread 0.1-0.3 s), the
        latest data of a waiting one replacing its former data; returns the
        layer, or None while it waits.
        """
        if "contrast_limits" not in kwargs:
            self._tracked.add(name)
        layer = self.layers.get(name)
        if layer is not None and layer in self.viewer.layers:
            layer.data = data
            if name in self._tracked:
                layer.contrast_limits = robust_limits(data)
            return layer
        self._pending[name] = (data, kwargs)
        if not self._adder.isActive():
            self._adder.start()
        return None

    def _add_next(self) -> None:
        if not self._pending:
            return
        name = next(iter(self._pending))
        data, kwargs = self._pending.pop(name)
        self.layers[name] = show_image(self.viewer, name, data, _placement(kwargs), **kwargs)
        if self._pending:
            self._adder.start()

    def keep(self) -> None:
        """Let the preview layers stay as results: forget them without removing them.

        Layers still waiting to be added are added at once.
        """
        while self._pending:
            self._add_next()
        self.layers, self._last = {}, 0.0

    def retire(self, job: Job | None) -> None:
        """Hide the preview layers now; remove them once ``job``'s worker thread has ended.

        The layers are forgotten at once, so that a new run starts its own (and
        its first update is due at once); ``job`` None removes them at once.
        """
        stale, self.layers, self._last = list(self.layers.values()), {}, 0.0
        self._tracked, self._pending = set(), {}
        for layer in stale:  # free the names for the next run's layers
            _hide(layer)
            layer.name = f"{layer.name} (ending)"
        if job is None:
            remove_layers(self.viewer, stale)
            return

        def remove() -> None:
            self._exiting.discard(job)
            remove_layers(self.viewer, stale)

        self._exiting.add(job)  # keeps a replaced job, and so its exit callbacks, alive
        job.after_exit(remove)


def _hide(layer: napari.layers.Layer) -> None:
    """Make ``layer`` invisible until it is removed: opacity 0, never ``visible = False``.

    A drawn layer switched to ``visible = False`` while another layer is then
    removed or added segfaults napari 0.9's canvas under Mesa
    (``tests/test_widget_crash.py``).
    """
    layer.opacity = 0.0


def _placement(kwargs: dict) -> dict:
    return {key: kwargs[key] for key in PLACEMENT if key in kwargs}


def show_image(viewer: napari.viewer.Viewer, name: str, data, place: dict, **kwargs: Any):
    """Update the image layer ``name`` (data, placement, contrast) in place, or add it.

    ``place`` holds the layer's placement (scale, translate, ...), ``kwargs``
    further ``add_image`` keywords; without ``contrast_limits`` they are
    :func:`robust_limits` of ``data``.  A second run thus replaces its former
    result instead of adding ``"name [1]"``.
    """
    kwargs.setdefault("contrast_limits", robust_limits(data))
    layer = replace_image(viewer, name, data, place)
    if layer is not None:
        layer.contrast_limits = kwargs["contrast_limits"]
        return layer
    discard_layer(viewer, name)
    return viewer.add_image(data, name=name, **{**kwargs, **place})


def discard_layer(viewer: napari.viewer.Viewer, name: str) -> None:
    """Hide the layer ``name``, free its name and remove it soon (see :func:`remove_layers`)."""
    if name in viewer.layers:
        layer = viewer.layers[name]
        _hide(layer)
        layer.name = f"{name} (replaced)"
        remove_layers(viewer, [layer])


def replace_image(viewer: napari.viewer.Viewer, name: str, data, place: dict):
    """Replace the data and placement of the image layer ``name``; None if it has no such layer.

    ``place`` holds layer attributes (scale, translate, ...); a layer of
    another dimensionality does not count.
    """
    layer = viewer.layers[name] if name in viewer.layers else None  # noqa: SIM401 (no get)
    if not (isinstance(layer, napari.layers.Image) and layer.ndim == np.ndim(data)):
        return None
    layer.data = data
    for key, value in place.items():
        setattr(layer, key, value)
    return layer


def remove_layers(viewer: napari.viewer.Viewer, layers: Iterable[napari.layers.Layer]) -> None:
    """Remove ``layers`` from ``viewer`` one at a time, the canvas redrawn between two.

    All requests for one viewer share one queue (:class:`_Remover`), so two
    widgets retiring their layers at the same moment still remove them apart.
    """
    remover = _REMOVALS.get(viewer)
    if remover is None:
        remover = _REMOVALS[viewer] = _Remover(viewer)
    remover.add(layers)


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
        """Whether the canvas has drawn since the last removal (or need not)."""
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


def one_per_turn(calls: Iterable[Callable[[], Any]]) -> None:
    """Run ``calls`` in order, each in a later turn of the event loop than the one before.

    Adding a layer costs the GUI thread ~0.1-0.2 s (its vispy visual, its
    controls); several added in one callback stalled the GUI for a second or more.
    """
    pending = list(calls)

    def next_call() -> None:
        if pending:
            pending.pop(0)()
        if pending:
            QTimer.singleShot(0, next_call)

    if pending:
        QTimer.singleShot(0, next_call)
