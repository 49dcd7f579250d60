"""Behaviour of the classical denoisers and of the compiled bilateral kernels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from skimage import data
from skimage.transform import downscale_local_mean

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.denoisers.classical import bilateral_filter, bilateral_filter_varying

CLASSICAL = ("gaussian", "bilateral", "tv", "nl_means", "wavelet", "bm3d")
NOISE = 0.1


def reference_bilateral(image, sigma_x, sigma_y, sigma_r, radius, *, disc):
    """Straightforward float64 bilateral filter on a symmetric-padded copy."""
    image = np.asarray(image, np.float64)
    height, width = image.shape
    padded = np.pad(image, radius, mode="symmetric")
    sx, sy, sr = (
        np.broadcast_to(np.asarray(s, np.float64), image.shape) for s in (sigma_x, sigma_y, sigma_r)
    )
    num = np.zeros_like(image)
    den = np.zeros_like(image)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if disc and dy * dy + dx * dx > radius * radius:
                continue
            neighbour = padded[
                radius + dy : radius + dy + height, radius + dx : radius + dx + width
            ]
            exponent = (
                dx**2 / (2 * sx**2) + dy**2 / (2 * sy**2) + (image - neighbour) ** 2 / (2 * sr**2)
            )
            weight = np.exp(-exponent)
            num += weight * neighbour
            den += weight
    return num / den


def smooth_random(shape, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    base = 0.5 + 0.3 * np.sin(yy / 3.0) * np.cos(xx / 5.0) + 0.2 * (xx > shape[1] // 2)
    return (base + 0.1 * rng.standard_normal(shape)).astype(np.float32)


@pytest.fixture(scope="module")
def clean():
    return (downscale_local_mean(data.camera(), (4, 4)) / 255.0).astype(np.float32)  # 128 x 128


@pytest.fixture(scope="module")
def noisy(clean):
    rng = np.random.default_rng(42)
    return (clean + NOISE * rng.standard_normal(clean.shape)).astype(np.float32)


# --- compiled bilateral kernels ------------------------------------------------


@pytest.mark.parametrize(
    ("sigma_spatial", "sigma_color", "radius"), [(2.0, 0.2, None), (1.3, 0.05, 4)]
)
def test_bilateral_matches_reference(sigma_spatial, sigma_color, radius):
    image = smooth_random((32, 40))
    result = bilateral_filter(image, sigma_spatial, sigma_color, radius=radius)
    r = max(1, round(1.5 * sigma_spatial)) if radius is None else radius
    expected = reference_bilateral(image, sigma_spatial, sigma_spatial, sigma_color, r, disc=True)
    assert result.dtype == np.float32 and result.shape == image.shape
    np.testing.assert_allclose(result, expected, atol=1e-4, rtol=0)


def test_bilateral_varying_matches_reference_constant_sigmas():
    image = smooth_random((32, 40), seed=1)
    result = bilateral_filter_varying(image, 1.5, 2.5, 0.15, radius=3)
    expected = reference_bilateral(image, 1.5, 2.5, 0.15, 3, disc=False)
    np.testing.assert_allclose(result, expected, atol=1e-4, rtol=0)


def test_bilateral_varying_matches_reference_varying_sigmas():
    image = smooth_random((32, 40), seed=2)
    rng = np.random.default_rng(3)
    sx = rng.uniform(0.5, 3.0, image.shape).astype(np.float32)
    sy = rng.uniform(0.5, 3.0, image.shape).astype(np.float32)
    sr = rng.uniform(0.03, 0.5, image.shape).astype(np.float32)
    result = bilateral_filter_varying(image, sx, sy, sr, radius=4)
    expected = reference_bilateral(image, sx, sy, sr, 4, disc=False)
    assert result.dtype == np.float32 and result.shape == image.shape
    np.testing.assert_allclose(result, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("shape", [(31, 17), (5, 3), (1, 9)])
def test_bilateral_odd_and_tiny_sizes(shape):
    """Windows wider than the image reflect repeatedly, like numpy's symmetric padding."""
    image = smooth_random(shape, seed=4)
    result = bilateral_filter(image, 2.5, 0.3)
    expected = reference_bilateral(image, 2.5, 2.5, 0.3, 4, disc=True)
    np.testing.assert_allclose(result, expected, atol=1e-4, rtol=0)
    varying = bilateral_filter_varying(image, 1.0, 2.0, 0.3, radius=3)
    expected = reference_bilateral(image, 1.0, 2.0, 0.3, 3, disc=False)
    np.testing.assert_allclose(varying, expected, atol=1e-4, rtol=0)


