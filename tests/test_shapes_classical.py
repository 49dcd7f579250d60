"""Joint colour and 3-D paths of the classical denoisers (issue 16, channels and volumes).

The registry funcs are called directly with the contract's layouts: a
channel-last image with a per-channel sigma array (``channels="joint"``), a
(Z, Y, X) volume with a scalar sigma and ``spacing`` (``volumetric=True``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.denoisers.classical.layout import layout

CLASSICAL = ("gaussian", "bilateral", "tv", "nl_means", "wavelet", "bm3d")
AVAILABLE = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(
            bool(DENOISERS[name].requires and DENOISERS[name].requires()), reason="absent"
        ),
    )
    for name in CLASSICAL
]
SIGMA = 0.1


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def psnr(a, b) -> float:
    return 10 * np.log10(1.0 / mse(a, b))


@pytest.fixture(scope="module")
def rgb_pair():
    """A 48 x 48 crop of astronaut on [0, 1] and a noisy copy (sigma 0.1 per channel)."""
    from skimage import data

    clean = data.astronaut()[120:168, 170:218].astype(np.float32) / 255
    noise = SIGMA * np.random.default_rng(1).standard_normal(clean.shape)
    return clean, (clean + noise).astype(np.float32)


@pytest.fixture(scope="module")
def shared_edges():
    """RGB squares whose edges coincide across channels, with different contrasts, noisy."""
    yy, xx = np.mgrid[:48, :48]
    mask = (((yy // 12) + (xx // 12)) % 2).astype(np.float32)
    clean = np.stack([0.2 + 0.3 * mask, 0.7 - 0.3 * mask, 0.4 + 0.3 * mask], axis=-1)
    noise = 0.15 * np.random.default_rng(2).standard_normal(clean.shape)
    return clean.astype(np.float32), (clean + noise).astype(np.float32)


@pytest.fixture(scope="module")
def blob_pair():
    """A smooth 3-D blob volume (16 x 32 x 32) on [0, 1] and a noisy copy (sigma 0.1)."""
    from skimage.data import binary_blobs

    blobs = binary_blobs(32, blob_size_fraction=0.25, n_dim=3, volume_fraction=0.3, rng=3)
    clean = ndimage.gaussian_filter(blobs[:16].astype(np.float32), 1.0)
    noise = SIGMA * np.random.default_rng(3).standard_normal(clean.shape)
    return clean, (clean + noise).astype(np.float32)


def per_channel(method: str, noisy: np.ndarray, sigma: float = SIGMA) -> np.ndarray:
    func = DENOISERS[method].func
    return np.stack([func(noisy[..., c], sigma=sigma) for c in range(noisy.shape[-1])], -1)


def slice_wise(method: str, noisy: np.ndarray) -> np.ndarray:
    return np.stack([DENOISERS[method].func(plane, sigma=SIGMA) for plane in noisy])


def test_specs_declare_their_shapes():
    for name in CLASSICAL[1:]:
        assert DENOISERS[name].channels == "joint", name
    assert DENOISERS["gaussian"].channels == "per_channel"  # linear: per channel is joint
    for name in ("gaussian", "bilateral", "tv", "nl_means", "wavelet", "bm4d"):
        assert DENOISERS[name].volumetric, name
    assert not DENOISERS["bm3d"].volumetric and DENOISERS["bm4d"].channels == "per_channel"


@pytest.mark.parametrize("method", AVAILABLE)
def test_joint_colour_keeps_the_shape_and_beats_the_noise(rgb_pair, method):
    clean, noisy = rgb_pair
    out = DENOISERS[method].func(noisy, sigma=np.full(3, SIGMA, np.float32), seed=0)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert mse(out, clean) < 0.5 * mse(noisy, clean)


@pytest.mark.parametrize("method", ["bilateral", "nl_means", "tv"])
def test_joint_colour_beats_per_channel_on_shared_edges(shared_edges, method):
    clean, noisy = shared_edges
    joint = DENOISERS[method].func(noisy, sigma=np.full(3, 0.15, np.float32))
    separate = per_channel(method, noisy, 0.15)
    assert psnr(joint, clean) > psnr(separate, clean) + 0.5


def test_joint_colour_uses_each_channels_own_noise_level(shared_edges):
    clean, _ = shared_edges
    sigma = np.array([0.02, 0.15, 0.05], np.float32)
    noisy = clean + sigma * np.random.default_rng(4).standard_normal(clean.shape)
    out = DENOISERS["nl_means"].func(noisy.astype(np.float32), sigma=sigma)
    for c in range(3):
        assert mse(out[..., c], clean[..., c]) < 0.6 * mse(noisy[..., c], clean[..., c]), c


def test_grey_plane_path_is_unchanged():
    from napari_tweedie.denoisers.classical.filters import denoise_bilateral

    plane = np.random.default_rng(5).random((24, 24), dtype=np.float32)
    np.testing.assert_array_equal(
        DENOISERS["bilateral"].func(plane, sigma=0.1), denoise_bilateral(plane, sigma=0.1)
    )
    # a one-channel image through the joint kernel: the same filter
    one = DENOISERS["bilateral"].func(plane[..., None], sigma=np.array([0.1], np.float32))
    np.testing.assert_allclose(one[..., 0], denoise_bilateral(plane, sigma=0.1), atol=1e-6)


def test_gaussian_without_z_reach_is_the_slice_wise_filter(blob_pair):
    _, noisy = blob_pair
    flat = DENOISERS["gaussian"].func(
        noisy, sigma=SIGMA, sigma_spatial=1.5, spacing=(np.inf, 1.0, 1.0)
    )
    planes = np.stack(
        [DENOISERS["gaussian"].func(p, sigma=SIGMA, sigma_spatial=1.5) for p in noisy]
    )
    np.testing.assert_allclose(flat, planes, atol=1e-6)
    # identical slices: any z width gives the slice-wise result
    stack = np.repeat(noisy[:1], 6, axis=0)
    out = DENOISERS["gaussian"].func(stack, sigma=SIGMA, sigma_spatial=1.5)
    np.testing.assert_allclose(out, np.repeat(planes[:1], 6, axis=0), atol=1e-6)


@pytest.mark.parametrize("method", ["gaussian", "bilateral"])
def test_spacing_changes_the_z_reach(method):
    impulse = np.zeros((9, 15, 15), np.float32)
    impulse[4, 7, 7] = 1.0
    func = DENOISERS[method].func
    options = {"sigma_spatial": 1.5} | ({"sigma_color": 10.0} if method == "bilateral" else {})
    near = func(impulse, sigma=SIGMA, spacing=(1.0, 1.0, 1.0), **options)
    far = func(impulse, sigma=SIGMA, spacing=(1.8, 1.0, 1.0), **options)
    flat = func(impulse, sigma=SIGMA, spacing=(np.inf, 1.0, 1.0), **options)
    # the weight reaching the next slice, relative to the centre slice, shrinks with dz
    assert near[5].sum() / near[4].sum() > 1.5 * far[5].sum() / far[4].sum() > 0
    assert abs(flat[5]).max() < 1e-6 and abs(near[3]).max() > 0
    np.testing.assert_allclose(near[3], near[5], atol=1e-6)  # symmetric in z
    # the (soft) ball of radius 1.5 x 1.5 = 2.25 pixels reaches 2.75: no slice 3 pixels away
    assert abs(func(impulse, sigma=SIGMA, spacing=(3.0, 1.0, 1.0), **options)[5]).max() < (
        1e-6 if method == "bilateral" else 1.0
    )


def test_tv_spacing_weighs_the_z_differences(blob_pair):
    _, noisy = blob_pair

    def z_variation(dz: float) -> float:
        out = DENOISERS["tv"].func(noisy, sigma=SIGMA, weight=0.1, spacing=(dz, 1.0, 1.0))
        return float(np.abs(np.diff(out, axis=0)).mean())

    # weaker z coupling keeps more of the noise's z variation
    near, far, flat = z_variation(1.0), z_variation(4.0), z_variation(np.inf)
    assert near < far < flat and flat > 1.1 * near


@pytest.mark.parametrize("method", ["tv", "nl_means", "wavelet"])
def test_3d_beats_slice_wise_on_a_blob_volume(blob_pair, method):
    clean, noisy = blob_pair
    volume = DENOISERS[method].func(noisy, sigma=SIGMA, spacing=(1.0, 1.0, 1.0))
    assert volume.shape == noisy.shape and volume.dtype == np.float32
    assert psnr(volume, clean) > psnr(slice_wise(method, noisy), clean) + 0.5


def test_nl_means_searches_z_only_when_slices_are_close(blob_pair):
    clean, noisy = blob_pair
    far = DENOISERS["nl_means"].func(noisy, sigma=SIGMA, spacing=(10.0, 1.0, 1.0))
    np.testing.assert_allclose(far, slice_wise("nl_means", noisy), atol=1e-5)


def test_bm4d_denoises_a_volume_and_a_plane(blob_pair):
    if DENOISERS["bm4d"].requires():
        pytest.skip("bm4d absent")
    clean, noisy = blob_pair
    small = (slice(0, 8), slice(0, 16), slice(0, 16))
    out = DENOISERS["bm4d"].func(noisy[small], sigma=SIGMA, stage="hard")
    assert out.shape == noisy[small].shape
    assert mse(out, clean[small]) < 0.5 * mse(noisy[small], clean[small])
    plane = DENOISERS["bm4d"].func(noisy[0, :16, :16], sigma=SIGMA, stage="hard")
    assert plane.shape == (16, 16)
    assert mse(plane, clean[0, :16, :16]) < mse(noisy[0, :16, :16], clean[0, :16, :16])


def test_layout_refuses_what_it_cannot_tell_apart():
    with pytest.raises(ValueError, match="sigma has 2 values"):
        layout(np.zeros((8, 8, 3)), np.ones(2))
    with pytest.raises(ValueError, match="plane or"):
        layout(np.zeros((2, 8, 8, 3)), 0.1)
    with pytest.raises(ValueError, match="spacing"):
        layout(np.zeros((4, 8, 8)), 0.1, spacing=(1.0, -1.0, 1.0))
    assert layout(np.zeros((4, 8, 8, 3)), np.ones(3)).volume
    with pytest.raises(ValueError, match="bm4d filters volumes"):
        DENOISERS["bm3d"].func(np.zeros((4, 16, 16), np.float32), sigma=0.1)
