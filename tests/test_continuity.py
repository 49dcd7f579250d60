"""Methods whose output is a continuous function of their parameters: what SURE and tune need.

An adaptive stopping rule or an integer window that steps with a width makes the
output jump between neighbouring settings, so that a slider moves the result
erratically and no risk estimate can be minimised (:mod:`napari_tweedie.tuning`).
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

import napari_tweedie as nt
from napari_tweedie import DENOISERS

SIGMA = 0.1


@pytest.fixture(scope="module")
def noisy_camera():
    clean = data.camera()[200:328, 200:328] / 255.0
    noise = SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, (clean + noise).astype(np.float32)


def _largest_jump(func, values, relative_step):
    return max(np.abs(func(v * (1 + relative_step)) - func(v)).max() for v in values)


def test_tv_moves_little_when_the_weight_moves_by_one_percent(noisy_camera):
    _, y = noisy_camera
    tv = DENOISERS["tv"].func
    # scikit-image's energy-change stopping rule jumped by 0.05 (half the noise sd) here
    jump = _largest_jump(lambda w: tv(y, sigma=SIGMA, weight=w), np.geomspace(0.05, 0.15, 11), 0.01)
    assert jump < 0.01


def test_bilateral_moves_little_where_opencvs_window_radius_steps(noisy_camera):
    _, y = noisy_camera
    bilateral = DENOISERS["bilateral"].func
    # round(1.5 s) steps from 2 to 3 at s = 5/3: the disc gained 12 pixels at once
    below, above = (bilateral(y, sigma=SIGMA, sigma_spatial=s) for s in (1.66, 1.675))
    assert np.abs(above - below).max() < 0.01
    for colour in (False, True):  # the joint (colour, 3-D) kernel's ball likewise
        image = np.repeat(y[..., None], 3, axis=-1) if colour else y[None].repeat(3, axis=0)
        options = {"channel_axis": -1} if colour else {"volumetric": True}
        a, b = (nt.denoise(image, "bilateral", sigma=SIGMA, sigma_spatial=s, **options)
                for s in (1.66, 1.675))  # fmt: skip
        assert np.abs(a - b).max() < 0.01


def test_tv_and_bilateral_defaults_still_denoise(noisy_camera):
    clean, y = noisy_camera
    for method in ("tv", "bilateral"):
        out = DENOISERS[method].func(y, sigma=SIGMA)
        assert np.mean((out - clean) ** 2) < 0.35 * np.mean((y - clean) ** 2), method


def test_tune_starts_from_the_multiple_of_sigma_a_method_derives(noisy_camera):
    from napari_tweedie.steps import run
    from napari_tweedie.tuning.tune import tune_steps

    _, y = noisy_camera
    steps = []
    run(tune_steps(y, "bilateral", sigma=SIGMA, budget=4), steps.append)
    first = steps[0].info["params"]
    # the range width first (the intensity parameter), from 3 sigma; the spatial width at 2
    assert list(first) == ["sigma_color", "sigma_spatial"]
    assert first["sigma_color"] == pytest.approx(3 * SIGMA, rel=1e-6)
    assert first["sigma_spatial"] == pytest.approx(2.0)
