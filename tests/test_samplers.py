"""Diffusion samplers against closed-form Gaussian posteriors, seeds and cancellation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_tweedie.operators import Identity, Inpaint, SuperResolution
from napari_tweedie.prior.gaussian import GaussianPrior
from napari_tweedie.samplers import SAMPLERS, karras_sigmas
from napari_tweedie.steps import run

MU, TAU2 = 0.5, 0.04  # prior: every pixel ~ N(MU, TAU2), independent
H = W = 8
PRIOR = GaussianPrior(MU, TAU2**0.5)  # its exact denoiser, and closed-form posteriors


@pytest.fixture(scope="module")
def superres_problem():
    g = torch.Generator().manual_seed(0)
    op = SuperResolution((H, W), 2, sigma_y=0.02)
    x0 = MU + TAU2**0.5 * torch.randn(1, 1, H, W, generator=g)
    y = op.forward(x0) + 0.02 * torch.randn(1, 1, H // 2, W // 2, generator=g)
    return op, y, *PRIOR.posterior(op, y, 0.02)


def sample(name, op, y, count=1000, steps=60, seed=1, **kwargs):
    sigmas = karras_sigmas(steps, sigma_max=5.0)
    g = torch.Generator().manual_seed(seed)
    x = sigmas[0] * torch.randn(count, 1, H, W, generator=g)
    return run(SAMPLERS[name].func(PRIOR, x, sigmas, op=op, y=y, generator=g, **kwargs))


@pytest.mark.parametrize("name", ["dps", "dds", "diffpir", "red_diff"])
def test_guided_samplers_match_the_gaussian_posterior(superres_problem, name):
    op, y, mean, std = superres_problem
    # DPS's step is a tuning knob, not part of the posterior: its default (6, chosen
    # on real images with 50 steps) overshoots on this tiny Gaussian problem.  DiffPIR's
    # default zeta (1, chosen on real images) narrows its samples; 0.3 is its calibrated one.
    settings = {"dps": {"zeta": 1.0}, "diffpir": {"zeta": 0.3}}.get(name, {})
    samples = sample(name, op, y, **settings)
    error = ((samples.mean(0)[0] - mean).abs() / std).mean()
    assert error < 0.15, f"posterior mean off by {error:.2f} posterior std"
    ratio = (samples.std(0)[0] / std).mean()
    if name == "red_diff":  # variational: a point estimate, its spread is not a posterior std
        assert ratio < 0.5
    else:
        assert 0.8 < ratio < 1.2, f"posterior std ratio {ratio:.2f}"


def test_ddim_from_the_noisy_image_samples_the_denoising_posterior():
    g = torch.Generator().manual_seed(4)
    sigma_y = 0.1
    y = MU + TAU2**0.5 * torch.randn(1, 1, H, W, generator=g)
    y = y + sigma_y * torch.randn(1, 1, H, W, generator=g)
    mean, std = PRIOR.posterior(Identity((H, W)), y, sigma_y)
    sigmas = torch.cat([torch.linspace(sigma_y, 0.0, 200)])
    out = run(SAMPLERS["ddim"].func(PRIOR, y.repeat(2000, 1, 1, 1), sigmas, eta=1.0, generator=g))
    assert ((out.mean(0)[0] - mean).abs() / std).mean() < 0.1
    assert 0.9 < (out.std(0)[0] / std).mean() < 1.1


def test_dds_with_a_large_data_weight_keeps_observed_pixels():
    g = torch.Generator().manual_seed(5)
    mask = (torch.rand(H, W, generator=g) > 0.5).numpy()
    op = Inpaint((H, W), mask)
    truth = torch.rand(1, 1, H, W, generator=g)
    y = op.forward(truth)
    out = sample("dds", op, y, count=4, gamma=1e4, cg_steps=10)
    observed = torch.from_numpy(mask).bool()
    torch.testing.assert_close(
        out[:, 0][:, observed], truth[0, 0][observed].expand(4, -1), atol=1e-3, rtol=0
    )


def test_dds_default_weighs_the_data_by_the_noise_levels():
    """gamma=None: gamma_t = sigma_t^2 / (lam sigma_y^2), so precise data are kept."""
    g = torch.Generator().manual_seed(6)
    mask = (torch.rand(H, W, generator=g) > 0.5).numpy()
    op = Inpaint((H, W), mask, sigma_y=0.001)
    truth = torch.rand(1, 1, H, W, generator=g)
    y = op.forward(truth)
    observed = torch.from_numpy(mask).bool()

    def error(out):
        return (out[:, 0][:, observed] - truth[0, 0][observed]).abs().max()

    assert error(sample("dds", op, y, count=4)) < 0.02
    assert error(sample("dds", op, y, count=4, gamma=1e-3)) > 0.05


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_same_seed_same_result_and_clean_close(superres_problem, name):
    op, y, *_ = superres_problem
    kwargs = {"op": op, "y": y} if SAMPLERS[name].data_term else {}
    a = sample_gen(name, 3, **kwargs)
    b = sample_gen(name, 3, **kwargs)
    result = run(a)
    torch.testing.assert_close(result, run(b))
    # a deterministic sampler gives every item of the batch the same estimate
    assert torch.equal(result[0], result[1]) == (not SAMPLERS[name].stochastic)
    gen = sample_gen(name, 3, **kwargs)
    step = next(gen)
    assert step.x0_hat.shape == (3, 1, H, W) and step.n == 10 and step.sigma > 0
    gen.close()  # cancelling part-way raises nothing and leaves nothing running
    with pytest.raises(StopIteration):
        next(gen)


def sample_gen(name, count, **kwargs):
    sigmas = karras_sigmas(10, sigma_max=5.0)
    g = torch.Generator().manual_seed(7)
    x = sigmas[0] * torch.randn(count, 1, H, W, generator=g)
    spec = SAMPLERS[name]
    return spec.func(PRIOR, x, sigmas, generator=g, **spec.defaults() | kwargs)


def test_karras_schedule_is_decreasing_and_ends_at_zero():
    sigmas = karras_sigmas(12, sigma_min=0.01, sigma_max=10.0)
    assert len(sigmas) == 13 and sigmas[-1] == 0
    assert np.all(np.diff(sigmas.numpy()) < 0)
    assert sigmas[0] == pytest.approx(10.0) and sigmas[-2] == pytest.approx(0.01)


def test_pnp_is_deterministic_and_reaches_the_map_of_a_gaussian_prior(superres_problem):
    op, y, mean, std = superres_problem  # Gaussian prior: the MAP is the posterior mean
    out = sample("pnp", op, y, count=2, lam=1.0, sigma_min=1e-3)
    assert torch.equal(out[0], out[1])
    error = ((out[0, 0] - mean).abs() / std).mean()
    start = ((op.adjoint(y)[0, 0] - mean).abs() / std).mean()
    assert start > 1 and error < 0.01, f"off by {error:.4f} posterior std (start {start:.2f})"
