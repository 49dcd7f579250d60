"""Channels in the API (issue 16): ``channel_axis`` on denoise / denoise_lazy."""

from __future__ import annotations

import numpy as np
import pytest
from shape_fakes import register_fakes

import napari_tweedie as nt


@pytest.fixture
def fakes(monkeypatch) -> list:
    return register_fakes(monkeypatch)


def _noisy(rng, clean, sigmas):
    """``clean`` (H, W) repeated per channel (channel-last) with one noise level per channel."""
    noise = rng.standard_normal(clean.shape + (len(sigmas),)).astype(np.float32)
    return (clean[..., None] + noise * np.asarray(sigmas, np.float32)).astype(np.float32)


def test_rgb_keeps_shape_and_order_and_equals_each_channel_alone(clean_image, rng):
    rgb = _noisy(rng, clean_image, (0.05, 0.1, 0.2))
    out = nt.denoise(rgb, "gaussian", channel_axis=-1, sigma=0.1)
    assert out.shape == rgb.shape and out.dtype == np.float32
    for c in range(3):
        alone = nt.denoise(rgb[..., c], "gaussian", sigma=0.1)
        np.testing.assert_allclose(out[..., c], alone, atol=1e-6)
    # and the denoiser really denoised the channels whose noise matches the sigma given
    for c in (1, 2):
        before = np.mean((rgb[..., c] - clean_image) ** 2)
        assert np.mean((out[..., c] - clean_image) ** 2) < 0.5 * before


def test_rgb_uint8_comes_back_float32_in_its_units(clean_image, rng):
    rgb = np.clip(_noisy(rng, clean_image, (0.05,) * 3) * 255, 0, 255).astype(np.uint8)
    out = nt.denoise(rgb, "gaussian", channel_axis=2)
    assert out.shape == rgb.shape and out.dtype == np.float32
    assert 100 < out.mean() < 160  # the input's units (0..255), not 0..1


def test_axis_0_channels_come_back_on_axis_0(clean_image, rng):
    image = np.moveaxis(_noisy(rng, clean_image, (0.05, 0.2)), -1, 0)  # (2, H, W)
    out = nt.denoise(image, "gaussian", channel_axis=0, sigma=[0.05, 0.2])
    assert out.shape == image.shape
    for c, sigma in enumerate((0.05, 0.2)):
        np.testing.assert_allclose(out[c], nt.denoise(image[c], "gaussian", sigma=sigma), atol=1e-6)


def test_noise_is_estimated_per_channel(fakes, clean_image, rng):
    image = _noisy(rng, clean_image, (0.02, 0.16))
    nt.denoise(image, "fake_flat", channel_axis=-1)
    per_channel = [float(sigma) for name, _, sigma, _ in fakes]
    assert len(per_channel) == 2 and all(shape == (96, 96) for _, shape, _, _ in fakes)
    assert per_channel[1] / per_channel[0] > 4  # true ratio 8
    fakes.clear()
    nt.denoise(image, "fake_joint", channel_axis=-1)
    ((name, shape, sigma, _),) = fakes
    assert shape == (96, 96, 2) and sigma.shape == (2,) and sigma.dtype == np.float32
    np.testing.assert_allclose(sigma, per_channel, rtol=1e-5)


