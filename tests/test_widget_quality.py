"""The quality panel of the Denoise widget: estimated PSNR, its curve, Auto-tune, maps (Xvfb)."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

import napari_tweedie as nt
from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.tuning import estimated_psnr, signal_range

SCALE, TRANSLATE = (2.0, 0.5), (10.0, -4.0)
BOX = (slice(20, 84), slice(10, 74))  # data rows/columns of the rectangle


@pytest.fixture
def viewer_noisy(make_napari_viewer, noisy_pair):
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy", scale=SCALE, translate=TRANSLATE)
    return viewer, noisy


def add_box(viewer) -> np.ndarray:
    """A rectangle over :data:`BOX`, in world coordinates; returns its world origin."""
    corners = np.array([[BOX[0].start, BOX[1].start], [BOX[0].stop, BOX[1].stop]], float)
    world = corners * SCALE + TRANSLATE
    viewer.add_shapes([world], shape_type="rectangle", name="roi")
    return world[0]


def wait_job(qtbot, widget, job, timeout=60_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def shown_psnr(widget) -> float:
    text = widget.quality.estimate.value
    assert "no clean image needed" in text
    match = re.search(r"(-?\d+\.\d+) dB", text)
    assert match, text
    return float(match.group(1))


def test_run_shows_the_estimate_and_moving_the_weight_draws_the_curve(qtbot, viewer_noisy):
    viewer, noisy = viewer_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "tv", "Current slice"
    wait_job(qtbot, widget, widget.run())
    first = shown_psnr(widget)
    assert not widget.quality.curve.points  # "auto" weight: no point on the weight axis
    widget.params["weight"].value = 0.05
    wait_job(qtbot, widget, widget.run())
    second = shown_psnr(widget)
    widget.params["weight"].value = 0.15
    wait_job(qtbot, widget, widget.run())
    third = shown_psnr(widget)
    assert len({first, second, third}) == 3
    assert widget.quality.curve.axis == "weight"
    assert [x for x, _ in widget.quality.curve.points] == [0.05, 0.15]
    # the live rating's one-probe estimate (nt.sure's default for tv takes 2 x 2 lattice probes)
    expected = estimated_psnr(nt.sure(noisy, "tv", weight=0.15, probes=1), signal_range(noisy))
    assert third == pytest.approx(expected, abs=0.006)
    assert widget.quality.plot.series and widget.quality.plot.series[0].x.size == 2
    assert "weight = 0.15" in widget.quality.note.value
    # the result is nt.denoise's, the estimate cost no change to it
    np.testing.assert_allclose(viewer.layers["noisy [tv]"].data,
                               nt.denoise(noisy, "tv", weight=0.15), atol=1e-5)  # fmt: skip


def test_live_rating_pays_one_call_where_nt_sure_takes_lattice_probes(qtbot, viewer_noisy):
    from napari_tweedie.tuning.sure import risk_problem

    viewer, noisy = viewer_noisy
    assert risk_problem(noisy, "wavelet").calls == 5  # nt.sure: 2 x 2 lattice probes
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "wavelet", "Current slice"
    wait_job(qtbot, widget, widget.run())
    one_probe = nt.sure(noisy, "wavelet", probes=1)  # the widget's: one extra call
    assert shown_psnr(widget) == pytest.approx(
        estimated_psnr(one_probe, signal_range(noisy)), abs=0.006
    )


def test_no_estimate_where_none_exists(qtbot, viewer_noisy):
    viewer, noisy = viewer_noisy
    viewer.layers["noisy"].data = np.abs(noisy) + 0.5  # positive, for gamma noise
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.noise.value = "gaussian", "gamma"
    wait_job(qtbot, widget, widget.run())
    assert "n/a" in widget.quality.estimate.value
    assert "gamma" in widget.quality.estimate.value
    assert "noisy [gaussian]" in viewer.layers  # the run itself went on


def test_auto_tune_sets_the_weight_tune_returns_on_the_roi(qtbot, viewer_noisy):
    viewer, noisy = viewer_noisy
    add_box(viewer)
    widget = DenoiseWidget(viewer)
    widget.method.value, widget.scope.value = "tv", "Shapes rectangle"
    assert widget.quality.tune_button.enabled
    job = widget.quality.auto_tune()
    assert not widget.quality.tune_button.enabled and widget.cancel_button.enabled
    wait_job(qtbot, widget, job)
    expected = nt.tune(noisy[BOX], "tv", seed=0)["weight"]
    weight = widget.params["weight"]
    assert weight.value == pytest.approx(expected, rel=1e-3)
    assert len(widget.quality.curve.points) >= 4  # every trial drew a point
    wait_job(qtbot, widget, widget.job)  # then it runs with the tuned weight
    assert "noisy [tv]" in viewer.layers
    assert widget.quality.curve.points[-1][0] == pytest.approx(expected, rel=1e-3)


def test_auto_tune_is_offered_only_where_tune_can_run(viewer_noisy):
    viewer, _ = viewer_noisy
    widget = DenoiseWidget(viewer)
    widget.method.value = "filter2noise"  # refits on every trial
    assert not widget.quality.tune_button.enabled
    widget.method.value = "nl_means"
    assert widget.quality.tune_button.enabled


@pytest.fixture
def posterior_mean_method(monkeypatch) -> str:
    """``prior`` if its weights are here, else a registered stand-in marked posterior-mean."""
    if DENOISERS["prior"].requires() is None:
        return "prior"
    spec = replace(DENOISERS["gaussian"], name="pm_test", posterior_mean=True)
    monkeypatch.setitem(DENOISERS, "pm_test", spec)
    return "pm_test"


def test_uncertainty_and_sure_map_layers_lie_over_the_roi(
    qtbot, viewer_noisy, posterior_mean_method
):
    viewer, noisy = viewer_noisy
    origin = add_box(viewer)
    widget = DenoiseWidget(viewer)
    method = posterior_mean_method
    widget.method.value, widget.scope.value = method, "Shapes rectangle"
    assert widget.quality.uncertainty.enabled
    widget.quality.uncertainty.value = widget.quality.sure_map.value = True
    wait_job(qtbot, widget, widget.run(), timeout=120_000)
    shape = noisy[BOX].shape
    names = [f"noisy [{method}, {what}]" for what in ("uncertainty", "SURE map")]
    # new layers arrive one per turn of the event loop (live.one_per_turn)
    qtbot.waitUntil(lambda: all(name in viewer.layers for name in names), timeout=10_000)
    for what in ("uncertainty", "SURE map"):
        layer = viewer.layers[f"noisy [{method}, {what}]"]
        assert layer.data.shape == shape
        np.testing.assert_allclose(layer.translate, origin)
        np.testing.assert_allclose(layer.scale, SCALE)
        assert np.isfinite(layer.data).all()
    std = viewer.layers[f"noisy [{method}, uncertainty]"].data
    assert 0 < float(np.median(std)) < 0.1  # below the noise level (0.1)
    blocks = viewer.layers[f"noisy [{method}, SURE map]"].data
    assert np.mean(blocks) == pytest.approx(nt.sure(noisy[BOX], method), rel=1e-4)
    widget.method.value = "tv"
    assert not widget.quality.uncertainty.enabled  # TV is no posterior mean


def test_filter2noise_rates_each_rerender_and_auto_tunes_the_multipliers(qtbot, viewer_noisy):
    from napari_tweedie._widgets.f2n_quality import TUNE_BUDGET, TUNED
    from napari_tweedie._widgets.filter2noise import Filter2NoiseWidget
    from napari_tweedie.steps import run
    from napari_tweedie.tuning import sure_of
    from napari_tweedie.tuning.tune import search_steps

    viewer, noisy = viewer_noisy
    widget = Filter2NoiseWidget(viewer)
    widget.params["iterations"].value, widget.params["crop"].value = 20, 64
    widget.quality.sure_map.value = True
    assert not widget.quality.tune_button.enabled  # nothing fitted yet
    wait_job(qtbot, widget, widget.fit())
    first = shown_psnr(widget)
    model, plane = widget.fitted.model, widget.fitted.plane

    def render(y, sigma_x=1.0, sigma_y=1.0, sigma_r=1.0):
        return model.render(y, model.sigma_maps(y), sigma_x=sigma_x, sigma_y=sigma_y,
                            sigma_r=sigma_r)  # fmt: skip

    assert first == pytest.approx(estimated_psnr(sure_of(render, plane), signal_range(plane)),
                                  abs=0.006)  # fmt: skip
    widget.sigma_r.value = 2.0  # a slider edit re-renders and re-rates (debounced)
    qtbot.waitUntil(lambda: shown_psnr(widget) != first, timeout=5000)
    assert widget.quality.curve.axis == "sigma_r"
    assert [x for x, _ in widget.quality.curve.points] == [1.0, 2.0]
    layer = viewer.layers["noisy [filter2noise, SURE map]"]
    assert layer.data.shape == noisy.shape
    np.testing.assert_allclose(layer.translate, TRANSLATE)
    assert widget.quality.tune_button.enabled
    wait_job(qtbot, widget, widget.quality.auto_tune())
    problem = widget.quality.problem()
    start = replace(problem, params={"spatial": 1.0, "sigma_r": 2.0})
    expected = run(search_steps(start, TUNED, TUNE_BUDGET))
    # a float spin box keeps at least four significant digits (quality.set_value)
    assert widget.sigma_r.value == pytest.approx(expected["sigma_r"], rel=1e-4)
    assert widget.sigma_x.value == widget.sigma_y.value
    assert widget.sigma_x.value == pytest.approx(expected["spatial"], rel=1e-4)
    assert "tuned" in widget.status.value
