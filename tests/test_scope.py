"""What the user points at, as an ROI: RGB layers and transposed views are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_tweedie._widgets.scope import SCOPES, roi_for


def test_rgb_layers_are_refused_in_every_scope():
    viewer = ViewerModel()
    layer = viewer.add_image(np.zeros((40, 50, 3), np.uint8), rgb=True)
    viewer.add_shapes([[[2, 2], [20, 30]]], shape_type="rectangle")
    for scope in SCOPES:
        with pytest.raises(ValueError, match="RGB"):
            roi_for(scope, viewer, layer)
    from napari_tweedie._widgets.results import whole_layer_job

    with pytest.raises(ValueError, match="RGB"):  # "Apply to whole layer" too
        whole_layer_job(viewer, layer, layer.data, "out.zarr", "x", on_error=print)


def test_a_transposed_view_is_refused_but_the_whole_layer_works():
    viewer = ViewerModel()
    layer = viewer.add_image(np.zeros((6, 40, 60), np.float32))
    viewer.dims.set_point(0, 2)
    assert roi_for("Current slice", viewer, layer).slices == (
        slice(2, 3), slice(0, 40), slice(0, 60)
    )  # fmt: skip
    viewer.dims.order = (1, 0, 2)  # the canvas now shows Z, X planes
    with pytest.raises(ValueError, match="transposed"):
        roi_for("Current slice", viewer, layer)
    assert roi_for("Whole layer", viewer, layer).shape == (6, 40, 60)


def test_results_overlay_a_rotated_sheared_affine_source_exactly():
    from napari_tweedie._widgets.restore_inputs import placement
    from napari_tweedie._widgets.scope import oriented, overlay
    from napari_tweedie.data import ROI

    viewer = ViewerModel()
    affine = np.array([[1.0, 0.2, 3.0], [0.0, 1.1, -2.0], [0.0, 0.0, 1.0]])
    source = viewer.add_image(
        np.zeros((40, 60)), scale=(2.0, 0.5), translate=(10, -4), rotate=30, shear=[0.1],
        affine=affine,
    )  # fmt: skip
    roi = ROI((slice(8, 30), slice(12, 50)))
    result = viewer.add_image(np.zeros(roi.shape), **overlay(source, roi))
    for point in ([0, 0], [5, 7], [21, 37]):
        np.testing.assert_allclose(
            result.data_to_world(point), source.data_to_world(np.add(point, roi.offset))
        )
    # super-resolution x2: fine pixel (1, 1) is centred a quarter source pixel past (0, 0)'s
    fine = viewer.add_image(
        np.zeros((44, 76)), **placement(source, roi, (44, 76)), **oriented(source)
    )
    np.testing.assert_allclose(
        fine.data_to_world([1, 1]), source.data_to_world(np.add([0.25, 0.25], roi.offset))
    )


def test_current_view_is_what_the_whole_canvas_shows_and_says_so():
    from napari_tweedie._widgets.scope import describe

    viewer = ViewerModel()
    layer = viewer.add_image(np.zeros((3, 2048, 2048), np.float32))
    viewer.dims.set_point(0, 1)
    viewer.canvas.size = (900, 1200)  # (height, width): wider than tall
    viewer.scene.camera.center = (0, 1023.5, 1023.5)
    viewer.scene.camera.zoom = 900 / 2048  # the whole height fits: nothing may be cut off
    roi = roi_for("Current view", viewer, layer)
    assert roi.slices == (slice(1, 2), slice(0, 2048), slice(0, 2048))
    assert describe("Current view", roi) == "current view: rows 0-2047, cols 0-2047 of plane 1"
    viewer.scene.camera.zoom = 2.0  # zoomed in: 450 x 600 pixels around the centre
    roi = roi_for("Current view", viewer, layer)
    assert roi.slices[1:] == (slice(799, 1249), slice(724, 1324))
    viewer.dims.ndisplay = 3  # a volume on screen: the view means the current slice, said
    roi = roi_for("Current view", viewer, layer)
    assert roi.slices == (slice(1, 2), slice(0, 2048), slice(0, 2048))
    assert describe("Current view", roi, ndisplay=3).endswith("(3-D display: the current slice)")
