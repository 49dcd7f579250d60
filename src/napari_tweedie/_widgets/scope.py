"""What the user points at in napari (a Shapes rectangle, the view, the slice) as an ROI."""

from __future__ import annotations

import numpy as np
from napari.layers import Image, Shapes
from napari.utils.transforms import Affine

from ..data.roi import ROI

SCOPES = ("Shapes rectangle", "Current view", "Current slice", "Whole layer")


def full_resolution(layer: Image):
    """The full-resolution array of an image layer (level 0 of a multiscale)."""
    return layer.data[0] if layer.multiscale else layer.data


def check_planes(layer: Image) -> None:
    """Refuse layers whose last two axes are not Y, X (RGB/RGBA: colour is the last axis)."""
    if layer.rgb:
        raise ValueError(
            f"{layer.name!r} is an RGB layer: denoise it in the Denoise widget (channel "
            "axis: RGB), or split its channels first (layer list: right-click > Split RGB)"
        )


def check_displayed_planes(viewer) -> None:
    """Refuse a transposed view: the ROI and the result are Y, X planes (the last two axes)."""
    ndim = viewer.dims.ndim
    if tuple(viewer.dims.order[-2:]) != (ndim - 2, ndim - 1):
        raise ValueError(
            "the canvas shows a transposed plane; this plugin works on Y, X planes (the "
            "last two axes): restore the axis order (the transpose button) or use 'Whole layer'"
        )


def current_index(viewer, layer: Image) -> tuple[int, ...]:
    """The layer's data index of the viewer's current position (leading axes)."""
    check_planes(layer)
    check_displayed_planes(viewer)
    point = np.asarray(layer.world_to_data(viewer.dims.point))
    shape = full_resolution(layer).shape
    return tuple(int(np.clip(np.round(p), 0, n - 1)) for p, n in zip(point, shape))


def find_rectangle(viewer) -> Shapes | None:
    """The selected Shapes layer, else the top-most one with a shape."""
    selected = [lay for lay in viewer.layers.selection if isinstance(lay, Shapes)]
    shapes = selected + [lay for lay in reversed(viewer.layers) if isinstance(lay, Shapes)]
    for layer in shapes:
        if len(layer.data):
            return layer
    return None


def rectangle_roi(viewer, layer: Image) -> ROI:
    """ROI of the last shape of the Shapes layer (its bounding box) on the current plane."""
    shapes = find_rectangle(viewer)
    if shapes is None:
        raise ValueError("draw a rectangle in a Shapes layer first (or choose another scope)")
    selected = sorted(shapes.selected_data)
    vertices = np.asarray(shapes.data[selected[-1] if selected else -1])
    world = np.array([shapes.data_to_world(v) for v in vertices])
    data = np.array([layer.world_to_data(w) for w in world])
    data = _pad_to(data, full_resolution(layer).ndim)
    return ROI.from_corners(full_resolution(layer).shape, data, current_index(viewer, layer))


def _pad_to(points: np.ndarray, ndim: int) -> np.ndarray:
    if points.shape[1] >= ndim:
        return points
    return np.hstack([np.zeros((points.shape[0], ndim - points.shape[1])), points])


def visible_world(viewer) -> np.ndarray:
    """World corners (top-left, bottom-right) of the displayed plane seen on the whole canvas.

    Computed from the camera (centre, zoom) and the canvas size, so it neither
    depends on the last redraw nor loses a strip to a docked widget.
    """
    height, width = viewer.canvas.viewbox_size(viewer.layers)
    half = np.array([height, width], dtype=float) / 2 / viewer.scene.camera.zoom
    centre = np.asarray(viewer.scene.camera.center[-2:], dtype=float)
    return np.array([centre - half, centre + half])


