"""The Noise2Score dock widget under a real napari viewer (Xvfb), with the real core (tiny fits)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import skimage.data
import torch
from qtpy.QtCore import Qt

from napari_tweedie._widgets.noise2score import Noise2ScoreWidget
from napari_tweedie.denoisers.noise2score import fit_noise2score
from napari_tweedie.steps import run

SIGMA = 0.1
TINY = dict(batch=2, patch=32)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    """(clean, noisy): four 64x64 camera-man crops on [0.05, 0.95], Gaussian noise 0.1."""
    camera = skimage.data.camera()[::4, ::4].astype(np.float32) / 255
    clean = np.stack([camera[y : y + 64, x : x + 64] for y in (0, 64) for x in (0, 64)])
    clean = (0.05 + 0.9 * clean).astype(np.float32)
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, noisy.astype(np.float32)


@pytest.fixture(scope="module")
def trained(one_thread, pair):
    clean, noisy = pair
    return run(fit_noise2score(noisy, noise_params={"sigma": SIGMA}, steps=3, device="cpu", **TINY))


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def make_widget(viewer, steps: int) -> Noise2ScoreWidget:
    widget = Noise2ScoreWidget(viewer)
    widget.steps.value, widget.minutes.value = steps, 0.0
    widget.batch.value, widget.patch.value = TINY["batch"], TINY["patch"]
    return widget


def wait_job(qtbot, widget, job, timeout=60_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def test_train_with_auto_noise_previews_then_denoises_a_rectangle(qtbot, make_napari_viewer, pair):
    clean, noisy = pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="stack", scale=(1, 2.0, 0.5), translate=(0, 10.0, -4.0))
    viewer.dims.set_current_step(0, 2)
    widget = make_widget(viewer, steps=4)
    assert widget.noise.value == "auto" and not widget.panel.apply_button.enabled
    wait_job(qtbot, widget, widget.train())

    model = widget.panel.model
    assert model is not None and model.step == 4, widget.status.value
    assert model.noise_model.name == "gaussian"  # "auto" estimated it on the data
    assert model.noise_model.sigma == pytest.approx(SIGMA, rel=0.15)
    assert [i for i, _ in widget.losses] == [1, 2, 3, 4] and widget.plot.series
    preview = viewer.layers["stack [noise2score preview]"]
    assert widget.preview_updates >= 1 and preview.data.shape == (1, 64, 64)
    np.testing.assert_allclose(preview.translate, [2, 10.0, -4.0])
    assert not np.array_equal(preview.data[0], noisy[2])  # it shows an estimate, not the input
    assert widget.panel.apply_button.enabled and widget.panel.save_button.enabled

    # rows 8..56, columns 4..60 of plane 2, given in world coordinates
    top, bottom, left, right = 10 + 2.0 * 8, 10 + 2.0 * 56, -4 + 0.5 * 4, -4 + 0.5 * 60
    world = [[2, top, left], [2, top, right], [2, bottom, right], [2, bottom, left]]
    viewer.add_shapes([world], shape_type="rectangle", name="roi")
    widget.panel.target.value = "Shapes rectangle"
    wait_job(qtbot, widget, widget.panel.apply())
    result = viewer.layers["stack [noise2score]"]
    assert result.data.shape == (1, 48, 56)
    np.testing.assert_allclose(result.translate, [2, 10 + 2.0 * 8, -4 + 0.5 * 4])
    box = (2, slice(8, 56), slice(4, 60))
    assert mse(result.data[0], clean[box]) < 0.5 * mse(noisy[box], clean[box])


def test_cancel_keeps_a_usable_model_and_resume_continues(qtbot, make_napari_viewer, pair):
    clean, noisy = pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="stack")
    widget = make_widget(viewer, steps=10_000)
    widget.noise.value = "gaussian"
    job = widget.train()
    finished = []
    job.worker.finished.connect(
        lambda: finished.append(time.monotonic()), Qt.ConnectionType.DirectConnection
    )
    qtbot.waitUntil(lambda: widget.progress.value >= 2, timeout=60_000)
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    assert time.monotonic() - started < 0.1  # the GUI thread is not blocked
    assert not widget.cancel_button.enabled and "stopping" in widget.status.value
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished[0] - started < 1.0  # the worker stopped at its next step
    qtbot.waitUntil(lambda: job.exited, timeout=5000)  # the model is set, then the job ends
    model = widget.panel.model
    assert 2 <= model.step < 10_000 and "stopped early" in widget.status.value
    assert widget.run_button.enabled and widget.resume_button.enabled
    assert len(model.history) == model.step and model.optimizer_state is not None
    assert 0 < model.progress < 0.05  # the annealing resumes where it stopped
    estimate = model.denoise(noisy[0])
    assert mse(estimate, clean[0]) < 0.5 * mse(noisy[0], clean[0])

    widget.steps.value = 2
    before = model.step
    wait_job(qtbot, widget, widget.resume())
    assert widget.panel.model.step == before + 2, widget.status.value


def test_save_load_round_trip(qtbot, make_napari_viewer, pair, trained, tmp_path):
    clean, noisy = pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy[0], name="image")
    widget = make_widget(viewer, steps=2)
    assert widget.panel.save(tmp_path / "none.safetensors") is None  # nothing trained yet
    widget.panel.set_model(trained)
    path = widget.panel.save(tmp_path / "n2s.safetensors")
    assert path is not None and path.is_file(), widget.status.value

    other = Noise2ScoreWidget(viewer)
    assert (
        other.panel.load(tmp_path / "missing.safetensors") is None
        and "cannot" in other.status.value
    )
    loaded = other.panel.load(path)
    assert loaded is not None and loaded.step == trained.step
    assert other.noise.value == "gaussian" and other.panel.apply_button.enabled
    np.testing.assert_allclose(loaded.denoise(noisy[0]), trained.denoise(noisy[0]), atol=1e-5)


def test_apply_to_whole_layer_writes_zarr_and_opens_it_lazily(
    qtbot, make_napari_viewer, pair, trained, tmp_path
):
    import dask.array as da

    clean, noisy = pair
    viewer = make_napari_viewer()
    viewer.add_image(da.from_array(noisy[:2], chunks=(1, 32, 32)), name="lazy")
    widget = make_widget(viewer, steps=2)
    widget.panel.set_model(trained)
    widget.panel.target.value = "Whole layer"
    widget.panel.output.value = tmp_path / "whole.zarr"
    wait_job(qtbot, widget, widget.panel.apply())
    assert (tmp_path / "whole.zarr").is_dir(), widget.status.value
    layer = viewer.layers["lazy [noise2score, whole]"]
    assert isinstance(layer.data, da.Array) and layer.data.shape == (2, 64, 64)
    np.testing.assert_allclose(np.asarray(layer.data), trained.denoise(noisy[:2]), atol=1e-4)
