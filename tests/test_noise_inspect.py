"""Noise inspection core: variance curve, "auto" model choice, parameters, stabilised view."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tweedie.noise import NOISE_MODELS, make_noise_model
from napari_tweedie.noise.inspection import (
    aic_scores,
    choose_model,
    inspect_noise,
    variance_curve,
)

CASES = [
    ("gaussian", {"sigma": 0.05}),
    ("poisson", {"zeta": 0.01}),
    ("poisson_gaussian", {"zeta": 0.01, "sigma": 0.04}),
    ("gamma", {"k": 15.0}),
]


def test_the_cases_cover_every_noise_model():
    assert [name for name, _ in CASES] == list(NOISE_MODELS)


@pytest.fixture(scope="module")
def smooth() -> np.ndarray:
    """A smooth 192x192 image spanning [0.05, 0.95] (ramp plus a slow wave)."""
    yy, xx = np.mgrid[0:192, 0:192] / 191.0
    image = 0.05 + 0.8 * xx + 0.1 * (1 + np.sin(2 * np.pi * yy)) / 2
    return image.astype(np.float64)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_auto_picks_the_true_model_and_its_parameters(smooth, name, params):
    noisy = make_noise_model(name, **params).sample(smooth, np.random.default_rng(3))
    found = inspect_noise(noisy)
    assert found.name == name, found.scores
    for key, value in params.items():
        assert found.params[key] == pytest.approx(value, rel=0.12), found.describe()
    assert found.describe() == f"{name}: " + ", ".join(
        f"{k}={v:.4g}" for k, v in found.params.items()
    )
    assert set(found.params) == set(params)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_variance_curve_follows_the_model(smooth, name, params):
    model = make_noise_model(name, **params)
    curve = variance_curve(model.sample(smooth, np.random.default_rng(4)))
    assert 5 <= curve.means.size <= 10 and np.all(np.diff(curve.means) > 0)
    expected = model.variance(curve.means)
    np.testing.assert_allclose(curve.variances, expected, rtol=0.25)


def test_a_forced_model_is_fitted_even_when_auto_would_not_choose_it(smooth):
    noisy = make_noise_model("gaussian", sigma=0.05).sample(smooth, np.random.default_rng(5))
    forced = inspect_noise(noisy, "poisson")
    assert forced.name == "poisson" and forced.params["zeta"] > 0
    assert forced.scores["poisson"] > forced.scores["gaussian"] + 10  # and it fits worse


def test_narrow_intensity_range_falls_back_to_the_simplest_model():
    rng = np.random.default_rng(6)
    flat = 0.5 + 0.05 * rng.standard_normal((128, 128))
    curve = variance_curve(flat)
    assert choose_model(curve) == "gaussian"
    assert min(aic_scores(curve).values()) > 0


@pytest.mark.parametrize(("name", "params"), CASES)
def test_stabilised_noise_has_unit_standard_deviation(name, params):
    model = make_noise_model(name, **params)
    rng = np.random.default_rng(7)
    for level in (0.1, 0.4, 0.9):  # flat patches at different intensities
        patch = model.sample(np.full((64, 64), level), rng)
        assert np.std(model.stabilise(patch)) == pytest.approx(1.0, rel=0.1)


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="unknown noise"):
        inspect_noise(np.zeros((64, 64)), "rician")
    with pytest.raises(ValueError, match="too small"):
        inspect_noise(np.random.default_rng(0).random((20, 20)))


def test_scattered_dead_pixels_cost_little():
    rng = np.random.default_rng(0)
    clean = np.tile(np.linspace(0.3, 0.7, 96), (96, 1))
    noisy = clean + 0.05 * rng.standard_normal(clean.shape)
    noisy[rng.random(noisy.shape) < 0.05] = np.nan  # 5 %: almost every 8x8 block has one
    found = inspect_noise(noisy, "gaussian").model
    assert found.sigma == pytest.approx(0.05, rel=0.1)
