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
from collections.abc import Iterable
from typing import Any

import napari
import numpy as np
from qtpy.QtCore import QTimer

from .jobs import Job
from .removal import one_per_turn, remove_layers

__all__ = [
    "LiveLayers",
    "discard_layer",
    "one_per_turn",
    "remove_layers",
    "replace_image",
    "reveal",
    "same_placement",
    "robust_limits",
    "show_image",
]

PLACEMENT = ("scale", "translate", "rotate", "shear", "affine")
#: layer metadata of a layer staged at Run, still transparent: its opacity once data comes
STAGED_KEY = "napari_tweedie_staged_opacity"
#: at most this many pixels are read to set contrast limits (a strided sample)
LIMIT_SAMPLE = 65_536


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
        that name the job does not own yet (staged at Run, or a former result)
        is taken over at once: its data and placement are replaced.  New
        layers are added one per turn of the event loop (each costs the GUI
        thread 0.1-0.3 s), the latest data of a waiting one replacing its
        former data; returns the layer, or None while it waits.
        """
        if "contrast_limits" not in kwargs:
            self._tracked.add(name)
        layer = self.layers.get(name)
        if layer is not None and layer in self.viewer.layers:
            layer.data = data
        else:  # a layer staged at Run (see staging.py) or a former result: taken over
            layer = replace_image(self.viewer, name, data, _placement(kwargs))
        if layer is not None:
            self.layers[name] = layer
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

    def release(self, layers: Iterable[napari.layers.Layer]) -> None:
        """Stop following ``layers`` (a run's staged layers, now its results or restored)."""
        gone = list(layers)  # compared with ==: napari hands plugins proxies of its layers
        for name in [n for n, layer in self.layers.items() if layer in gone]:
            del self.layers[name]
            self._tracked.discard(name)

    def retire(self, job: Job | None, also: Iterable[napari.layers.Layer] = ()) -> None:
        """Hide the preview layers (and ``also``) now; remove them once ``job``'s thread ended.

        The layers are forgotten at once, so that a new run starts its own (and
        its first update is due at once); ``job`` None removes them at once.
        """
        stale = list(self.layers.values())
        stale += [layer for layer in also if layer not in stale]
        self.layers, self._last, self._tracked, self._pending = {}, 0.0, set(), {}
        if not stale:
            return
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
    another dimensionality or colour form does not count.  A layer staged at
    Run becomes visible (:func:`reveal`).
    """
    layer = viewer.layers[name] if name in viewer.layers else None  # noqa: SIM401 (no get)
    if not (isinstance(layer, napari.layers.Image) and _fits(layer, data)):
        return None
    layer.data = data
    for key, value in place.items():
        if not same_placement(getattr(layer, key), value):  # each change re-slices the layer
            setattr(layer, key, value)
    reveal(layer)
    return layer


def same_placement(current: Any, value: Any) -> bool:
    """Whether a layer's placement attribute ``current`` already equals ``value``."""
    current, value = (getattr(v, "affine_matrix", v) for v in (current, value))
    try:
        current, value = np.asarray(current, float), np.asarray(value, float)
    except (TypeError, ValueError):
        return False
    return current.shape == value.shape and bool(np.allclose(current, value, rtol=0, atol=1e-12))


def _fits(layer: napari.layers.Image, data) -> bool:
    """Whether ``data`` can replace ``layer``'s: as many dimensions, the same colour form."""
    if layer.rgb:
        shape = np.shape(data)
        return layer.ndim == len(shape) - 1 and shape[-1] == layer.data.shape[-1]
    return layer.ndim == np.ndim(data)


def reveal(layer: napari.layers.Layer) -> None:
    """Give a layer staged at Run (transparent, see staging.py) its opacity: its data came."""
    opacity = layer.metadata.pop(STAGED_KEY, None)
    if opacity is not None:
        layer.opacity = opacity
