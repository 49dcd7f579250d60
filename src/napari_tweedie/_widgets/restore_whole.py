"""The Restore widget's whole-layer scope: every plane into OME-Zarr, resumable, then opened.

The job runs :func:`~napari_tweedie.restoration_stack.restore_stack_steps` in
a worker (progress over all planes, Cancel at the next sampler step); planes
already written by a cancelled or killed run with the same settings are
skipped when it runs again.  The mean opens lazily over the source, the std
(several samples) as a hidden layer above it.
"""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import napari
import numpy as np

from ..data import ROI
from ..operators import OPERATORS
from ..restoration_stack import STD_PATH, partial_path, restore_stack_steps
from .live import discard_layer, replace_image, robust_limits
from .restore_inputs import placement
from .results import STORE_KEY, stores_in_use, zarr_target
from .scope import check_planes, full_resolution, oriented

#: the result layers (suffix, look) of a whole-layer restore
LOOKS = (
    ("mean", {"colormap": "gray"}),
    ("std", {"colormap": "magma", "blending": "additive", "visible": False}),
)


def whole_layer_inputs(widget, layer: napari.layers.Image) -> tuple:
    """(measurement stack, operator params) of the whole layer for the widget's settings."""
    check_planes(layer)
    operator = widget.operator.value
    spec = OPERATORS[operator]
    if widget.simulate.value or spec.complex_measurement:
        raise ValueError(
            "the whole layer is restored from a measured stack; simulation works on a region"
        )
    data = full_resolution(layer)
    params = widget.operator_controls.values(operator)
    if spec.needs_mask:
        if not widget.mask_layer.value:
            raise ValueError("paint the missing pixels in a Labels layer and choose it as mask")
        labels = np.asarray(widget.viewer.layers[widget.mask_layer.value].data)
        if labels.shape not in (tuple(data.shape), tuple(data.shape[-2:])):
            raise ValueError(
                f"the mask layer's shape {labels.shape} matches neither the image "
                f"{tuple(data.shape)} nor one of its planes"
            )
        params["mask"] = (labels == 0).astype(np.float32)
    return data, params


def start_whole_restore(widget, settings: dict, name: str):
    """Start the whole-layer job of ``widget`` (a RestoreWidget) into its output store."""
    layer = widget.source_layer()
    data, params = whole_layer_inputs(widget, layer)
    params |= widget.sampler_controls.values(widget.sampler.value)
    target = zarr_target(widget.output.value)
    mine = (f"{name} mean", f"{name} std")  # this result's own layers are replaced
    in_use = {p: n for p, n in stores_in_use(widget.viewer).items() if n not in mine}
    if target.resolve() in in_use:
        raise ValueError(
            f"{target.name} is shown by the layer {in_use[target.resolve()]!r}; choose "
            "another output (or remove that layer first)"
        )
    path = getattr(layer.source, "path", None)
    operator = widget.operator.value

    def work():
        return (yield from restore_stack_steps(data, operator, target, inputs=[path] if path
                                               else [], **settings, **params))  # fmt: skip

    stage = widget.staged()  # the result layers are added now, not when the job ends
    for suffix, extra in LOOKS:
        stage.lazy_image(f"{name} {suffix}", tuple(data.shape), {}, **extra)
    resuming = partial_path(target).exists()
    widget.say(f"{'resuming' if resuming else 'writing'} {target.name}: every plane...")
    return widget.start(work, on_done=lambda written: opened(widget, layer, written, name))


def opened(widget, layer: napari.layers.Image, written: Path, name: str) -> None:
    """Show the written mean (and std) over ``layer``, read lazily from the store."""
    import zarr

    group = zarr.open_group(str(written), mode="r")
    mean, std = da.from_zarr(group["0"]), da.from_zarr(group[STD_PATH])
    place = {}
    if OPERATORS[widget.operator.value].image_grid:
        place = placement(layer, ROI.whole(full_resolution(layer).shape), mean.shape)
        place |= oriented(layer)
    viewer = widget.viewer
    for (suffix, extra), data in zip(LOOKS, (mean, std)):
        shown = replace_image(viewer, f"{name} {suffix}", data, place)  # staged at the click
        if shown is None:
            discard_layer(viewer, f"{name} {suffix}")
            shown = viewer.add_image(data, name=f"{name} {suffix}", **place, **extra)
        shown.contrast_limits = robust_limits(data[(0,) * (data.ndim - 2)])
        shown.metadata[STORE_KEY] = str(written)
    widget.say(f"wrote {written}")