def view_roi(viewer, layer: Image) -> ROI:
    """ROI of the part of the current plane visible on the canvas (3-D display: the slice)."""
    shape = full_resolution(layer).shape
    index = current_index(viewer, layer)
    if viewer.dims.ndisplay == 3:
        return ROI.current_slice(shape, index)
    (top, left), (bottom, right) = visible_world(viewer)
    axes = list(viewer.dims.displayed[-2:])
    world = []
    for y, x in ((top, left), (top, right), (bottom, left), (bottom, right)):
        point = np.array(viewer.dims.point, dtype=float)
        point[axes] = y, x
        world.append(point)
    data = np.array([layer.world_to_data(w) for w in world])
    return ROI.from_corners(shape, _pad_to(data, len(shape)), index)


def describe(scope: str, roi: ROI, ndisplay: int = 2) -> str:
    """Which region ``roi`` of ``scope`` is, for the status line.

    E.g. ``"current view: rows 0-2047, cols 12-1800 of plane 3"``.
    """
    rows, cols = roi.slices[-2:]
    where = f"rows {rows.start}-{rows.stop - 1}, cols {cols.start}-{cols.stop - 1}"
    lead = [s for s in roi.slices[:-2]]
    if lead and all(s.stop - s.start == 1 for s in lead):
        plane = ", ".join(str(s.start) for s in lead)
        where += f" of plane {plane}"
    elif lead:
        where += " of planes " + ", ".join(f"{s.start}-{s.stop - 1}" for s in lead)
    text = f"{scope.lower()}: {where}"
    if scope == "Current view" and ndisplay == 3:
        text += " (3-D display: the current slice)"
    return text


def roi_for(scope: str, viewer, layer: Image) -> ROI:
    """The ROI of ``scope`` (one of :data:`SCOPES`)."""
    check_planes(layer)
    shape = full_resolution(layer).shape
    if scope == "Shapes rectangle":
        return rectangle_roi(viewer, layer)
    if scope == "Current view":
        return view_roi(viewer, layer)
    if scope == "Current slice":
        return ROI.current_slice(shape, current_index(viewer, layer))
    if scope == "Whole layer":
        return ROI.whole(shape)
    raise ValueError(f"unknown scope {scope!r}; expected one of {SCOPES}")


def result_translate(layer: Image, roi: ROI, shift=0.0) -> np.ndarray:
    """``translate`` that overlays a result of ``roi`` on ``layer`` (see :func:`overlay`).

    ``shift`` moves the result's origin, in the layer's pixels (a finer grid).
    The layer's own rotation and shear apply to the ROI's offset too.
    """
    own = Affine(
        scale=layer.scale, translate=layer.translate, rotate=layer.rotate, shear=layer.shear
    )
    return np.asarray(own(np.asarray(roi.offset, dtype=float) + shift))


def oriented(layer: Image) -> dict:
    """The layer's rotation, shear and affine, for results drawn over it."""
    return {"rotate": layer.rotate, "shear": layer.shear, "affine": layer.affine}


def overlay(layer: Image, roi: ROI) -> dict:
    """``add_image`` keywords that place a result of ``roi`` over ``layer``: every transform."""
    return {"scale": layer.scale, "translate": result_translate(layer, roi), **oriented(layer)}


def stacked(place: dict) -> dict:
    """``add_image`` keywords for results stacked on a new first axis (e.g. sampler steps).

    ``place`` holds the keywords of one result (scale, translate and optionally
    rotate, shear, affine); they are folded into one affine matrix that leaves
    the new axis alone, so each slice lands where that one result would.
    """
    if not place:
        return {}
    inner = Affine(
        scale=place["scale"],
        translate=place["translate"],
        rotate=place.get("rotate"),
        shear=place.get("shear"),
    ).affine_matrix
    outer = place.get("affine")
    matrix = inner if outer is None else _matrix(outer) @ inner
    full = np.eye(len(matrix) + 1)
    full[1:, 1:] = matrix
    return {"affine": full}


def _matrix(affine) -> np.ndarray:
    """The matrix of a napari ``Affine`` (or an array already)."""
    return np.asarray(getattr(affine, "affine_matrix", affine), float)


def image_layer_names(viewer) -> list[str]:
    """Image layers, sources before results (results are named "<layer> [<method>]")."""
    names = [lay.name for lay in viewer.layers if isinstance(lay, Image)]
    return [n for n in names if "[" not in n] + [n for n in names if "[" in n]
