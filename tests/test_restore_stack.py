"""Restore on real data: defaults, whole stacks (OME-Zarr, resume), tiles, colour."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import zarr

import napari_tweedie as nt
from napari_tweedie.data import open_array
from napari_tweedie.prior.tiled import TiledPrior
from napari_tweedie.restoration import resolve_defaults
from napari_tweedie.restoration_stack import partial_path, restore_stack_steps
from napari_tweedie.steps import run


def local_prior(x, sigma):
    """A local (5x5 reach 2) Wiener-like shrinkage towards the local mean: a test prior."""
    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
    return (0.01 * x + s2 * local) / (0.01 + s2)


def smooth(shape, seed=0):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] / shape[0]
    phase = 0.7 * seed
    return (0.5 + 0.3 * np.sin(5 * xx + phase) * np.cos(4 * yy)).astype(np.float32)


@pytest.fixture
def stack():
    clean = np.stack([smooth((32, 32), k) for k in range(3)])
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, noisy.astype(np.float32)


def test_every_operator_default_is_a_point_estimate_never_one_raw_sample():
    for name, spec in nt.OPERATORS.items():
        sampler, steps, samples, params = resolve_defaults(name, None, None, None, {})
        assert sampler == spec.default_sampler and steps == spec.default_steps
        stochastic = nt.SAMPLERS[sampler].stochastic and params.get("eta", 1) > 0
        assert samples >= 4 if stochastic else samples == 1, name
    # explicit choices win; another sampler keeps the old 50 steps and one sample
    assert resolve_defaults("inpaint", "dds", None, None, {})[1:3] == (50, 1)
    assert resolve_defaults("ct", None, 7, 2, {})[1:3] == (7, 2)
    # asking for uncertainty where the default is one deterministic estimate: a sampler
    # whose samples differ (a std of zero would be no uncertainty)
    for name in nt.OPERATORS:
        sampler, _, samples, params = resolve_defaults(name, None, None, 3, {})
        assert samples == 3 and nt.SAMPLERS[sampler].stochastic and params.get("eta", 1) > 0


def test_default_restore_is_deterministic_or_reports_the_spread(stack):
    clean, noisy = stack
    # denoise: one Tweedie step, the same for any seed, better than the noise
    a = nt.restore(noisy[0], "denoise", sigma_y=0.1, prior=local_prior, seed=1)
    b = nt.restore(noisy[0], "denoise", sigma_y=0.1, prior=local_prior, seed=2)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert a.samples.shape[0] == 1 and not a.std.any()
    spread = nt.restore(noisy[0], "denoise", sigma_y=0.1, prior=local_prior, samples=2, steps=3)
    assert spread.samples.shape[0] == 2 and spread.std.max() > 0
    assert np.mean((a.mean - clean[0]) ** 2) < 0.5 * np.mean((noisy[0] - clean[0]) ** 2)
    # inpainting (PnP): deterministic
    mask = (np.random.default_rng(1).random(clean[0].shape) > 0.5).astype(np.float32)
    c = nt.restore(clean[0] * mask, "inpaint", mask=mask, prior=local_prior, steps=5, seed=3)
    d = nt.restore(clean[0] * mask, "inpaint", mask=mask, prior=local_prior, steps=5, seed=4)
    np.testing.assert_array_equal(c.mean, d.mean)
    # blur's default (DDS) is stochastic: the mean of several samples, with their std
    e = nt.restore(clean[0], "blur", sigma_blur=1.0, sigma_y=0.01, prior=local_prior, steps=4)
    assert e.samples.shape[0] == nt.OPERATORS["blur"].default_samples > 1
    np.testing.assert_allclose(e.mean, e.samples.mean(0), atol=1e-6)
    assert e.std.max() > 0


def test_whole_stack_writes_mean_and_std_and_resumes_after_a_kill(tmp_path, stack, monkeypatch):
    clean, noisy = stack
    target = tmp_path / "restored.zarr"
    settings = dict(sampler="dds", steps=3, samples=2, sigma_y=0.1, prior=local_prior)
    gen = restore_stack_steps(noisy, "denoise", target, **settings)
    seen = []
    for step in gen:  # a kill: stop during plane 1 (the second), after plane 0 was written
        seen.append(step.info["plane"])
        if step.info["plane"] == 1:
            gen.close()
            break
    assert not target.exists() and partial_path(target).exists()
    calls = []
    import napari_tweedie.restoration as restoration

    original = restoration.restore_steps
    monkeypatch.setattr(
        restoration,
        "restore_steps",
        lambda y, *a, **k: calls.append(k["seed"]) or original(y, *a, **k),
    )
    steps = []
    path = run(restore_stack_steps(noisy, "denoise", target, **settings), steps.append)
    assert path == target and not partial_path(target).exists()
    assert calls == [1, 2]  # plane 0 (seed 0) was not recomputed
    assert steps[0].i == 4 and steps[-1].i == steps[-1].n == 9  # progress counts planes done
    group = zarr.open_group(str(target), mode="r")
    mean, std = np.asarray(group["0"]), np.asarray(group["std"])
    assert mean.shape == std.shape == noisy.shape and np.isfinite(mean).all()
    assert (std > 0).all()
    assert np.mean((mean - clean) ** 2) < 0.9 * np.mean((noisy - clean) ** 2)  # 3 steps only
    # the same settings from scratch give the same planes (seeds per plane)
    again = run(restore_stack_steps(noisy, "denoise", tmp_path / "b.zarr", **settings))
    np.testing.assert_allclose(np.asarray(zarr.open_group(str(again))["0"]), mean, atol=1e-5)
    assert open_array(target).shape == noisy.shape  # OME-Zarr: the mean is what opens


def test_other_settings_do_not_resume_a_partial_store(tmp_path, stack):
    _, noisy = stack
    target = tmp_path / "r.zarr"
    gen = restore_stack_steps(noisy, "denoise", target, sigma_y=0.1, prior=local_prior)
    next(gen), gen.close()
    path = run(restore_stack_steps(noisy, "denoise", target, sigma_y=0.2, prior=local_prior))
    first = nt.restore(noisy[0], "denoise", sigma_y=0.2, prior=local_prior).mean
    np.testing.assert_allclose(np.asarray(zarr.open_group(str(path))["0"][0]), first, atol=1e-5)


def test_tiled_prior_equals_the_untiled_one_for_a_local_prior():
    x = torch.from_numpy(smooth((70, 90)))[None, None]
    x = x + 0.1 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.1])
    tiled = TiledPrior(local_prior, tile=24, overlap=4, blend=4)(x, sigma)
    torch.testing.assert_close(tiled, local_prior(x, sigma), atol=1e-5, rtol=0)
    # too little context: not exact (the test can fail)
    short = TiledPrior(local_prior, tile=24, overlap=0, blend=0)(x, sigma)
    assert float((short - local_prior(x, sigma)).abs().max()) > 1e-3


def test_tiled_whole_layer_restore_equals_untiled_for_denoising(tmp_path, stack):
    _, noisy = stack
    planes = np.stack([np.pad(p, ((0, 32), (0, 16)), mode="reflect") for p in noisy[:2]])
    settings = dict(sigma_y=0.1, prior=local_prior, sampler="pnp", steps=4)
    tiled = run(restore_stack_steps(planes, "denoise", tmp_path / "t.zarr", tile=20, overlap=8,
                                    **settings))  # fmt: skip
    whole = run(restore_stack_steps(planes, "denoise", tmp_path / "w.zarr", tile=None, **settings))
    a, b = (np.asarray(zarr.open_group(str(p))["0"]) for p in (tiled, whole))
    assert a.shape == planes.shape
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_rgb_restore_returns_the_rgb_shape_in_place_and_beats_the_noise():
    rng = np.random.default_rng(2)
    grey = smooth((32, 32))
    clean = np.stack([grey, 0.8 * grey + 0.1, 1.0 - grey], axis=0)  # channels first
    noisy = (clean + 0.1 * rng.standard_normal(clean.shape)).astype(np.float32)
    result = nt.restore(noisy, "denoise", sigma_y=0.1, prior=local_prior, channel_axis=0)
    assert result.mean.shape == result.std.shape == clean.shape
    assert result.samples.shape == (1, *clean.shape)
    assert np.mean((result.mean - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)
    # super-resolution: the RGB shape of the fine grid, channel axis last
    low = clean.transpose(1, 2, 0).reshape(16, 2, 16, 2, 3).mean(axis=(1, 3))
    fine = nt.restore(low, "superres", factor=2, prior=local_prior, steps=3, channel_axis=-1)
    assert fine.mean.shape == (32, 32, 3)


def test_cli_restore_of_a_stack_writes_mean_and_std_plane_by_plane(tmp_path, stack, capsys):
    from napari_tweedie.cli import main

    clean, noisy = stack
    source, output = tmp_path / "stack.npy", tmp_path / "out.zarr"
    np.save(source, noisy)
    argv = ["restore", str(source), str(output), "--operator", "denoise", "--set", "sigma_y=0.1"]
    assert main(argv) == 0
    assert "plane 3" in capsys.readouterr().err
    group = zarr.open_group(str(output), mode="r")
    mean, std = np.asarray(group["0"]), np.asarray(group["std"])
    assert mean.shape == std.shape == noisy.shape and not std.any()  # one Tweedie step
    assert np.mean((mean - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)
    assert main([*argv, "--std", str(tmp_path / "std.zarr")]) != 0  # the std is in the store


def test_cli_restore_of_an_rgb_image_needs_the_channel_axis(tmp_path, capsys):
    from napari_tweedie.cli import main

    rgb = np.stack([smooth((32, 32), k) for k in range(3)], axis=-1)
    source = tmp_path / "rgb.npy"
    np.save(source, rgb)
    argv = ["restore", str(source), str(tmp_path / "out.npy"), "--operator", "denoise",
            "--set", "sigma_y=0.05"]  # fmt: skip
    assert main(argv) != 0 and "--channel-axis" in capsys.readouterr().err
    assert main([*argv, "--channel-axis", "-1"]) == 0
    assert np.load(tmp_path / "out.npy").shape == rgb.shape
