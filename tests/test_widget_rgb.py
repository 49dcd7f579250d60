"""RGB layers through the fit widgets, Restore and the noise inspector (issue 16), under Xvfb."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skdata

from napari_tweedie._widgets.filter2noise import Filter2NoiseWidget
from napari_tweedie._widgets.zs_n2n import ZSN2NWidget

STEPS = 10


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def wait_job(qtbot, job, timeout=120_000):
    assert job is not None
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


@pytest.fixture
def rgb_viewer(make_napari_viewer):
    clean = skdata.astronaut()[::8, ::8].astype(np.float32)  # (64, 64, 3), 0-255
    noisy = clean + np.random.default_rng(0).normal(0, 25, clean.shape).astype(np.float32)
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", rgb=True, contrast_limits=(0, 255))
    return viewer, clean, noisy


def check_rgb(layer, clean, noisy) -> None:
    assert layer.rgb and layer.data.shape == noisy.shape
    assert rmse(layer.data, clean) < 0.9 * rmse(np.clip(noisy, 0, 255), clean)


def test_filter2noise_fits_an_rgb_layer_in_colour_and_applies_it(qtbot, rgb_viewer):
    viewer, clean, noisy = rgb_viewer
    widget = Filter2NoiseWidget(viewer)
    widget.params["iterations"].value = 40
    widget.params["crop"].value = 64
    widget.scope.value = "Current slice"
    wait_job(qtbot, widget.fit())
    assert widget.fitted is not None and widget.fitted.model.channel_last, widget.status.value
    check_rgb(viewer.layers["noisy [filter2noise]"], clean, noisy)
    # the sigma maps stay one per pixel, shared by the channels
    widget.sigma_map.value = "sigma_r stage 1"
    sigma_map = viewer.layers["noisy [filter2noise, f2n sigma_r stage 1]"]
    assert not sigma_map.rgb and sigma_map.data.shape == noisy.shape[:2]
    # a slider edit re-renders in colour
    widget.sigma_r.value = 2.0
    assert widget.rerender().shape == noisy.shape
    widget.sigma_r.value = 1.0
    widget.panel.target.value = "Current slice"
    wait_job(qtbot, widget.panel.apply())
    check_rgb(viewer.layers["noisy [filter2noise, region]"], clean, noisy)
    widget.panel.target.value = "Whole layer"
    widget.panel.apply()
    assert "colour model applies to regions" in widget.status.value


def test_zs_n2n_fits_an_rgb_layer_with_a_colour_network(qtbot, rgb_viewer):
    viewer, clean, noisy = rgb_viewer
    widget = ZSN2NWidget(viewer)
    widget.params["iterations"].value = 150
    widget.scope.value = "Current slice"
    wait_job(qtbot, widget.fit())
    assert widget.panel.model is not None and widget.panel.model.channel_last, widget.status.value
    check_rgb(viewer.layers["noisy [zs_n2n]"], clean, noisy)
    wait_job(qtbot, widget.panel.apply())
    check_rgb(viewer.layers["noisy [zs_n2n, region]"], clean, noisy)


def test_restore_denoises_an_rgb_region_into_an_rgb_mean(qtbot, rgb_viewer):
    from napari_tweedie._widgets.restore import RestoreWidget

    viewer, clean, noisy = rgb_viewer
    widget = RestoreWidget(viewer)
    widget.operator.value = "denoise"  # its default sampler (the best point estimate)
    widget.steps.value, widget.samples.value = STEPS, 1
    widget.sigma_y.value = 25.0  # in the measurement's units
    widget.scope.value = "Current slice"
    wait_job(qtbot, widget.run())
    name = f"noisy [denoise, {widget.sampler.value}] mean"
    assert name in viewer.layers, widget.status.value
    check_rgb(viewer.layers[name], clean, noisy)
    widget.scope.value = "Whole layer"
    assert widget.run() is None and "restore a region" in widget.status.value


def test_noise_inspector_estimates_each_rgb_channel(qtbot, make_napari_viewer):
    from napari_tweedie._widgets.noise_inspector import NoiseInspectorWidget

    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    clean = np.stack([60 + yy, 80 + xx, 100 + (yy + xx) / 2], axis=-1)
    sigmas = (4.0, 8.0, 16.0)
    noisy = clean + np.random.default_rng(2).normal(0, 1, clean.shape) * np.float32(sigmas)
    viewer = make_napari_viewer()
    viewer.add_image(noisy.astype(np.float32), name="rgb", rgb=True, contrast_limits=(0, 255))
    widget = NoiseInspectorWidget(viewer)
    widget.noise.value, widget.scope.value = "gaussian", "Current slice"
    wait_job(qtbot, widget.estimate())
    found = widget.inspected.channels
    assert len(found) == 3, widget.status.value
    for result, sigma in zip(found, sigmas):
        assert result.params["sigma"] == pytest.approx(sigma, rel=0.15)
    lines = widget.result.value.splitlines()
    assert [line[:2] for line in lines] == ["R:", "G:", "B:"]
    layer = widget.show_stabilised()
    assert layer.rgb and layer.data.shape == noisy.shape
