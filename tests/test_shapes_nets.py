"""Colour images and volumes in the learned methods (issue 16): the prior, Filter2Noise,
zero-shot Noise2Noise and Noise2Score keep the input's shape and beat the noise; colour
Filter2Noise shares one sigma map per pixel; the prior's opponent path reduces to the grey
one on grey content."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage import data

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.steps import run

SIGMA = 25 / 255


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny problems: one thread is as fast, and much faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


@pytest.fixture(scope="module")
def rgb() -> tuple[np.ndarray, np.ndarray]:
    """A 64x64 astronaut crop (face and suit: colour edges) with Gaussian noise 25/255."""
    clean = data.astronaut()[40:104, 180:244].astype(np.float32) / 255
    noise = np.random.default_rng(0).normal(0, SIGMA, clean.shape)
    return clean, (clean + noise).astype(np.float32)


@pytest.fixture(scope="module")
def volume() -> tuple[np.ndarray, np.ndarray]:
    """A (16, 32, 32) volume of smooth 3-D blobs on [0, 1] with Gaussian noise 0.1."""
    rng = np.random.default_rng(1)
    blobs = ndimage.gaussian_filter(rng.random((16, 32, 32)), 2.5)
    clean = ((blobs - blobs.min()) / np.ptp(blobs)).astype(np.float32)
    return clean, (clean + rng.normal(0, 0.1, clean.shape)).astype(np.float32)


def _call(name: str, image: np.ndarray, sigma, **params) -> np.ndarray:
    spec = DENOISERS[name]
    result = spec.func(image, sigma=sigma, seed=0, **params)
    return run(result) if spec.iterative else result


def test_the_flags_of_the_learned_methods():
    assert DENOISERS["prior"].channels == "joint" and not DENOISERS["prior"].volumetric
    assert DENOISERS["filter2noise"].channels == "joint"
    assert not DENOISERS["filter2noise"].volumetric
    for name in ("zs_n2n", "noise2score"):
        assert DENOISERS[name].channels == "joint" and DENOISERS[name].volumetric


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("prior", {}),
        ("filter2noise", dict(iterations=15, crop=32, preview_every=100)),
        ("zs_n2n", dict(iterations=150, crop=32, patience=0, preview_every=1000)),
        ("noise2score", dict(steps=3, patch=32, batch=2, preview_every=1000)),
    ],
)
def test_rgb_keeps_its_shape_and_beats_the_noise(rgb, name, params):
    clean, noisy = rgb
    out = _call(name, noisy, np.full(3, SIGMA, np.float32), **params)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert mse(out, clean) < 0.5 * mse(noisy, clean)


def test_the_prior_in_opponent_space_equals_the_grey_prior_on_grey_content(rgb):
    """R = G = B: the luminance plane is sqrt(3) times the grey plane (noise included, so
    its sigma is sqrt(3) sigma) and the chrominance planes are zero."""
    grey = rgb[1].mean(-1)
    expected = _call("prior", grey, SIGMA)
    colour = _call("prior", np.repeat(grey[..., None], 3, -1), np.full(3, np.sqrt(3) * SIGMA))
    for c in range(3):
        np.testing.assert_allclose(colour[..., c], expected, atol=2e-5)
    # and the colour path is not the grey one per channel on real colour content
    noisy = rgb[1]
    per_channel = np.stack([_call("prior", noisy[..., c], SIGMA) for c in range(3)], -1)
    joint = _call("prior", noisy, np.full(3, SIGMA))
    assert mse(joint, rgb[0]) < mse(per_channel, rgb[0])


def test_colour_filter2noise_has_one_sigma_map_per_pixel_and_round_trips(rgb, tmp_path):
    from napari_tweedie.denoisers.filter2noise import Filter2Noise, fit_filter2noise

    noisy = rgb[1][:48, :48]
    model = run(fit_filter2noise(noisy, iterations=4, crop=32, channel_last=True))
    maps = model.sigma_maps(noisy)
    assert len(maps) == model.stages
    assert all(m.shape == (3, 48, 48) for m in maps)  # (sx, sy, sr) per pixel, not per channel
    loaded = Filter2Noise.load(model.save(tmp_path / "colour"))
    assert loaded.channel_last
    np.testing.assert_allclose(loaded.apply(noisy), model.apply(noisy), atol=1e-6)
    smoother = model.render(noisy, maps, sigma_r=3.0)  # edits apply to all channels alike
    assert smoother.shape == noisy.shape
    assert np.std(np.diff(smoother, axis=1)) < np.std(np.diff(model.apply(noisy), axis=1))
    with pytest.raises(ValueError, match="colour"):
        run(fit_filter2noise(noisy[..., 0], channel_last=True))


@pytest.mark.slow  # ~10 s of CPU; about a minute on a loaded machine
def test_zs_n2n_3d_keeps_the_volume_shape_beats_the_noise_and_round_trips(volume, tmp_path):
    from napari_tweedie.denoisers.zs_n2n import ZSN2NModel, fit_zs_n2n

    clean, noisy = volume
    params = dict(iterations=150, crop=32, patience=0, preview_every=1000)
    out = _call("zs_n2n", noisy, 0.1, spacing=(2.0, 1.0, 1.0), **params)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert mse(out, clean) < 0.5 * mse(noisy, clean)
    model = run(fit_zs_n2n(noisy[:8], volumetric=True, iterations=2, crop=16, patience=0))
    assert model.volumetric and model.net.conv2.weight.ndim == 5
    loaded = ZSN2NModel.load(model.save(tmp_path / "volume"))
    np.testing.assert_allclose(loaded.apply(noisy[:8]), model.apply(noisy[:8]), atol=1e-6)
    with pytest.raises(ValueError, match="3-D"):
        loaded.apply(noisy[0])


def test_noise2score_colour_without_sigma_estimates_one_level(rgb):
    """``api`` passes an unknown per-channel sigma as None to dataset methods."""
    clean, noisy = rgb
    stack = np.stack([noisy, noisy[::-1]])  # (N, H, W, C)
    out = _call("noise2score", stack, None, steps=3, patch=32, batch=2, preview_every=1000)
    assert out.shape == stack.shape
    assert mse(out[0], clean) < 0.5 * mse(noisy, clean)


def test_noise2score_on_a_volume_is_one_dataset_of_its_slices(volume):
    clean, noisy = volume
    params = dict(steps=3, patch=16, batch=2, preview_every=1000)
    out = _call("noise2score", noisy, 0.1, spacing=(1.0, 1.0, 1.0), **params)
    assert out.shape == noisy.shape
    assert mse(out, clean) < 0.5 * mse(noisy, clean)


def test_the_prior_through_nt_denoise_with_a_channel_axis(rgb):
    import inspect

    import napari_tweedie as nt

    if "channel_axis" not in inspect.signature(nt.denoise).parameters:
        pytest.skip("nt.denoise has no channel_axis yet (issue 16, shapes-api)")
    clean, noisy = rgb
    moved = np.moveaxis(noisy, -1, 0)  # channels first: the axis is given, not guessed
    out = nt.denoise(moved, "prior", sigma=SIGMA, channel_axis=0)
    assert out.shape == moved.shape
    assert mse(np.moveaxis(out, 0, -1), clean) < 0.3 * mse(noisy, clean)


def test_the_colour_prior_tiled_equals_whole(monkeypatch):
    import napari_tweedie as nt
    from napari_tweedie.prior import colour

    ranges = []
    real = colour.denoise_colour

    def spy(denoise, image, **kwargs):
        ranges.append(kwargs["data_range"])
        return real(denoise, image, **kwargs)

    monkeypatch.setattr(colour, "denoise_colour", spy)
    # 96 px: a colourful astronaut crop whose 64 px tiles span different colour ranges
    clean = data.astronaut()[20:116, 160:256].astype(np.float32) / 255
    clean[:, :40] *= np.array([1.0, 0.3, 0.2], np.float32)  # a reddish left part
    noisy = clean + np.random.default_rng(5).normal(0, SIGMA, clean.shape).astype(np.float32)
    whole = nt.denoise(noisy, "prior", sigma=SIGMA, channel_axis=-1)
    lazy = nt.denoise_lazy(noisy, "prior", sigma=SIGMA, channel_axis=-1, tile=64)
    tiled = np.asarray(lazy.compute(scheduler="synchronous"))
    assert tiled.shape == whole.shape == noisy.shape and len(ranges) == 5  # whole + 4 tiles
    # one (low, high) per opponent channel, fixed once from the whole image's sample
    assert np.shape(ranges[0]) == (3, 2) and all(r == ranges[0] for r in ranges)
    # inside: equal up to float noise (at the image's border the tiler's margin differs
    # from the network's own padding, for grey images too)
    inner = (slice(32, 64), slice(32, 64))
    np.testing.assert_allclose(tiled[inner], whole[inner], rtol=0, atol=1.5e-3)
    assert mse(whole, clean) < 0.5 * mse(noisy, clean)
