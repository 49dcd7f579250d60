"""The Denoise dock widget under a real napari viewer (Xvfb)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtCore import Qt

import napari_tweedie as nt
from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie.denoisers import DENOISERS, DenoiserSpec
from napari_tweedie.steps import Step


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


@pytest.fixture
def viewer_with_noisy(make_napari_viewer, noisy_pair):
    clean, noisy, sigma = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=(2.0, 0.5), translate=(10.0, -4.0))
    return viewer, clean, noisy


def wait_job(qtbot, widget, job, timeout=60_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def test_rectangle_run_adds_overlaid_result_better_than_noisy(qtbot, viewer_with_noisy):
    viewer, clean, noisy = viewer_with_noisy
    # a rectangle over data rows 20..70 and columns 10..80, given in world coordinates
    world = [[10 + 2.0 * 20, -4 + 0.5 * 10], [10 + 2.0 * 70, -4 + 0.5 * 80]]
    viewer.add_shapes([world], shape_type="rectangle", name="roi")
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value, widget.scope.value = "noisy", "tv", "Shapes rectangle"
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["noisy [tv]"]
    assert result.data.shape == (50, 70)
    np.testing.assert_allclose(result.translate, [10 + 2.0 * 20, -4 + 0.5 * 10])
    np.testing.assert_allclose(result.scale, [2.0, 0.5])
    box = (slice(20, 70), slice(10, 80))
    assert mse(result.data, clean[box]) < 0.5 * mse(noisy[box], clean[box])
    assert widget.run_button.enabled and not widget.cancel_button.enabled


@pytest.mark.parametrize("scope", ["Current view", "Current slice", "Whole layer"])
def test_other_scopes_cover_the_visible_plane(qtbot, viewer_with_noisy, scope):
    viewer, clean, noisy = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "gaussian", scope
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["noisy [gaussian]"]
    assert result.data.shape == noisy.shape  # the whole image is in view after reset
    assert mse(result.data, clean) < 0.5 * mse(noisy, clean)
    np.testing.assert_allclose(result.data, nt.denoise(noisy, "gaussian"), atol=1e-5)


def test_3d_stack_current_slice_lands_on_its_plane(qtbot, make_napari_viewer, noisy_pair):
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([noisy, noisy[::-1], noisy.T]), name="stack")
    viewer.dims.set_current_step(0, 2)
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "gaussian", "Current slice"
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["stack [gaussian]"]
    assert result.data.shape == (1, 96, 96)
    np.testing.assert_allclose(result.translate, [2, 0, 0])
    # plane 2's result: the widget estimates sigma on that plane, as nt.denoise does
    np.testing.assert_allclose(result.data[0], nt.denoise(noisy.T, "gaussian"), atol=1e-5)


def slow_method(image, *, sigma, seed, steps=400):
    for i in range(steps):
        time.sleep(0.01)
        yield Step(i + 1, steps, x0_hat=image)
    return image


@pytest.fixture
def slow_registered(monkeypatch):
    spec = DenoiserSpec(
        name="slow_test",
        summary="a deliberately slow test method",
        params=(),
        func=slow_method,
        fast=False,
        iterative=True,
        gaussian_only=False,
    )
    monkeypatch.setitem(DENOISERS, "slow_test", spec)
    return spec


def test_cancel_stops_within_a_second_and_adds_no_layer(qtbot, viewer_with_noisy, slow_registered):
    viewer, *_ = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "slow_test", "Current slice"
    job = widget.run()
    finished = []
    # record the moment the worker thread ends, not when the GUI thread gets to hear of it
    job.worker.finished.connect(
        lambda: finished.append(time.monotonic()), Qt.ConnectionType.DirectConnection
    )
    qtbot.waitUntil(lambda: widget.progress.value > 0)
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    assert not job.running and widget.run_button.enabled  # the GUI is free at once
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished[0] - started < 1.0  # and the worker thread really stopped
    qtbot.wait(300)
    assert [lay.name for lay in viewer.layers] == ["noisy"]  # no result, no preview left
    assert widget.status.value == "cancelled"


def test_iterative_method_shows_a_live_preview_then_the_result(
    qtbot, viewer_with_noisy, slow_registered
):
    viewer, *_ = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "slow_test", "Current slice"
    job = widget.run()
    # the result layer is made at Run (transparent), never while the job runs
    staged = viewer.layers["noisy [slow_test]"]
    assert staged.opacity == 0 and not staged.data.any()
    qtbot.waitUntil(lambda: staged.data.any(), timeout=10_000)  # the live estimate
    assert job.running and staged.opacity == 1
    layers_while_running = [lay.name for lay in viewer.layers]
    wait_job(qtbot, widget, job)
    assert layers_while_running == [lay.name for lay in viewer.layers]
    assert [lay.name for lay in viewer.layers] == ["noisy", "noisy [slow_test]"]
    assert viewer.layers["noisy [slow_test]"] is staged


def test_bad_scope_reports_instead_of_raising(qtbot, viewer_with_noisy):
    viewer, *_ = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.scope.value = "Shapes rectangle"  # no Shapes layer exists
    assert widget.run() is None
    assert "rectangle" in widget.status.value


def test_live_reruns_after_parameter_change(qtbot, viewer_with_noisy):
    viewer, *_ = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "gaussian", "Current slice"
    widget.live.value = True
    widget.params["sigma_spatial"].value = 2.0
    qtbot.waitUntil(lambda: "noisy [gaussian]" in viewer.layers, timeout=10_000)
    first = viewer.layers["noisy [gaussian]"].data.copy()
    widget.params["sigma_spatial"].value = 3.0
    qtbot.waitUntil(
        lambda: not np.allclose(viewer.layers["noisy [gaussian]"].data, first), timeout=10_000
    )


def apply_whole(qtbot, widget, target, method: str = "gaussian") -> None:
    """Apply ``method`` to the whole layer into ``target`` and wait for the job."""
    widget.method.value = method
    widget.output.value = target
    wait_job(qtbot, widget, widget.apply_to_whole_layer())


def test_cancel_of_a_whole_layer_fit_stops_within_the_tile(
    qtbot, tmp_path, viewer_with_noisy, slow_registered
):
    viewer, *_ = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.output.value = "slow_test", tmp_path / "whole.zarr"
    job = widget.apply_to_whole_layer()
    finished = []
    job.worker.finished.connect(
        lambda: finished.append(time.monotonic()), Qt.ConnectionType.DirectConnection
    )
    qtbot.wait(500)  # inside the one tile's 400 steps of 10 ms
    assert not finished
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished[0] - started < 1.0  # not the ~3.5 s left in the tile
    qtbot.wait(200)
    assert [lay.name for lay in viewer.layers] == ["noisy"]
    assert not (tmp_path / "whole.zarr").exists()


def test_apply_to_whole_layer_writes_zarr_and_opens_it_lazily(qtbot, tmp_path, viewer_with_noisy):
    import dask.array as da

    viewer, clean, noisy = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    apply_whole(qtbot, widget, tmp_path / "whole.zarr")
    assert (tmp_path / "whole.zarr").is_dir(), widget.status.value
    layer = viewer.layers["noisy [gaussian, whole]"]
    assert isinstance(layer.data, da.Array) and layer.data.shape == noisy.shape
    assert mse(np.asarray(layer.data), clean) < 0.5 * mse(noisy, clean)
    expected = nt.denoise_lazy(noisy, "gaussian").compute()
    np.testing.assert_allclose(np.asarray(layer.data), expected, atol=1e-5)


def test_multiscale_dask_layer_current_view_reads_full_resolution(
    qtbot, make_napari_viewer, noisy_pair
):
    import dask.array as da

    clean, noisy, _ = noisy_pair
    big = np.kron(noisy, np.ones((2, 2), np.float32))  # 192x192 full resolution
    pyramid = [da.from_array(big, chunks=64), da.from_array(big[::2, ::2], chunks=64)]
    viewer = make_napari_viewer()
    viewer.add_image(pyramid, name="pyramid", multiscale=True)
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "gaussian", "Current view"
    wait_job(qtbot, widget, widget.run())
    result = viewer.layers["pyramid [gaussian]"]
    assert result.data.shape == big.shape  # full resolution, whatever level is displayed


def test_whole_layer_result_of_a_pyramid_is_a_pyramid(
    qtbot, make_napari_viewer, noisy_pair, tmp_path
):
    import dask.array as da

    from napari_tweedie.data import open_array

    clean, noisy, _ = noisy_pair
    big = np.kron(noisy, np.ones((2, 2), np.float32))  # 192x192 full resolution
    levels = [big, big[::2, ::2], big[::4, ::4]]
    viewer = make_napari_viewer()
    viewer.add_image([da.from_array(a, chunks=64) for a in levels], name="pyramid", multiscale=True)
    widget = DenoiseWidget(viewer)
    apply_whole(qtbot, widget, tmp_path / "whole.zarr")
    result = viewer.layers["pyramid [gaussian, whole]"]
    assert result.multiscale and [a.shape for a in result.data] == [(192, 192), (96, 96), (48, 48)]
    full = np.asarray(result.data[0])
    np.testing.assert_allclose(full, nt.denoise_lazy(big, "gaussian").compute(), atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(result.data[1])[5, 7], full[10:12, 14:16].mean(), rtol=1e-5
    )
    np.testing.assert_array_equal(open_array(tmp_path / "whole.zarr").compute(), full)


def test_default_output_follows_layer_and_method_until_edited(viewer_with_noisy, tmp_path):
    viewer, _, noisy = viewer_with_noisy
    viewer.add_image(noisy, name="other")
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "noisy", "tv"
    assert Path(widget.output.value).name == "noisy_tv.zarr"
    widget.method.value = "gaussian"
    widget.layer.value = "other"
    assert Path(widget.output.value).name == "other_gaussian.zarr"
    widget.output.value = tmp_path / "mine.zarr"  # the user's choice is kept
    widget.method.value = "tv"
    assert Path(widget.output.value) == tmp_path / "mine.zarr"


def test_apply_refuses_a_store_another_result_layer_shows(qtbot, tmp_path, viewer_with_noisy):
    viewer, _, noisy = viewer_with_noisy
    widget = DenoiseWidget(viewer)
    apply_whole(qtbot, widget, tmp_path / "shared.zarr")
    first = np.asarray(viewer.layers["noisy [gaussian, whole]"].data)
    apply_whole(qtbot, widget, tmp_path / "shared.zarr")  # same result layer: replaced
    assert len([lay for lay in viewer.layers if "whole" in lay.name]) == 1
    widget.method.value = "tv"
    widget.output.value = tmp_path / "shared.zarr"
    assert widget.apply_to_whole_layer() is None
    assert "shown by the layer 'noisy [gaussian, whole]'" in widget.status.value
    np.testing.assert_array_equal(np.asarray(viewer.layers["noisy [gaussian, whole]"].data), first)


def test_pixels_are_read_in_the_worker_not_on_the_gui_thread(
    qtbot, viewer_with_noisy, tmp_path, monkeypatch
):
    import threading

    from napari_tweedie import api
    from napari_tweedie.data import ROI

    callers: list[str] = []

    def recorded(function):
        def wrapper(*args, **kwargs):
            callers.append(threading.current_thread().name)
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(ROI, "read", recorded(ROI.read))
    monkeypatch.setattr(api, "denoise_lazy", recorded(api.denoise_lazy))
    viewer, _, _ = viewer_with_noisy
    gui = threading.current_thread().name
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "gaussian", "Whole layer"
    wait_job(qtbot, widget, widget.run())
    widget.output.value = tmp_path / "whole.zarr"
    wait_job(qtbot, widget, widget.apply_to_whole_layer())  # its noise estimate reads planes
    assert "wrote" in widget.status.value
    assert len(callers) == 2 and gui not in callers, callers
