"""The public ``napari_tweedie.denoise`` contract: shapes, dtypes, NaNs, noise models, errors."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

import napari_tweedie as nt

#: The interactive methods whose optional dependencies (bm3d, the prior's weights) are present.
FAST = [
    name
    for name, spec in nt.DENOISERS.items()
    if spec.fast and (spec.requires is None or spec.requires() is None)
]


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_registry_has_the_contract_methods():
    assert {"gaussian", "bilateral", "tv", "nl_means", "wavelet", "bm3d"} <= set(nt.DENOISERS)
    for spec in nt.DENOISERS.values():
        assert spec.summary and all(p.tooltip for p in spec.params)


@pytest.mark.parametrize("method", FAST)
def test_denoise_beats_noise_with_estimated_sigma(noisy_pair, method):
    clean, noisy, _ = noisy_pair
    result = nt.denoise(noisy, method)
    assert result.dtype == np.float32 and result.shape == noisy.shape
    assert mse(result, clean) < 0.7 * mse(noisy, clean)


def test_nd_dask_input_is_processed_plane_by_plane(noisy_pair):
    clean, noisy, sigma = noisy_pair
    stack = np.stack([noisy, noisy[::-1]])[None]  # (1, 2, Y, X)
    result = nt.denoise(da.from_array(stack, chunks=(1, 1, 48, 48)), "tv", sigma=sigma)
    assert result.shape == stack.shape
    np.testing.assert_allclose(result[0, 0], nt.denoise(noisy, "tv", sigma=sigma), atol=1e-6)
    np.testing.assert_allclose(result[0, 1], nt.denoise(noisy[::-1], "tv", sigma=sigma), atol=1e-6)


def test_integer_input_odd_sizes_and_units(rng):
    clean = (np.linspace(0, 4000, 31 * 17).reshape(31, 17)).astype(np.float32)
    noisy = np.clip(clean + rng.normal(0, 200, clean.shape), 0, 65535).astype(np.uint16)
    result = nt.denoise(noisy, "tv")
    assert result.dtype == np.float32 and result.shape == (31, 17)
    assert mse(result, clean) < mse(noisy, clean)


def test_nans_stay_nan_and_do_not_spread(noisy_pair):
    clean, noisy, sigma = noisy_pair
    holed = noisy.copy()
    holed[10:14, 20:30] = np.nan
    result = nt.denoise(holed, "gaussian", sigma=sigma)
    assert np.isnan(result[10:14, 20:30]).all()
    assert np.isfinite(np.delete(result.ravel(), np.flatnonzero(np.isnan(holed)))).all()


@pytest.mark.parametrize("method", ["gaussian", "filter2noise"])
def test_lazy_tiles_that_are_all_nan_stay_nan(method):
    rng = np.random.default_rng(0)
    mosaic = (0.5 + 0.1 * rng.standard_normal((200, 200))).astype(np.float32)
    mosaic[:100, :100] = np.nan  # empty tiles of a stitched mosaic, halos included
    params = {"iterations": 2, "crop": 32} if method == "filter2noise" else {}
    result = nt.denoise_lazy(mosaic, method, sigma=0.1, tile=50, **params).compute()
    assert np.isnan(result[:100, :100]).all()
    assert np.isfinite(result[100:, :]).all() and np.isfinite(result[:, 100:]).all()


def test_constant_image_stays_constant():
    image = np.full((40, 50), 7.0, np.float32)
    for method in FAST:
        np.testing.assert_allclose(nt.denoise(image, method), 7.0, atol=1e-4, err_msg=method)
        # with a real noise level the filters act (the estimate of a constant image is 0)
        strong = nt.denoise(image, method, sigma=0.5)
        np.testing.assert_allclose(strong, 7.0, atol=1e-4, err_msg=method)


def test_same_seed_same_result(noisy_pair):
    _, noisy, sigma = noisy_pair
    a = nt.denoise(noisy, "nl_means", sigma=sigma, seed=3)
    np.testing.assert_array_equal(a, nt.denoise(noisy, "nl_means", sigma=sigma, seed=3))
    # a seeded method: the seed reaches it, and another one gives another result
    fit = dict(sigma=sigma, iterations=5, crop=32)
    b = nt.denoise(noisy[:48, :48], "zs_n2n", seed=3, **fit)
    np.testing.assert_array_equal(b, nt.denoise(noisy[:48, :48], "zs_n2n", seed=3, **fit))
    assert not np.array_equal(b, nt.denoise(noisy[:48, :48], "zs_n2n", seed=4, **fit))


@pytest.mark.parametrize(
    ("noise", "params"),
    [
        ("poisson", {"zeta": 0.02}),
        ("poisson", {}),
        ("poisson_gaussian", {"zeta": 0.02}),
        ("gamma", {"k": 30.0}),
    ],
)
def test_non_gaussian_noise_through_stabiliser(clean_image, rng, noise, params):
    clean = 0.05 + 0.9 * clean_image
    if noise == "gamma":
        noisy = clean * rng.gamma(30.0, 1 / 30.0, clean.shape)
    else:
        noisy = 0.02 * rng.poisson(clean / 0.02)
        if noise == "poisson_gaussian":
            noisy = noisy + 0.02 * rng.standard_normal(clean.shape)
    noisy = noisy.astype(np.float32)
    sigma = 0.02 if noise == "poisson_gaussian" else None
    result = nt.denoise(noisy, "tv", noise=noise, sigma=sigma, **params)
    assert mse(result, clean) < 0.6 * mse(noisy, clean)
    assert abs(float(result.mean() - clean.mean())) < 0.01  # unbiased inverse


def test_lazy_tiled_matches_in_memory_for_local_filter(noisy_pair):
    _, noisy, sigma = noisy_pair
    lazy = nt.denoise_lazy(da.from_array(noisy, chunks=32), "bilateral", sigma=sigma, tile=40)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(
        lazy.compute(), nt.denoise(noisy, "bilateral", sigma=sigma), atol=1e-5
    )


def test_steps_report_progress_and_can_be_closed(noisy_pair):
    _, noisy, sigma = noisy_pair
    steps = nt.denoise_steps(np.stack([noisy] * 3), "gaussian", sigma=sigma)
    first = next(steps)
    assert (first.i, first.n) == (1, 3) and first.x0_hat.shape == noisy.shape
    steps.close()
    seen = []
    result = nt.run(nt.denoise_steps(noisy, "gaussian", sigma=sigma), seen.append)
    assert len(seen) == 1 and result.shape == noisy.shape


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: nt.denoise(x, "nope"), ValueError, "unknown method"),
        (lambda x: nt.denoise(x, "tv", bogus=1), TypeError, "unknown parameter"),
        (lambda x: nt.denoise(x, "tv", noise="laplace"), ValueError, "unknown noise"),
        (lambda x: nt.denoise(x[0], "tv"), ValueError, "at least 2 axes"),
        (lambda x: nt.denoise(x.astype(complex), "tv"), TypeError, "dtype"),
        (lambda x: nt.denoise(np.full_like(x, np.nan), "tv"), ValueError, "no finite"),
        (lambda x: nt.denoise(x, "tv", sigma=-1.0), ValueError, "sigma"),
    ],
)
def test_bad_input_raises_clear_errors(noisy_pair, call, error, match):
    with pytest.raises(error, match=match):
        call(noisy_pair[1])


def test_raw_data_methods_get_the_noise_level_in_image_units(monkeypatch):
    from dataclasses import replace

    from napari_tweedie.denoisers import DENOISERS

    seen = []

    def record(image, *, sigma, seed, **params):
        seen.append(sigma)
        return image

    spec = replace(DENOISERS["filter2noise"], func=record, iterative=False)
    monkeypatch.setitem(DENOISERS, "filter2noise", spec)
    counts = 0.01 * np.random.default_rng(0).poisson(np.full((64, 64), 50.0))  # std 0.071
    nt.denoise(counts.astype(np.float32), "filter2noise", noise="poisson", zeta=0.01)
    assert seen and seen[0] == pytest.approx(0.0707, rel=0.15)  # not the stabilised 1.0


FEW_STEPS = {
    "filter2noise": {"iterations": 2, "crop": 32},
    "zs_n2n": {"iterations": 3, "crop": 1},  # a crop too small to train on means the whole image
    "noise2score": {"steps": 1, "batch": 1, "patch": 16},
}


@pytest.mark.parametrize("shape", [(5, 5), (2, 3)])
def test_tiny_planes_are_denoised_or_refused_clearly(shape):
    from napari_tweedie.denoisers import DENOISERS

    x = (0.5 + 0.1 * np.random.default_rng(0).standard_normal(shape)).astype(np.float32)
    for method, spec in DENOISERS.items():
        if spec.requires is not None and spec.requires() is not None:
            continue  # an optional dependency (bm3d) is missing
        try:
            out = nt.denoise(x, method, sigma=0.1, **FEW_STEPS.get(method, {}))
        except ValueError as error:
            assert "at least" in str(error), (method, error)
            continue
        assert out.shape == shape and np.isfinite(out).all(), method


def test_lazy_cancel_stops_a_fitting_method_within_a_step(monkeypatch):
    from napari_tweedie.data import Cancelled
    from napari_tweedie.denoisers import DENOISERS, DenoiserSpec

    seen = []

    def fitting(image, *, sigma, seed, steps=400):
        for i in range(steps):
            seen.append(i)
            yield nt.Step(i + 1, steps, x0_hat=image)
        return image

    spec = DenoiserSpec(
        name="fit_test",
        summary="a fitting test",
        params=(),
        func=fitting,
        iterative=True,
        gaussian_only=False,
    )
    monkeypatch.setitem(DENOISERS, "fit_test", spec)
    image = np.random.default_rng(0).random((64, 64), np.float32)
    lazy = nt.denoise_lazy(image, "fit_test", sigma=0.1, tile=64, cancelled=lambda: len(seen) >= 5)
    with pytest.raises(Cancelled):
        lazy.compute(scheduler="synchronous")
    assert len(seen) == 5  # not the 400 steps of the tile
    uncancelled = nt.denoise_lazy(image, "fit_test", sigma=0.1, tile=64, cancelled=lambda: False)
    np.testing.assert_array_equal(uncancelled.compute(), image)
    with pytest.raises(Cancelled):  # a one-shot method: checked before the plane
        nt.denoise_lazy(image, "gaussian", sigma=0.1, cancelled=lambda: True).compute()


def test_a_pickled_tile_denoiser_leaves_the_cancel_flag_behind():
    import pickle

    from napari_tweedie.api import _TileDenoiser
    from napari_tweedie.denoisers import DENOISERS

    tile = _TileDenoiser(DENOISERS["gaussian"], None, {"sigma_spatial": 1.0}, lambda: True)
    copy = pickle.loads(pickle.dumps(tile))  # a dask.distributed worker cannot see the GUI
    assert copy.cancelled is None and copy.params == tile.params
