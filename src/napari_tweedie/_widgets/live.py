"""Live preview layers of a running job: throttled updates and a teardown that never stalls it.

napari runs a full ``gc.collect()`` (0.3-0.5 s, holding the GIL) each time a
layer leaves the canvas, which stalled a cancelled worker's last step; so
:meth:`LiveLayers.retire` hides the layers at once and removes them after the
worker thread has ended.

Removing two layers in one turn of the Qt event loop and then redrawing the
canvas segfaults napari 0.9 / vispy (``glDrawArrays``) under Mesa (see
``tests/test_widget_crash.py``).  So every layer the plugin removes goes
through :func:`remove_layers`: one queue per viewer, at most one removal per
turn, each in a turn of its own (never in the turn of the request).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
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
#: per viewer: the layers waiting to be removed, one per turn of the event loop
_REMOVALS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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

    def show(self, name: str, data: np.ndarray, **kwargs: Any) -> napari.layers.Image:
        """Update the preview layer ``name`` with ``data``, or add it.

        ``kwargs`` go to ``add_image`` when the layer is added.  Without
        ``contrast_limits`` the limits follow the data: the 1st and 99th
        percentiles of each update (:func:`robust_limits`).  An image layer of
        that name the job does not own yet (a former result) is taken over:
        its data and placement are replaced.
        """
        if "contrast_limits" not in kwargs:
            self._tracked.add(name)
        layer = self.layers.get(name)
        if layer is not None and layer in self.viewer.layers:
            layer.data = data
            if name in self._tracked:
                layer.contrast_limits = robust_limits(data)
            return layer
        self.layers[name] = show_image(self.viewer, name, data, _placement(kwargs), **kwargs)
        return self.layers[name]

    def keep(self) -> None:
        """Let the preview layers stay as results: forget them without removing them."""
        self.layers, self._last = {}, 0.0

    def retire(self, job: Job | None) -> None:
        """Hide the preview layers now; remove them once ``job``'s worker thread has ended.

        The layers are forgotten at once, so that a new run starts its own (and
        its first update is due at once); ``job`` None removes them at once.
        """
        stale, self.layers, self._last = list(self.layers.values()), {}, 0.0
        self._tracked = set()
        for layer in stale:  # free the names for the next run's layers
            layer.visible = False
            layer.name = f"{layer.name} (ending)"
        if job is None:
            remove_layers(self.viewer, stale)
            return

        def remove() -> None:
            self._exiting.discard(job)
            remove_layers(self.viewer, stale)

        self._exiting.add(job)  # keeps a replaced job, and so its exit callbacks, alive
        job.after_exit(remove)


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
        layer.visible = False
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
    """Remove ``layers`` from ``viewer``: one per later turn of the event loop.

    All requests for one viewer share one queue, so two widgets retiring
    their layers at the same moment still remove them one turn apart.
    """
    queue = _REMOVALS.setdefault(viewer, [])
    idle = not queue
    queue.extend(layer for layer in layers if layer not in queue)
    if idle and queue:
        QTimer.singleShot(0, lambda: _remove_next(viewer))


def _remove_next(viewer: napari.viewer.Viewer) -> None:
    queue = _REMOVALS.get(viewer, [])
    while queue:
        layer = queue.pop(0)
        if layer in viewer.layers:
            viewer.layers.remove(layer)
            break
    if queue:
        QTimer.singleShot(0, lambda: _remove_next(viewer))