def test_a_joint_method_sees_channel_last_and_returns_the_input_order(fakes, clean_image, rng):
    image = np.moveaxis(_noisy(rng, clean_image, (0.1, 0.1, 0.1)), -1, 0)  # (3, H, W)
    out = nt.denoise(image, "fake_joint", channel_axis=0, sigma=[0.1, 0.2, 0.3])
    ((_, shape, sigma, _),) = fakes
    assert shape == (96, 96, 3)
    np.testing.assert_allclose(sigma, [0.1, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_allclose(out[1], nt.denoise(image[1], "fake_flat"), atol=1e-6)


def test_poisson_channels_are_stabilised_one_by_one(fakes, rng):
    scales = (4.0, 40.0)  # photons per unit: very different noise levels
    clean = np.full((64, 64), 0.5, np.float32)
    image = np.stack([rng.poisson(clean * s) / s for s in scales], axis=-1).astype(np.float32)
    out = nt.denoise(image, "fake_joint", channel_axis=-1, noise="poisson")
    ((_, _, sigma, _),) = fakes
    np.testing.assert_allclose(sigma, 1.0, atol=0.35)  # ~1 per channel after each one's VST
    assert out.shape == image.shape
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0.5, atol=0.05)  # back in its units


def test_nan_stays_in_its_channel(clean_image, rng):
    image = _noisy(rng, clean_image, (0.1, 0.1))
    image[10, 20, 1] = np.nan
    out = nt.denoise(image, "gaussian", channel_axis=-1)
    assert np.isnan(out[10, 20, 1]) and np.isfinite(out[..., 0]).all()
    assert np.isfinite(out).sum() == out.size - 1


def test_sigma_per_channel_is_checked(clean_image, rng):
    image = _noisy(rng, clean_image, (0.1, 0.1))
    with pytest.raises(ValueError, match="one per channel"):
        nt.denoise(image, "gaussian", channel_axis=-1, sigma=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="needs channel_axis"):
        nt.denoise(image[..., 0], "gaussian", sigma=[0.1, 0.1])
    with pytest.raises(ValueError, match="out of range"):
        nt.denoise(image, "gaussian", channel_axis=3)
    with pytest.raises(ValueError, match="integer axis"):
        nt.denoise(image, "gaussian", channel_axis=True)


@pytest.mark.parametrize("method", ["gaussian", "fake_joint"])
def test_lazy_channels_equal_in_memory(fakes, method, clean_image, rng):
    image = np.moveaxis(_noisy(rng, clean_image, (0.05, 0.1, 0.2)), -1, 0)
    whole = nt.denoise(image, method, channel_axis=0)
    lazy = nt.denoise_lazy(image, method, channel_axis=0, tile=32)
    assert lazy.shape == image.shape
    np.testing.assert_allclose(lazy.compute(), whole, atol=1e-5)


@pytest.mark.parametrize("method", ["gaussian", "fake_joint"])
def test_sure_with_a_channel_axis_tracks_the_true_error(fakes, method, clean_image, rng):
    clean = np.stack([clean_image, clean_image.T, clean_image[::-1]], axis=0)
    image = clean + np.array([0.04, 0.08, 0.16])[:, None, None] * rng.standard_normal(clean.shape)
    image = image.astype(np.float32)
    for width in (0.7, 2.0):
        params = {"width": width} if method == "fake_joint" else {"sigma_spatial": width}
        out = nt.denoise(image, method, channel_axis=0, sigma=[0.04, 0.08, 0.16], **params)
        true = float(np.mean((out - clean) ** 2))
        estimate = nt.sure(image, method, channel_axis=0, sigma=[0.04, 0.08, 0.16], **params)
        assert abs(estimate - true) < 0.15 * true
    tuned = nt.tune(image, method, channel_axis=0, params=[next(iter(params))])
    assert set(tuned) == set(params)


def test_device_is_checked_and_reaches_only_methods_that_take_it(monkeypatch, rng):
    from napari_tweedie.denoisers import DENOISERS, DenoiserSpec

    seen = []

    def torchy(image, *, sigma, seed, device="auto"):
        seen.append(device)
        return image

    spec = DenoiserSpec(name="fake_torch", func=torchy, params=(), summary="test only")
    monkeypatch.setitem(DENOISERS, "fake_torch", spec)
    image = rng.random((32, 32)).astype(np.float32)
    nt.denoise(image, "fake_torch", device="cpu")
    nt.denoise_lazy(image, "fake_torch", device="cuda:1", sigma=0.1).compute()
    assert seen == ["cpu", "cuda:1"]
    nt.denoise(image, "gaussian", device="cpu")  # a method without one ignores it
    with pytest.raises(ValueError, match="device must be"):
        nt.denoise(image, "gaussian", device="gpu please")


@pytest.mark.parametrize(("channels", "shapes"), [("per_channel", [(2, 16, 16)] * 3),
                                                  ("joint", [(2, 16, 16, 3)])])  # fmt: skip
def test_dataset_methods_get_per_channel_or_joint_stacks(monkeypatch, rng, channels, shapes):
    from napari_tweedie.denoisers import DENOISERS, DenoiserSpec

    seen = []

    def fit_all(stack, *, sigma, seed, noise, **_):
        seen.append(stack.shape)
        return stack * 0.5

    spec = DenoiserSpec(name="fake_set", func=fit_all, params=(), summary="test only",
                        channels=channels, extra={"dataset": True})  # fmt: skip
    monkeypatch.setitem(DENOISERS, "fake_set", spec)
    image = rng.random((2, 3, 16, 16)).astype(np.float32)  # (T, C, Y, X)
    out = nt.denoise(image, "fake_set", channel_axis=1)
    assert seen == shapes
    np.testing.assert_allclose(out, image * 0.5, rtol=1e-6)


def test_joint_dataset_methods_get_nan_per_channel_when_sigma_is_unknown(monkeypatch, rng):
    from napari_tweedie.denoisers import DENOISERS, DenoiserSpec

    seen = []

    def fit_all(stack, *, sigma, seed, noise, **_):
        seen.append(sigma)
        return stack

    spec = DenoiserSpec(name="fake_set", func=fit_all, params=(), summary="test only",
                        channels="joint", extra={"dataset": True})  # fmt: skip
    monkeypatch.setitem(DENOISERS, "fake_set", spec)
    image = rng.random((16, 16, 9)).astype(np.float32)  # 9 channels: not "short" (< 8)
    nt.denoise(image, "fake_set", channel_axis=-1)
    nt.denoise(image, "fake_set", channel_axis=-1, sigma=0.1)
    assert seen[0].shape == (9,) and np.isnan(seen[0]).all()
    np.testing.assert_allclose(seen[1], np.full(9, 0.1), rtol=1e-6)


N2S = dict(steps=2, patch=32, batch=2)


def test_noise2score_channels_vs_planes_without_sigma(monkeypatch, rng):
    from napari_tweedie.denoisers.noise2score import colour

    calls = []
    real = colour.denoise_colour

    def spy(image, **kwargs):
        calls.append(image.shape)
        return (yield from real(image, **kwargs))

    monkeypatch.setattr(colour, "denoise_colour", spy)
    rgb = (0.5 + 0.1 * rng.standard_normal((32, 32, 3))).astype(np.float32)
    assert nt.denoise(rgb, "noise2score", channel_axis=-1, **N2S).shape == (32, 32, 3)
    assert calls == [(1, 32, 32, 3)]  # one joint colour call (a stack of one)
    many = (0.5 + 0.1 * rng.standard_normal((32, 32, 8))).astype(np.float32)
    assert nt.denoise(many, "noise2score", channel_axis=-1, **N2S).shape == (32, 32, 8)
    assert calls[1:] == [(1, 32, 32, 8)]  # 8 channels: the axis is known, not guessed from its size
    planes = rgb.transpose(2, 0, 1).copy()  # (3, 32, 32): three grey planes, no channel_axis
    out = nt.denoise(planes, "noise2score", **N2S)
    assert out.shape == (3, 32, 32) and len(calls) == 2 and np.isfinite(out).all()
