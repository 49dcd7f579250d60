"""The layers a run will fill, prepared when the user clicks Run, never while its job runs.

Adding an image layer costs napari 0.9 the GUI thread 0.1-0.8 s (its
controls, its vispy visual, the first draw) and removing one 0.2-0.3 s
(selection and style refresh), whatever the plugin does
(``benchmarks/bench_gui_stalls.py``).  Done from a job's callbacks, each was a
visible freeze while the job ran.  So a widget *stages* its result layers in
the Run click's handler: a layer of the result's name, shape and look is made
ready (a former result of that name is reused as it is; a new one starts
transparent, so no placeholder shows); the job's live updates and its result
then only replace data, placement and contrast limits (milliseconds).  If the
job is cancelled or fails, a reused former result gets its data back and a new
layer is removed once the job's thread has ended.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import napari
import numpy as np

from .live import PLACEMENT, STAGED_KEY, discard_layer, reveal

__all__ = ["Stage"]


@dataclass
class _Former:
    """What a reused layer showed before the run (restored if the run does not end well)."""

    data: Any
    place: dict
    contrast_limits: tuple


@dataclass
class Stage:
    """The result layers of one run, made ready before its job starts (see module docstring).

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer the layers belong to.
    """

    viewer: napari.viewer.Viewer
    new: list = field(default_factory=list)
    former: dict = field(default_factory=dict)  # layer -> _Former

    def lazy_image(self, name: str, shape: tuple[int, ...], place: dict, **kwargs: Any):
        """:meth:`image` for a whole layer's result: a lazy (dask) placeholder, no memory."""
        import dask.array as da

        chunks = tuple(min(n, 1024) if i >= len(shape) - 2 else 1 for i, n in enumerate(shape))
        return self.image(name, shape, place, placeholder=da.zeros(shape, np.float32, chunks),
                          **kwargs)  # fmt: skip

    def image(self, name: str, shape: tuple[int, ...], place: dict, placeholder=None,
              **kwargs: Any):  # fmt: skip
        """Make the image layer ``name`` ready to receive data of ``shape`` in place.

        An image layer of that name whose data has the same number of
        dimensions (and the same colour form, ``rgb``) is reused: it keeps
        showing the former result until the new data comes.  Otherwise one is
        added now, transparent until its data comes (:func:`reveal`), with
        ``place`` (scale, translate, ...) and ``kwargs`` (``add_image``
        keywords: colormap, contrast limits, ``rgb``, ``visible``...).
        """
        rgb = bool(kwargs.get("rgb", False))
        layer = self.viewer.layers[name] if name in self.viewer.layers else None  # noqa: SIM401
        if (
            isinstance(layer, napari.layers.Image)
            and layer.ndim == len(shape) - rgb
            and bool(layer.rgb) == rgb
            and (not rgb or layer.data.shape[-1] == shape[-1])
        ):
            if layer not in self.former:
                self.former[layer] = _Former(
                    layer.data,
                    {key: getattr(layer, key) for key in PLACEMENT if key in place},
                    tuple(layer.contrast_limits),
                )
            return layer
        discard_layer(self.viewer, name)
        kwargs.setdefault("contrast_limits", (0.0, 1.0))
        opacity = float(kwargs.pop("opacity", 1.0))
        data = np.zeros(shape, np.float32) if placeholder is None else placeholder
        layer = self.viewer.add_image(data, name=name, opacity=0.0, **place, **kwargs)
        layer.metadata[STAGED_KEY] = opacity
        self.new.append(layer)
        return layer

    def commit(self) -> None:
        """The run ended well: its layers are its results (nothing to undo)."""
        for layer in self.layers():
            reveal(layer)
        self.new, self.former = [], {}

    def adopt(self, layer: napari.layers.Layer) -> None:
        """Count ``layer``, added for this run (e.g. a Labels layer), as one of its new layers."""
        self.new.append(layer)

    def layers(self) -> list:
        """The run's layers: reused and new."""
        return [*self.former, *self.new]

    def undo(self) -> list:
        """The run was cancelled or failed: restore the reused layers; returns the new ones.

        The caller removes the new layers once the job's thread has ended
        (:meth:`~.live.LiveLayers.retire`).
        """
        new, former, self.new, self.former = self.new, self.former, [], {}
        for layer, before in former.items():
            layer.data = before.data
            for key, value in before.place.items():
                setattr(layer, key, value)
            layer.contrast_limits = before.contrast_limits
        return new
