"""Zero-shot Noise2Noise in napari: as a Denoise method (live previews, then a better result)
and in its own dock widget (fit on a region, apply to the whole layer, save, load, cancel)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie.denoisers import DENOISERS


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_zs_n2n_on_a_rectangle_previews_its_estimates_then_denoises(
    qtbot, make_napari_viewer, noisy_pair
):
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=(2.0, 0.5), translate=(10.0, -4.0))
    # data rows 8..88 and columns 4..92, given in world coordinates
    viewer.add_shapes([[[26.0, -2.0], [186.0, 42.0]]], shape_type="rectangle", name="roi")
    widget = DenoiseWidget(viewer)
    assert "zs_n2n" in widget.method.choices and DENOISERS["zs_n2n"].iterative
    widget.layer.value, widget.method.value = "noisy", "zs_n2n"
    widget.scope.value = "Shapes rectangle"
    widget.params["iterations"].value = 200
    widget.params["patience"].value = 0

    box = (slice(8, 88), slice(4, 92))
    previews: list[np.ndarray] = []

    def watch(event) -> None:  # the result layer is made at the Run click, then shows previews
        layer = event.value
        if layer.name == "noisy [zs_n2n]":
            layer.events.data.connect(lambda e: previews.append(np.array(layer.data)))
            np.testing.assert_allclose(layer.translate, [10 + 2.0 * 8, -4 + 0.5 * 4])

    viewer.layers.events.inserted.connect(watch)
    job = widget.run()
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=120_000)

    assert len(previews) > 1, "no live preview of the zs_n2n estimate was shown"
    assert all(p.shape == (80, 88) for p in previews)
    assert not np.allclose(previews[0], noisy[box])  # an estimate, not the input
    names = [layer.name for layer in viewer.layers]
    assert names == ["noisy", "roi", "noisy [zs_n2n]"], widget.status.value
    result = viewer.layers["noisy [zs_n2n]"]
    np.testing.assert_allclose(result.translate, [10 + 2.0 * 8, -4 + 0.5 * 4])
    assert mse(result.data, clean[box]) < 0.5 * mse(noisy[box], clean[box])


# -- the zero-shot Noise2Noise dock widget: fit on a region, apply, save, load ------------------

FIT = "noisy [zs_n2n]"


def test_widget_fits_a_region_applies_to_the_layer_saves_and_loads(
    qtbot, make_napari_viewer, noisy_pair, tmp_path
):
    import dask.array as da

    from napari_tweedie._widgets.zs_n2n import ZSN2NWidget

    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=(2.0, 0.5), translate=(10.0, -4.0))
    # data rows 16..80 and columns 8..72 (64 px), given in world coordinates
    viewer.add_shapes([[[42.0, 0.0], [170.0, 32.0]]], shape_type="rectangle", name="roi")
    _, widget = viewer.window.add_plugin_dock_widget("napari-tweedie", "Zero-shot Noise2Noise")
    assert isinstance(widget, ZSN2NWidget) and not widget.panel.apply_button.enabled
    defaults = {p.name: p.default for p in DENOISERS["zs_n2n"].params}
    assert {w.name: w.value for w in widget.params} == defaults  # no spin box rounds them
    widget.layer.value, widget.scope.value = "noisy", "Shapes rectangle"
    for name, value in dict(iterations=60, crop=32, patience=0).items():
        widget.params[name].value = value
    shown: list[np.ndarray] = []
    viewer.layers.events.inserted.connect(
        lambda event: shown.append(event.value.data.copy()) if event.value.name == FIT else None
    )
    job = widget.fit()
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    model = widget.panel.model
    assert model is not None and model.iterations == 60, widget.status.value
    assert shown and shown[0].shape == (64, 64)  # the live preview, over the region
    box = (slice(16, 80), slice(8, 72))
    fitted = viewer.layers[FIT]
    np.testing.assert_allclose(fitted.translate, [10 + 2.0 * 16, -4 + 0.5 * 8])
    np.testing.assert_array_equal(fitted.data, model.estimate)
    assert mse(fitted.data, clean[box]) < 0.7 * mse(noisy[box], clean[box])
    assert widget.panel.apply_button.enabled and "fitted in 60 steps" in widget.status.value

    widget.panel.target.value = "Whole layer"
    widget.panel.output.value = tmp_path / "whole.zarr"
    job = widget.panel.apply()
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    whole = viewer.layers["noisy [zs_n2n, whole]"]
    assert isinstance(whole.data, da.Array) and whole.data.shape == noisy.shape
    np.testing.assert_allclose(np.asarray(whole.data), model.apply(noisy), atol=1e-5)

    path = widget.panel.save(tmp_path / "zs.safetensors")
    assert path == tmp_path / "zs.safetensors" and path.is_file()
    other = ZSN2NWidget(viewer)
    assert other.panel.load(tmp_path / "missing.safetensors") is None
    assert "cannot load" in other.status.value
    loaded = other.panel.load(path)
    assert loaded is not None and other.panel.apply_button.enabled
    other.layer.value, other.panel.target.value = "noisy", "Current slice"
    job = other.panel.apply()
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    np.testing.assert_allclose(
        viewer.layers["noisy [zs_n2n, region]"].data, model.apply(noisy), atol=1e-5
    )


def test_widget_cancel_drops_the_fit(qtbot, make_napari_viewer, noisy_pair):
    from napari_tweedie._widgets.zs_n2n import ZSN2NWidget

    viewer = make_napari_viewer()
    viewer.add_image(noisy_pair[1], name="noisy")
    widget = ZSN2NWidget(viewer)
    widget.params["iterations"].value = 50_000
    job = widget.fit()
    qtbot.waitUntil(lambda: widget.progress.value > 0, timeout=20_000)
    widget.cancel_button.clicked.emit()
    assert not job.running and widget.status.value == "cancelled"
    qtbot.waitUntil(lambda: job.exited, timeout=5000)  # the thread may end before a wait starts
    assert widget.panel.model is None and widget.run_button.enabled
    assert not widget.panel.apply_button.enabled
