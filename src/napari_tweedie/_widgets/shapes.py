"""Channels and volumes in the dock widgets (issue 16): a channel-axis choice and a 3-D box.

:class:`ShapeControls` adds two controls to a widget with a layer picker
(``host.layer``): the *channel axis* (none, the layer's RGB colour, or an
axis index; by default RGB for RGB layers, else the ``c`` axis of OME-Zarr
``axes`` metadata when the layer has it) and *3-D (volumetric)* (layers with
three or more spatial axes and a method with a 3-D mode; else disabled with
a tooltip saying why).  It turns the host's scope into a region that keeps
every channel, and with 3-D every Z plane (in a 3-D display, "current view"
is the displayed volume, i.e. the visible sub-volume at the current position
of the other axes), passes ``channel_axis``, ``volumetric`` and ``spacing``
(from ``layer.scale``) to the API, and shows results in the input's form: an
RGB layer stays RGB, clipped to the source's contrast range.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
from magicgui.widgets import CheckBox, ComboBox

from ..data import ROI
from ..denoisers import DENOISERS
from .live import discard_layer, replace_image
from .results import put_image
from .scope import describe, full_resolution, overlay, roi_for

NONE, RGB = "none", "RGB (colour)"


def ome_channel_axis(layer) -> int | None:
    """The channel axis named by OME-Zarr ``axes`` metadata (``"c"`` or type ``channel``)."""
    metadata = layer.metadata or {}
    axes = metadata.get("axes")
    if axes is None:
        multiscales = metadata.get("multiscales") or [{}]
        axes = multiscales[0].get("axes") if isinstance(multiscales[0], dict) else None
    for index, axis in enumerate(axes or ()):
        name = axis.get("name", "") if isinstance(axis, dict) else str(axis)
        kind = axis.get("type", "") if isinstance(axis, dict) else ""
        if name.lower() == "c" or kind == "channel":
            return index
    return None


def channel_choices(layer) -> list[str]:
    """The channel-axis choices for ``layer``: its RGB colour, or none / a leading axis."""
    if layer is None:
        return [NONE]
    if layer.rgb:
        return [RGB]
    return [NONE] + [f"axis {a}" for a in range(full_resolution(layer).ndim - 2)]


def default_choice(layer) -> str:
    if layer is None:
        return NONE
    if layer.rgb:
        return RGB
    axis = ome_channel_axis(layer)
    return f"axis {axis}" if axis is not None and axis < layer.ndim - 2 else NONE


def axis_of(choice: str, layer) -> int | None:
    """The data axis of a channel choice (None: no channel axis)."""
    if choice == RGB:
        return full_resolution(layer).ndim - 1
    return int(choice.split()[-1]) if choice.startswith("axis ") else None


def _spatial_proxy(layer):
    """An RGB layer seen without its colour axis (napari's own coordinates), for the ROI code."""
    shape = full_resolution(layer).shape[:-1]
    return SimpleNamespace(
        data=SimpleNamespace(shape=shape, ndim=len(shape)), multiscale=False, rgb=False,
        name=layer.name, world_to_data=layer.world_to_data,
    )  # fmt: skip


def shaped_roi(scope: str, viewer, layer, channel_axis, volumetric: bool) -> tuple[ROI, ROI]:
    """(region of the layer's data, region that places the result): all channels, all Z."""
    shape = full_resolution(layer).shape
    if layer.rgb:
        roi = ROI(roi_for(scope, viewer, _spatial_proxy(layer)).slices + (slice(0, shape[-1]),))
    else:
        roi = roi_for(scope, viewer, layer)
    slices = list(roi.slices)
    if channel_axis is not None:
        slices[channel_axis] = slice(0, shape[channel_axis])
    if volumetric:
        spatial = [a for a in range(len(shape)) if a != channel_axis]
        slices[spatial[-3]] = slice(0, shape[spatial[-3]])
    roi = ROI(tuple(slices))
    return roi, (ROI(roi.slices[:-1]) if layer.rgb else roi)


def colour_region(host, scope: str | None = None) -> tuple[object, ROI, ROI]:
    """(layer, region to read, region that places results) of a widget's scope on one plane.

    ``host`` is a :class:`~.base.JobWidget`.  An RGB layer's region keeps its
    colour axis (the pixels are (H, W, C)); the placing region is the same
    without it.  Grey layers get :meth:`~.base.JobWidget.source_roi`'s region twice.
    """
    layer = host.source_layer()
    if not layer.rgb:
        layer, roi = host.source_roi(scope)
        return layer, roi, roi
    scope = scope or host.scope.value
    roi, place = shaped_roi(scope, host.viewer, layer, full_resolution(layer).ndim - 1, False)
    host.where = describe(scope, place, host.viewer.dims.ndisplay)
    return layer, roi, place


def put_shaped(viewer, layer, place: ROI, data: np.ndarray, name: str, **kwargs):
    """:func:`~.results.put_image`, with an RGB source's result an RGB layer in its range."""
    if not layer.rgb:
        return put_image(viewer, layer, place, data, name, **kwargs)
    low, high = (float(v) for v in layer.contrast_limits)
    data = np.asarray(data, np.float32)
    data = np.clip(data.reshape(place.shape + data.shape[-1:]), low, high)
    where = overlay(layer, place)
    old = replace_image(viewer, name, data, where)  # an RGB layer of that name: in place
    if old is not None:
        return old
    discard_layer(viewer, name)
    kwargs.pop("colormap", None)
    kwargs.setdefault("contrast_limits", (low, high))
    return viewer.add_image(data, name=name, rgb=True, **where, **kwargs)


def stage_shaped(stage, layer, place: ROI, name: str, **kwargs):
    """Make ready (at Run) the layer :func:`put_shaped` will fill: see :class:`~.staging.Stage`.

    ``kwargs``: the same ``add_image`` keywords as :func:`put_shaped`'s.
    """
    if layer.rgb:
        low, high = (float(v) for v in layer.contrast_limits)
        kwargs.pop("colormap", None)
        kwargs.setdefault("contrast_limits", (low, high))
        shape = tuple(place.shape) + (full_resolution(layer).shape[-1],)
        return stage.image(name, shape, overlay(layer, place), rgb=True, **kwargs)
    kwargs.setdefault("contrast_limits", layer.contrast_limits)
    kwargs.setdefault("colormap", layer.colormap)
    return stage.image(name, tuple(place.shape), overlay(layer, place), **kwargs)


class ShapeControls:
    """The channel-axis and 3-D controls of a widget (``host.layer``, ``host.viewer``)."""

    def __init__(self, host, method: Callable[[], str] | None = None):
        self.host, self._method = host, method
        self.channel = ComboBox(
            label="channel axis", choices=self._choices,
            tooltip="the axis holding colour or channels: noise per channel, methods "
            "work on all channels jointly where they can",
        )  # fmt: skip
        self.volumetric = CheckBox(label="3-D (volumetric)", value=False)
        self.widgets = [self.channel, self.volumetric]
        host.layer.changed.connect(self.refresh)
        self.channel.changed.connect(self.update_volumetric)
        self.refresh()

    def _layer(self):
        name = self.host.layer.value
        layers = self.host.viewer.layers
        return layers[name] if name and name in layers else None

    def _choices(self, widget=None) -> list[str]:
        return channel_choices(self._layer())

    def refresh(self, event=None) -> None:
        """New layer: its channel choices and default, and whether 3-D applies."""
        self.channel.reset_choices()
        self.channel.value = default_choice(self._layer())
        self.update_volumetric()

    def update_volumetric(self, event=None) -> None:
        """Enable 3-D for layers with >= 3 spatial axes and methods with a 3-D mode."""
        layer = self._layer()
        axis = None if layer is None else axis_of(self.channel.value, layer)
        spatial = 0 if layer is None else full_resolution(layer).ndim - (axis is not None)
        spec = DENOISERS.get(self._method()) if self._method else None
        reason = ""
        if spatial < 3:
            reason = "needs a layer with three or more spatial axes (Z, Y, X)"
        elif spec is not None and not spec.volumetric:
            able = sorted(name for name, s in DENOISERS.items() if s.volumetric)
            reason = f"{spec.name} has no 3-D mode; methods with one: {', '.join(able) or 'none'}"
        self.volumetric.enabled = not reason
        if reason:
            self.volumetric.value = False
        self.volumetric.tooltip = reason or (
            "denoise the last three axes (Z, Y, X) as volumes; voxel size from the layer's scale"
        )

    def options(self, layer=None) -> dict:
        """``channel_axis``, ``volumetric``, ``spacing`` for the API (only those that are set)."""
        layer = layer or self._layer()
        if layer is None:
            return {}
        axis = axis_of(self.channel.value, layer)
        options = {} if axis is None else {"channel_axis": axis}
        if self.volumetric.value and self.volumetric.enabled:
            options |= {"volumetric": True, "spacing": self.spacing(layer, axis)}
        return options

    @staticmethod
    def spacing(layer, channel_axis) -> tuple[float, float, float]:
        """The voxel size (dz, dy, dx) from ``layer.scale`` (colour axes have no scale)."""
        scale = [float(s) for s in layer.scale]
        if channel_axis is not None and not layer.rgb:
            del scale[channel_axis]
        return tuple(abs(s) for s in scale[-3:])

    def source(self, scope: str | None = None):
        """The host's layer, the region of its data to read, and the region that places results."""
        layer = self.host.source_layer()
        scope = scope or self.host.scope.value
        options = self.options(layer)
        channel, volumetric = options.get("channel_axis"), options.get("volumetric", False)
        roi, place = shaped_roi(scope, self.host.viewer, layer, channel, volumetric)
        where = describe(scope, place, self.host.viewer.dims.ndisplay)
        if volumetric:
            where = where.replace("the current slice", "the displayed volume")
        self.host.where = where
        return layer, roi, place