def test_bilateral_constant_image_stays_constant():
    image = np.full((31, 17), 0.37, np.float32)
    np.testing.assert_allclose(bilateral_filter(image, 3.0, 0.1), 0.37, rtol=1e-5)
    sx = np.linspace(0.5, 4.0, image.size, dtype=np.float32).reshape(image.shape)
    sy = np.ascontiguousarray(sx[::-1, ::-1])
    result = bilateral_filter_varying(image, sx, sy, 0.01, radius=5)
    np.testing.assert_allclose(result, 0.37, rtol=1e-5)  # float32 sums of up to 121 terms


def test_bilateral_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    image = smooth_random((64, 48), seed=5)
    sigma_spatial, sigma_color = 2.5, 0.2
    radius = max(1, round(1.5 * sigma_spatial))
    expected = cv2.bilateralFilter(
        image, 2 * radius + 1, sigma_color, sigma_spatial, borderType=cv2.BORDER_REFLECT
    )
    np.testing.assert_allclose(
        bilateral_filter(image, sigma_spatial, sigma_color), expected, atol=1e-3
    )


def test_bilateral_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        bilateral_filter(np.zeros((2, 3, 4), np.float32), 2.0, 0.1)
    with pytest.raises(ValueError, match="sigma_color"):
        bilateral_filter(np.zeros((8, 8), np.float32), 2.0, 0.0)
    with pytest.raises(ValueError, match="sigma_r"):
        bilateral_filter_varying(np.zeros((8, 8), np.float32), 1.0, 1.0, -1.0, radius=2)


def test_kernels_load_and_compile_lazily():
    """Registering the denoisers loads no numba; importing the kernels compiles nothing."""
    code = (
        "import sys, napari_tweedie.denoisers;"
        "assert 'numba' not in sys.modules;"
        "import napari_tweedie.denoisers.classical.bilateral_kernels as k;"
        "assert not k.bilateral_kernel.signatures;"
        "assert not k.bilateral_varying_kernel.signatures"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- registry entries --------------------------------------------------------------


@pytest.mark.parametrize("method", CLASSICAL)
def test_method_reduces_error(method, clean, noisy):
    spec = DENOISERS[method]
    if method == "bm3d":
        pytest.importorskip("bm3d")
    result = spec.func(noisy, sigma=NOISE, seed=0, **spec.defaults())
    assert result.shape == noisy.shape
    assert result.dtype == np.float32
    mse_noisy = np.mean((noisy - clean) ** 2)
    mse = np.mean((result - clean) ** 2)
    assert mse < 0.75 * mse_noisy, f"{method}: mse {mse:.2e} vs noisy {mse_noisy:.2e}"


@pytest.mark.parametrize("method", CLASSICAL)
def test_classical_specs_are_fast_one_shot_gaussian_filters(method):
    spec = DENOISERS[method]
    assert not spec.iterative and spec.gaussian_only and spec.radius is not None
    assert spec.fast == (method != "bm3d")


@pytest.mark.parametrize("method", ["gaussian", "bilateral", "tv", "nl_means", "wavelet"])
def test_methods_follow_image_units(method, noisy):
    """Scaling the image and sigma together scales the result (defaults derive from sigma)."""
    spec = DENOISERS[method]
    small = noisy[:64, :64]
    base = spec.func(small, sigma=NOISE, seed=0, **spec.defaults())
    scaled = spec.func(small * 1000.0, sigma=NOISE * 1000.0, seed=0, **spec.defaults())
    np.testing.assert_allclose(scaled / 1000.0, base, atol=2e-3)


@pytest.mark.parametrize("method", ["gaussian", "bilateral", "tv", "nl_means", "wavelet"])
def test_zero_noise_returns_the_image(method, noisy):
    spec = DENOISERS[method]
    small = noisy[:32, :40]
    np.testing.assert_array_equal(spec.func(small, sigma=0.0, seed=0, **spec.defaults()), small)


def test_bm3d_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "bm3d", None)
    spec = DENOISERS["bm3d"]
    with pytest.raises(ImportError, match=r"pip install 'napari-tweedie\[bm3d\]'"):
        spec.check_available()
    with pytest.raises(ImportError, match="non-commercial"):
        spec.func(np.zeros((16, 16), np.float32), sigma=0.1, seed=0)


@pytest.mark.parametrize("method", ["gaussian", "bilateral", "nl_means"])
def test_local_filters_tiled_equal_whole_up_to_the_border(method, noisy):
    import napari_tweedie as nt

    small = np.ascontiguousarray(noisy[:70, :60])
    whole = nt.denoise(small, method, sigma=NOISE)
    tiled = nt.denoise_lazy(small, method, sigma=NOISE, tile=24).compute()
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
