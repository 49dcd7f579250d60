"""RGB and multichannel layers, and volumes, through the Denoise widget (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
from shape_fakes import register_fakes

import napari_tweedie as nt
from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie._widgets.shapes import RGB, ShapeControls, ome_channel_axis


@pytest.fixture
def fakes(monkeypatch) -> list:
    return register_fakes(monkeypatch)


def wait_job(qtbot, widget, job, timeout=60_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def _rgb(clean_image, rng) -> np.ndarray:
    rgb = np.stack([clean_image, clean_image[::-1], clean_image.T], axis=-1)
    noisy = (rgb + 0.08 * rng.standard_normal(rgb.shape)) * 255
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_an_rgb_layer_comes_back_rgb_and_visible(make_napari_viewer, qtbot, clean_image, rng):
    viewer = make_napari_viewer()
    noisy = _rgb(clean_image, rng)
    viewer.add_image(noisy, name="photo", rgb=True, scale=(2.0, 2.0))
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "photo", "gaussian"
    widget.scope.value = "Current slice"
    assert widget.shapes.channel.value == RGB
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["photo [gaussian]"]
    assert result.rgb and result.data.shape == noisy.shape, widget.status.value
    np.testing.assert_allclose(result.scale, [2.0, 2.0])
    expected = nt.denoise(noisy, "gaussian", channel_axis=-1)
    np.testing.assert_allclose(result.data, np.clip(expected, 0, 255), atol=1e-3)
    # visible: in the source's contrast range, neither saturated nor empty
    low, high = result.contrast_limits
    assert (low, high) == (0.0, 255.0)
    saturated = np.mean(result.data >= 254.5) + np.mean(result.data <= 0.5)
    assert saturated < 0.05 and 40 < result.data.mean() < 215
    assert np.std(result.data) > 20


def test_a_two_channel_layer_keeps_its_shape(make_napari_viewer, qtbot, clean_image, rng):
    viewer = make_napari_viewer()
    clean = np.stack([clean_image, clean_image.T])  # (C, Y, X)
    noisy = clean + np.array([0.05, 0.15])[:, None, None] * rng.standard_normal(clean.shape)
    viewer.add_image(noisy.astype(np.float32), name="two", metadata={"axes": ["c", "y", "x"]})
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "two", "gaussian"
    widget.scope.value = "Current slice"  # one channel shown: the run covers both
    assert widget.shapes.channel.value == "axis 0"  # from the OME-Zarr axes metadata
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["two [gaussian]"]
    assert not result.rgb and result.data.shape == noisy.shape
    expected = nt.denoise(noisy.astype(np.float32), "gaussian", channel_axis=0)
    np.testing.assert_allclose(result.data, expected, atol=1e-5)
    assert np.mean((result.data - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)
    low, high = result.contrast_limits
    assert low < np.median(result.data) < high


def test_whole_rgb_layer_to_zarr_stays_rgb(make_napari_viewer, qtbot, tmp_path, clean_image, rng):
    viewer = make_napari_viewer()
    noisy = _rgb(clean_image, rng)
    viewer.add_image(noisy, name="photo", rgb=True)
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "photo", "gaussian"
    widget.output.value = tmp_path / "whole.zarr"
    wait_job(qtbot, widget, widget.apply_to_whole_layer())
    qtbot.waitUntil(lambda: "photo [gaussian, whole]" in viewer.layers, timeout=30_000)
    result = viewer.layers["photo [gaussian, whole]"]
    assert result.rgb and result.data.shape == noisy.shape


def test_volumetric_box_follows_layer_and_method(make_napari_viewer, qtbot, fakes, rng):
    viewer = make_napari_viewer()
    volume = rng.random((12, 32, 32)).astype(np.float32)
    viewer.add_image(volume[0], name="flat")
    viewer.add_image(volume, name="vol", scale=(3.0, 1.0, 1.0))
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "flat", "fake_gauss3d"
    assert (
        not widget.shapes.volumetric.enabled and "three or more" in widget.shapes.volumetric.tooltip
    )
    widget.layer.value, widget.method.value = "vol", "fake_flat"
    assert (
        not widget.shapes.volumetric.enabled and "fake_gauss3d" in widget.shapes.volumetric.tooltip
    )
    widget.method.value = "fake_gauss3d"
    assert widget.shapes.volumetric.enabled
    widget.shapes.volumetric.value = True
    assert widget.settings()["spacing"] == (3.0, 1.0, 1.0)
    widget.scope.value = "Current slice"  # with 3-D: the whole volume
    fakes.clear()
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["vol [fake_gauss3d]"]
    assert result.data.shape == volume.shape
    assert [(shape, spacing) for _, shape, _, spacing in fakes] == [((12, 32, 32), (3.0, 1.0, 1.0))]
    viewer.dims.ndisplay = 3  # current view in a 3-D display: the displayed (visible) volume
    widget.scope.value = "Current view"
    wait_job(qtbot, widget, widget.run())
    assert viewer.layers["vol [fake_gauss3d]"].data.shape == volume.shape
    assert "3-D display" in widget.where


def test_ome_axes_metadata_and_spacing_without_the_channel_axis():
    class Layer:
        metadata = {"multiscales": [{"axes": [{"name": "c", "type": "channel"}, "z", "y", "x"]}]}
        scale = (1.0, 4.0, 0.5, 0.5)
        rgb = False

    assert ome_channel_axis(Layer) == 0
    assert ShapeControls.spacing(Layer, 0) == (4.0, 0.5, 0.5)
