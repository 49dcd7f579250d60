"""Filter2Noise: the AGBF kernels, the fit generator, sigma maps and their edits, persistence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

import napari_tweedie as nt
from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.denoisers.classical.bilateral import bilateral_filter_varying
from napari_tweedie.denoisers.filter2noise import Filter2Noise, fit_filter2noise
from napari_tweedie.denoisers.filter2noise.agbf import agbf, agbf_reference
from napari_tweedie.denoisers.filter2noise.loss import euclidean_local_shuffle
from napari_tweedie.denoisers.fitting import pair_downsample
from napari_tweedie.steps import Step, run

FIT = {"iterations": 40, "crop": 64, "preview_every": 10, "seed": 3}


def total_variation(image: np.ndarray) -> float:
    return float(np.abs(np.diff(image, axis=0)).sum() + np.abs(np.diff(image, axis=1)).sum())


def mse(a, b) -> float:
    return float(np.mean((np.asarray(a, np.float64) - b) ** 2))


@pytest.fixture(scope="module")
def noisy_64():
    import skimage.data
    import skimage.transform

    camera = skimage.data.camera().astype(np.float32) / 255
    clean = skimage.transform.resize(camera, (64, 80), anti_aliasing=True).astype(np.float32)
    rng = np.random.default_rng(7)
    noisy = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
    return clean, (noisy * 1000 + 50).astype(np.float32)  # not on [0, 1]: units matter


@pytest.fixture(scope="module")
def fitted(noisy_64):
    _, noisy = noisy_64
    steps: list[Step] = []
    model = run(fit_filter2noise(noisy, **FIT), steps.append)
    return model, steps


def test_agbf_forward_and_gradients_match_plain_torch():
    g = torch.Generator().manual_seed(0)
    shape = (2, 11, 14)
    image = torch.rand(shape, generator=g)
    sx, sy = (0.4 + 2 * torch.rand(shape, generator=g) for _ in range(2))
    sr = 0.05 + 0.3 * torch.rand(shape, generator=g)
    weights = torch.randn(shape, generator=g)
    fast = [t.clone().requires_grad_(True) for t in (image, sx, sy, sr)]
    slow = [t.double().requires_grad_(True) for t in (image, sx, sy, sr)]
    out = agbf(*fast, 3)
    (out * weights).sum().backward()
    ref = agbf_reference(*slow, 3)
    (ref * weights.double()).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=2e-6)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=2e-5, rtol=1e-4)
    inference = bilateral_filter_varying(*(t[0].numpy() for t in (image, sx, sy, sr)), radius=3)
    np.testing.assert_allclose(out[0].detach().numpy(), inference, atol=1e-6)


def test_shuffle_swaps_the_closest_pair_in_each_block():
    x = torch.tensor([[0.0, 0.5, 10.0, 10.2], [0.1, 0.9, 3.0, 7.0]])
    shuffled = euclidean_local_shuffle(x)
    # block 1: closest pair (0.0, 0.1) swaps; block 2: (10.0, 10.2) swaps
    expected = torch.tensor([[0.1, 0.5, 10.2, 10.0], [0.0, 0.9, 3.0, 7.0]])
    np.testing.assert_array_equal(shuffled, expected)
    d1, d2 = pair_downsample(x)
    np.testing.assert_allclose(d1, [[0.3, 6.6]], rtol=1e-6)
    np.testing.assert_allclose(d2, [[0.45, 8.5]], rtol=1e-6)


def test_sigma_maps_have_the_right_shape_and_are_positive(fitted, noisy_64):
    model, _ = fitted
    _, noisy = noisy_64
    maps = model.sigma_maps(noisy)
    assert len(maps) == model.stages == 2
    for stage in maps:
        assert stage.shape == (3, *noisy.shape) and stage.dtype == np.float32
        assert np.isfinite(stage).all() and (stage > 0).all()
        assert stage[:2].max() <= model.radius / 2 + 0.2  # spatial widths capped
    assert 1000 <= model.n_parameters <= 4000  # ~3.6k as in the paper's F2N-S2


def test_unit_multipliers_reproduce_the_fitted_output_exactly(fitted, noisy_64):
    model, steps = fitted
    _, noisy = noisy_64
    rendered = model.render(noisy, model.sigma_maps(noisy), sigma_x=1, sigma_y=1, sigma_r=1)
    np.testing.assert_array_equal(rendered, steps[-1].x0_hat)
    np.testing.assert_array_equal(rendered, model.apply(noisy))
    labels = np.zeros(noisy.shape, np.int32)
    labels[5:20, 5:20] = 1
    same = model.render(noisy, model.sigma_maps(noisy), labels=labels, regions={1: (1, 1, 1)})
    np.testing.assert_array_equal(same, rendered)


def test_fit_denoises(fitted, noisy_64):
    model, _ = fitted
    clean, noisy = noisy_64
    out = model.apply(noisy)
    assert mse(out, clean * 1000 + 50) < 0.6 * mse(noisy, clean * 1000 + 50)


def test_larger_sigma_r_smooths_more(fitted, noisy_64):
    model, _ = fitted
    _, noisy = noisy_64
    maps = model.sigma_maps(noisy)
    tv = [total_variation(model.render(noisy, maps, sigma_r=m)) for m in (0.5, 1.0, 3.0)]
    assert tv[0] > tv[1] > tv[2]
    assert total_variation(model.render(noisy, maps, sigma_x=2, sigma_y=2)) < tv[1]


def test_painting_a_region_changes_only_that_region_and_its_reach(fitted, noisy_64):
    model, _ = fitted
    _, noisy = noisy_64
    maps = model.sigma_maps(noisy)
    labels = np.zeros(noisy.shape, np.int32)
    labels[20:40, 30:50] = 2
    before = model.render(noisy, maps)
    after = model.render(noisy, maps, labels=labels, regions={2: (2.0, 2.0, 3.0)})
    changed = after != before
    assert changed[20:40, 30:50].mean() > 0.9
    reach = (
        model.stages * model.radius - model.radius
    )  # stage 1 is pixel-local, later stages spread
    neighbourhood = ndimage.binary_dilation(labels > 0, np.ones((2 * reach + 1,) * 2, bool))
    assert not changed[~neighbourhood].any()


def test_fit_yields_steps_and_can_be_cancelled(noisy_64):
    _, noisy = noisy_64
    threads = torch.get_num_threads()
    gen = fit_filter2noise(noisy, iterations=500, crop=64, preview_every=2, early_stop=False)
    first, second = next(gen), next(gen)
    assert torch.get_num_threads() == threads  # its one-thread setting is not held while paused
    assert isinstance(first, Step) and (first.i, second.i, first.n) == (2, 4, 500)
    assert first.x0_hat.shape == noisy.shape and "loss" in first.info
    gen.close()  # cancel: no exception, no further work
    with pytest.raises(StopIteration):
        next(gen)
    calls = []
    assert (
        run(
            fit_filter2noise(noisy, iterations=500, crop=64),
            lambda s: calls.append(s) or len(calls) < 2,
        )
        is None
    )
    assert len(calls) == 2


def test_same_seed_same_model(noisy_64):
    _, noisy = noisy_64
    kwargs = {"iterations": 6, "crop": 32, "preview_every": 100}
    a = run(fit_filter2noise(noisy, seed=1, **kwargs)).apply(noisy)
    b = run(fit_filter2noise(noisy, seed=1, **kwargs)).apply(noisy)
    c = run(fit_filter2noise(noisy, seed=2, **kwargs)).apply(noisy)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_save_and_load_roundtrip(fitted, noisy_64, tmp_path):
    model, _ = fitted
    _, noisy = noisy_64
    weights = model.save(tmp_path / "f2n")
    assert weights.suffix == ".safetensors" and (tmp_path / "f2n.json").is_file()
    loaded = Filter2Noise.load(weights)
    np.testing.assert_array_equal(loaded.apply(noisy, sigma_r=1.5), model.apply(noisy, sigma_r=1.5))
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a saved Filter2Noise"):
        Filter2Noise.load(tmp_path / "bad.safetensors")


def test_apply_lazy_on_a_stack_with_labels_and_tiles(fitted, noisy_64):
    model, _ = fitted
    _, noisy = noisy_64
    stack = np.stack([noisy, noisy[::-1]])
    labels = np.ones((10, 12), np.int32)
    regions = {1: (2.0, 2.0, 2.0)}
    one_tile = model.apply_lazy(
        stack, labels=labels, label_offset=(30, 40), regions=regions, sigma_r=1.2
    ).compute()
    full_labels = np.zeros(noisy.shape, np.int32)
    full_labels[30:40, 40:52] = 1
    expected = model.apply(noisy[::-1], labels=full_labels, regions=regions, sigma_r=1.2)
    np.testing.assert_array_equal(one_tile[1], expected)
    tiled = model.apply_lazy(stack, tile=40).compute()
    assert tiled.shape == stack.shape and np.isfinite(tiled).all()
    assert mse(tiled[0], model.apply(noisy)) < 0.05 * mse(noisy, model.apply(noisy))


def test_apply_and_render_keep_missing_pixels_missing(fitted, noisy_64):
    model, _ = fitted
    _, noisy = noisy_64
    holed = noisy.copy()
    holed[5, 5] = np.nan
    holed[20:24, 30:40] = np.inf
    bad = ~np.isfinite(holed)
    for out in (model.apply(holed), model.apply(holed, sigma_r=1.5)):
        assert np.isnan(out[bad]).all() and np.isfinite(out[~bad]).all()
    lazy = model.apply_lazy(holed, tile=32).compute()
    assert np.isnan(lazy[bad]).all() and np.isfinite(lazy[~bad]).all()
    # far from the holes the result is nearly the same as without them (attention is global)
    far = (slice(40, None), slice(None, 20))
    span = float(np.ptp(noisy))
    np.testing.assert_allclose(model.apply(holed)[far], model.apply(noisy)[far], atol=1e-3 * span)


def test_registry_entry_and_nt_denoise(noisy_64):
    spec = DENOISERS["filter2noise"]
    assert spec.iterative and not spec.fast
    assert {"iterations", "learning_rate", "stages"} <= {p.name for p in spec.params}
    assert all(p.tooltip for p in spec.params)
    clean, noisy = noisy_64
    out = nt.denoise(noisy[None, :48, :48], "filter2noise", iterations=30, crop=32, stages=1)
    assert out.shape == (1, 48, 48) and out.dtype == np.float32
    truth = clean[:48, :48] * 1000 + 50
    assert mse(out[0], truth) < mse(noisy[:48, :48], truth)
