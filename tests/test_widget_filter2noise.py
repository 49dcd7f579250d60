"""The Filter2Noise dock widget under a real napari viewer (Xvfb)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import ndimage

from napari_tweedie._widgets.filter2noise import Filter2NoiseWidget

NAME = "noisy [filter2noise]"
MAPS = [
    f"noisy [filter2noise, f2n {c} stage {s}]"
    for s in (1, 2)
    for c in ("sigma_x", "sigma_y", "sigma_r")
]


def total_variation(image: np.ndarray) -> float:
    image = np.asarray(image, np.float64)
    return float(np.abs(np.diff(image, axis=-1)).sum() + np.abs(np.diff(image, axis=-2)).sum())


def wait_job(qtbot, job, timeout=180_000):  # a loaded 2-core machine is ~10x slower
    assert job is not None
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


@pytest.fixture
def viewer_noisy(make_napari_viewer, noisy_pair):
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=(2.0, 0.5), translate=(10.0, -4.0))
    return viewer, clean, noisy


@pytest.fixture
def fitted_widget(qtbot, viewer_noisy):
    viewer, clean, noisy = viewer_noisy
    widget = Filter2NoiseWidget(viewer)
    widget.params["iterations"].value = 30
    widget.params["crop"].value = 64
    previews = []
    job = widget.fit()
    job.worker.yielded.connect(lambda step: previews.append(step.i))
    wait_job(qtbot, job)
    assert widget.fitted is not None, widget.status.value
    # the regions layer was made at the Fit click; no sigma map is shown until chosen
    assert not any(name in viewer.layers for name in MAPS)
    return widget, viewer, clean, noisy, previews


def test_fit_shows_the_maps_and_edits_rerender_live(qtbot, fitted_widget):
    widget, viewer, clean, noisy, previews = fitted_widget
    assert previews and previews == sorted(previews)  # live steps arrived while fitting
    assert "loss" in widget.status.value and widget.panel.apply_button.enabled
    assert widget.sigma_map.choices[1:] == tuple(m.split("f2n ")[1][:-1] for m in MAPS)
    for name in MAPS:  # one layer shows the chosen map, with its name and colour scale
        widget.sigma_map.value = name.split("f2n ")[1][:-1]
        assert [n for n in MAPS if n in viewer.layers] == [name]
        layer = viewer.layers[name]
        assert layer.data.shape == noisy.shape and (layer.data > 0).all()
        assert layer.colorbar.visible and layer.name_overlay.visible
        np.testing.assert_allclose(layer.translate, [10.0, -4.0])
    widget.sigma_map.value = "(none)"
    qtbot.waitUntil(lambda: not any(name in viewer.layers for name in MAPS), timeout=5000)
    result = viewer.layers[NAME].data
    np.testing.assert_array_equal(result, widget.fitted.model.apply(noisy))
    assert np.mean((result - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)
    assert viewer.layers["noisy [filter2noise, f2n regions]"].data.shape == noisy.shape

    # a slider re-renders (debounced) without retraining; 1 gives back the fit exactly
    before = result.copy()
    widget.sigma_r.value = 3.0
    qtbot.waitUntil(lambda: not np.array_equal(viewer.layers[NAME].data, before), timeout=5000)
    assert total_variation(viewer.layers[NAME].data) < total_variation(before)
    assert widget.last_render_s < 1.0
    widget.sigma_r.value = 1.0
    qtbot.waitUntil(lambda: np.array_equal(viewer.layers[NAME].data, before), timeout=5000)

    # painting a region re-renders it and its kernel reach, nothing else
    labels_layer = viewer.layers["noisy [filter2noise, f2n regions]"]
    assert labels_layer.selected_label == 1
    widget.region.value = 2  # preset: twice the widths
    assert labels_layer.selected_label == 2
    widget.region_r.value = 4.0
    painted = np.zeros(before.shape, np.int32)
    painted[30:60, 20:50] = 2
    labels_layer.data = painted
    qtbot.waitUntil(lambda: not np.array_equal(viewer.layers[NAME].data, before), timeout=5000)
    changed = viewer.layers[NAME].data != before
    model = widget.fitted.model
    reach = (model.stages - 1) * model.radius
    near = ndimage.binary_dilation(painted > 0, np.ones((2 * reach + 1,) * 2, bool))
    assert changed[30:60, 20:50].mean() > 0.9 and not changed[~near].any()
    assert widget.regions[2] == (2.0, 2.0, 4.0)


def test_apply_save_and_load(qtbot, fitted_widget, tmp_path):
    import dask.array as da

    widget, viewer, clean, noisy, _ = fitted_widget
    widget.sigma_r.value = 1.5
    widget.panel.target.value = "Whole layer"
    widget.panel.output.value = tmp_path / "whole.zarr"
    wait_job(qtbot, widget.panel.apply())
    layer = viewer.layers["noisy [filter2noise, whole]"]
    assert isinstance(layer.data, da.Array) and layer.data.shape == noisy.shape
    expected = widget.fitted.model.apply(noisy, sigma_r=1.5)
    np.testing.assert_allclose(np.asarray(layer.data), expected, atol=1e-6)

    widget.panel.model_path.value = tmp_path / "model.safetensors"
    assert widget.panel.save() == tmp_path / "model.safetensors"
    assert (tmp_path / "model.json").is_file()
    widget.sigma_map.value = "sigma_r stage 2"
    viewer.layers.remove(MAPS[-1])
    loaded = widget.panel.load()
    assert loaded is not None
    assert MAPS[-1] in viewer.layers  # the chosen map of the loaded model
    np.testing.assert_array_equal(viewer.layers[NAME].data, loaded.apply(noisy, sigma_r=1.5))


def test_cancel_stops_the_fit_and_adds_no_maps(qtbot, viewer_noisy):
    viewer, *_ = viewer_noisy
    widget = Filter2NoiseWidget(viewer)
    widget.params["iterations"].value = 5000
    widget.params["crop"].value = 64
    job = widget.fit()
    qtbot.waitUntil(lambda: widget.progress.value > 0, timeout=20_000)
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    assert not job.running and widget.run_button.enabled and widget.status.value == "cancelled"
    qtbot.waitUntil(lambda: job.exited, timeout=5000)  # the thread may end before a wait starts
    assert time.monotonic() - started < 2.0
    qtbot.wait(100)
    assert widget.fitted is None and not any(name in viewer.layers for name in MAPS)


def test_no_rectangle_reports_instead_of_raising(viewer_noisy):
    viewer, *_ = viewer_noisy
    widget = Filter2NoiseWidget(viewer)
    widget.scope.value = "Shapes rectangle"
    assert widget.fit() is None and "rectangle" in widget.status.value
    assert widget.panel.apply() is None and "fit or load" in widget.status.value
