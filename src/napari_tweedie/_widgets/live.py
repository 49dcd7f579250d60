"""Live preview layers of a running job: throttled updates and a teardown that never stalls it.

napari runs a full ``gc.collect()`` (0.3-0.5 s, holding the GIL) each time a
layer leaves the canvas, which stalled a cancelled worker's last step; so
:meth:`LiveLayers.retire` hides the layers at once and removes them after the
worker thread has ended, one per turn of the event loop (removing several in
one turn can crash the OpenGL canvas).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import napari
import numpy as np
from qtpy.QtCore import QTimer

from .jobs import Job

__all__ = ["LiveLayers", "remove_layers", "replace_image"]

PLACEMENT = ("scale", "translate", "rotate", "shear", "affine")


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

        ``kwargs`` go to ``add_image`` when the layer is added (default
        contrast limits: the 1st and 99th percentiles of ``data``).  An image
        layer of that name the job does not own yet (a former result) is
        taken over: its data and placement are replaced.
        """
        layer = self.layers.get(name)
        if layer is not None and layer in self.viewer.layers:
            layer.data = data
            return layer
        place = {key: kwargs[key] for key in PLACEMENT if key in kwargs}
        layer = replace_image(self.viewer, name, data, place)  # e.g. a former run's result
        if layer is not None:
            self.layers[name] = layer
            return layer
        if "contrast_limits" not in kwargs:
            low, high = np.percentile(data, (1, 99))
            kwargs["contrast_limits"] = (float(low), float(high) + 1e-6)
        self.layers[name] = self.viewer.add_image(data, name=name, **kwargs)
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
    """Remove those of ``layers`` still in ``viewer``: the first now, each next one a turn later."""
    present = [layer for layer in layers if layer in viewer.layers]
    if not present:
        return
    viewer.layers.remove(present[0])
    if present[1:]:
        QTimer.singleShot(0, lambda: remove_layers(viewer, present[1:]))
