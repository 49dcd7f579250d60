"""Zero-shot Noise2Noise: fitting beats the noise, streams steps, cancels, is reproducible;
the fitted model applies to other images, tile by tile, and saves and loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import napari_tweedie as nt
from napari_tweedie.denoisers.fitting import pair_downsample
from napari_tweedie.denoisers.zs_n2n import ZSN2NModel, ZSN2NNet, fit_zs_n2n, zs_n2n_losses

SHORT = dict(iterations=60, crop=0, patience=0, preview_every=20)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny problems: one thread is as fast, and much faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def small_pair(clean_image, rng) -> tuple[np.ndarray, np.ndarray, float]:
    """64x64 camera crop with Gaussian noise of sigma 0.1."""
    clean = clean_image[16:80, 16:80]
    noisy = clean + 0.1 * rng.standard_normal(clean.shape)
    return clean, noisy.astype(np.float32), 0.1


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_pair_downsample_averages_the_diagonals():
    y = torch.arange(16.0).reshape(1, 1, 4, 4)
    d1, d2 = pair_downsample(y)
    np.testing.assert_allclose(d1[0, 0], [[2.5, 4.5], [10.5, 12.5]])  # anti-diagonal means
    np.testing.assert_allclose(d2[0, 0], [[2.5, 4.5], [10.5, 12.5]])  # (a ramp: equal)
    d1, d2 = pair_downsample(torch.tensor([[[[1.0, 2.0], [3.0, 5.0]]]]))
    assert float(d1) == 2.5 and float(d2) == 3.0


def test_losses_vanish_for_a_perfect_pair():
    net = ZSN2NNet(generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    with torch.no_grad():
        residual, consistency = zs_n2n_losses(net, torch.ones(1, 1, 8, 8))
    assert float(residual) == 0.0 and float(consistency) == 0.0


def test_short_fit_beats_the_noisy_input_and_streams_steps(small_pair):
    clean, noisy, _ = small_pair
    steps = []
    fit = nt.run(fit_zs_n2n(noisy, seed=1, **SHORT), steps.append)
    assert isinstance(fit, ZSN2NModel) and fit.iterations == 60
    assert [s.i for s in steps] == [20, 40, 60] and all(s.n == 60 for s in steps)
    for step in steps:
        assert step.x0_hat.shape == noisy.shape and step.x0_hat.dtype == np.float32
        assert np.isfinite(step.info["loss"])
    assert mse(fit.estimate, clean) < 0.5 * mse(noisy, clean)


def test_default_recipe_on_crops_beats_the_noise(small_pair):
    clean, noisy, _ = small_pair
    fit = nt.run(fit_zs_n2n(noisy, iterations=100, crop=32, seed=0))
    assert mse(fit.estimate, clean) < 0.5 * mse(noisy, clean)


def test_closing_midway_is_clean(small_pair):
    _, noisy, _ = small_pair
    gen = fit_zs_n2n(noisy, **SHORT)
    first = next(gen)
    assert first.i == 20
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)
    # and through the public API
    steps = nt.denoise_steps(noisy, "zs_n2n", sigma=0.1, iterations=60)
    assert next(steps).x0_hat.shape == noisy.shape
    steps.close()


def test_same_seed_same_result(small_pair):
    _, noisy, _ = small_pair
    a = nt.run(fit_zs_n2n(noisy, iterations=30, crop=32, seed=5)).estimate
    b = nt.run(fit_zs_n2n(noisy, iterations=30, crop=32, seed=5)).estimate
    c = nt.run(fit_zs_n2n(noisy, iterations=30, crop=32, seed=6)).estimate
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_early_stopping_on_a_loss_plateau(small_pair):
    _, noisy, _ = small_pair
    fit = nt.run(fit_zs_n2n(noisy, iterations=5000, lr=0.02, crop=32, patience=20))
    assert fit.stopped_early and fit.iterations < 5000
    assert len(fit.losses) == fit.iterations


def test_through_the_public_api(small_pair):
    clean, noisy, sigma = small_pair
    assert "zs_n2n" in nt.DENOISERS and nt.DENOISERS["zs_n2n"].iterative
    params = dict(iterations=100, crop=32, patience=0)
    result = nt.denoise(noisy, "zs_n2n", sigma=sigma, **params)
    assert result.shape == noisy.shape and result.dtype == np.float32
    assert mse(result, clean) < 0.5 * mse(noisy, clean)
    scaled = nt.denoise(noisy * 1000, "zs_n2n", sigma=sigma * 1000, **params)
    np.testing.assert_allclose(scaled / 1000, result, atol=0.02)  # units do not matter
    with pytest.raises(ValueError, match="2-D"):
        nt.run(fit_zs_n2n(np.zeros((2, 2))))


@pytest.fixture(scope="module")
def fitted() -> ZSN2NModel:
    rng = np.random.default_rng(3)
    noisy = (0.5 + 0.1 * rng.standard_normal((64, 64))).astype(np.float32)
    return nt.run(fit_zs_n2n(noisy * 200, iterations=20, crop=32, patience=0, seed=2))


def test_the_fitted_model_reproduces_its_estimate(small_pair):
    _, noisy, _ = small_pair
    model = nt.run(fit_zs_n2n(noisy, iterations=30, crop=32, patience=0))
    np.testing.assert_array_equal(model.apply(noisy), model.estimate)
    assert model.apply(noisy, ensemble=False).shape == noisy.shape


def test_save_load_round_trip_is_identical(fitted, small_pair, tmp_path):
    _, noisy, _ = small_pair
    image = noisy * 200
    path = fitted.save(tmp_path / "sub" / "model.safetensors")
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    loaded = ZSN2NModel.load(path)
    np.testing.assert_array_equal(loaded.apply(image), fitted.apply(image))
    assert (loaded.offset, loaded.scale) == (fitted.offset, fitted.scale)
    assert loaded.losses == fitted.losses and loaded.iterations == 20
    with pytest.raises(FileNotFoundError):
        ZSN2NModel.load(tmp_path / "missing.safetensors")


def test_a_noise2score_file_is_not_a_zs_n2n_model(tmp_path):
    from napari_tweedie.denoisers.saving import write_model

    path = write_model(tmp_path / "other.safetensors", {"w": torch.zeros(2)}, "other", {})
    with pytest.raises(ValueError, match="not a zero-shot Noise2Noise model"):
        ZSN2NModel.load(path)


def test_lazy_tiles_match_the_whole_image(fitted, rng):
    stack = (100 + 20 * rng.standard_normal((2, 80, 72))).astype(np.float32)
    stack[1, :5, :7] = np.nan
    lazy = fitted.apply_lazy(stack, tile=32)
    assert lazy.shape == stack.shape and lazy.dtype == np.float32
    tiled = lazy.compute(scheduler="synchronous")
    whole = np.stack([fitted.apply(plane) for plane in stack])
    assert np.isnan(tiled[1, :5, :7]).all() and np.isnan(whole[1, :5, :7]).all()
    tiled[1, :8, :10], whole[1, :8, :10] = 0, 0  # filled with each tile's median: differs
    np.testing.assert_allclose(tiled, whole, rtol=0, atol=1e-3)
    one_tile = fitted.apply_lazy(stack[0]).compute(scheduler="synchronous")
    np.testing.assert_array_equal(one_tile, whole[0])
