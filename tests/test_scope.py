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
