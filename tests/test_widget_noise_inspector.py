"""The Noise inspector dock widget under a real napari viewer (Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tweedie._widgets.noise_inspector import NoiseInspectorWidget
from napari_tweedie.noise import make_noise_model

SCALE, TRANSLATE = (2.0, 0.5), (10.0, -4.0)


def smooth_image(shape=(160, 200)) -> np.ndarray:
    """A smooth image on [0.05, 0.95]: ramp along X, slow wave along Y."""
    yy, xx = np.meshgrid(*(np.linspace(0, 1, n) for n in shape), indexing="ij")
    return 0.05 + 0.8 * xx + 0.1 * (1 + np.sin(2 * np.pi * yy)) / 2


def wait_job(qtbot, widget, job, timeout=30_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def test_auto_estimate_on_a_rectangle_and_its_stabilised_view(qtbot, make_napari_viewer):
    clean = smooth_image()
    truth = make_noise_model("poisson_gaussian", zeta=0.01, sigma=0.05)
    noisy = truth.sample(clean, np.random.default_rng(0)).astype(np.float32)
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=SCALE, translate=TRANSLATE)
    # data rows 10..150, columns 20..190, given in world coordinates
    corners = [[TRANSLATE[0] + SCALE[0] * r, TRANSLATE[1] + SCALE[1] * c] for r, c in ((10, 20),
               (150, 190))]  # fmt: skip
    viewer.add_shapes([corners], shape_type="rectangle", name="roi")
    widget = NoiseInspectorWidget(viewer)
    widget.layer.value, widget.scope.value = "noisy", "Shapes rectangle"
    assert widget.noise.value == "auto" and not widget.stabilise_button.enabled
    wait_job(qtbot, widget, widget.estimate())

    found = widget.inspected.result
    assert found.name == "poisson_gaussian", (found.scores, widget.status.value)
    assert found.params["zeta"] == pytest.approx(0.01, rel=0.12)
    assert found.params["sigma"] == pytest.approx(0.05, rel=0.12)
    assert widget.result.value.startswith("poisson_gaussian: zeta=")
    assert len(widget.plot.series) == 2 and widget.plot.series[0].x.size >= 5
    assert widget.stabilise_button.enabled and widget.run_button.enabled

    widget.stabilise_button.clicked.emit()
    layer = viewer.layers["noisy [stabilised, poisson_gaussian]"]
    box = (slice(10, 150), slice(20, 190))
    assert layer.data.shape == (140, 170)
    np.testing.assert_allclose(layer.translate, [TRANSLATE[0] + 20, TRANSLATE[1] + 10])
    np.testing.assert_allclose(layer.scale, SCALE)
    noise = layer.data - found.model.stabilise(clean[box])
    assert np.std(noise) == pytest.approx(1.0, rel=0.1)  # unit noise at every intensity
    # a second click updates the same layer
    widget.stabilise_button.clicked.emit()
    assert [lay.name for lay in viewer.layers].count(layer.name) == 1


def test_forced_gaussian_on_the_current_slice_of_a_stack(qtbot, make_napari_viewer):
    rng = np.random.default_rng(1)
    clean = smooth_image((128, 128))
    stack = np.stack([clean + s * rng.standard_normal(clean.shape) for s in (0.02, 0.08)])
    viewer = make_napari_viewer()
    viewer.add_image(stack.astype(np.float32), name="stack")
    viewer.dims.set_current_step(0, 1)
    widget = NoiseInspectorWidget(viewer)
    widget.noise.value, widget.scope.value = "gaussian", "Current slice"
    wait_job(qtbot, widget, widget.estimate())
    found = widget.inspected.result
    assert found.name == "gaussian"
    assert found.params["sigma"] == pytest.approx(0.08, rel=0.1)
    layer = widget.show_stabilised()
    assert layer.data.shape == (1, 128, 128)
    np.testing.assert_allclose(layer.translate, [1, 0, 0])
    np.testing.assert_allclose(layer.data[0], stack[1] / found.params["sigma"], rtol=1e-5)


def test_problems_are_reported_in_the_status(qtbot, make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(2).random((16, 16), np.float32), name="tiny")
    widget = NoiseInspectorWidget(viewer)
    assert widget.show_stabilised() is None and "first" in widget.status.value
    widget.scope.value = "Shapes rectangle"  # there is no Shapes layer
    assert widget.estimate() is None and "rectangle" in widget.status.value
    widget.scope.value = "Current slice"
    wait_job(qtbot, widget, widget.estimate())
    assert "too small" in widget.status.value and widget.inspected is None
