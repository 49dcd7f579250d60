"""SURE's exact Jacobian-vector product (tuning/jvp.py) against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import napari_tweedie as nt  # noqa: E402
from napari_tweedie.steps import run  # noqa: E402
from napari_tweedie.tuning.jvp import denoiser_jvp, prior_jvp  # noqa: E402
from napari_tweedie.tuning.sure import risk_problem  # noqa: E402


class TinyDenoiser(torch.nn.Module):
    """A small smooth nonlinear network ``D(x, sigma)`` on (H, W) or (..., H, W) tensors."""

    def __init__(self, dtype=torch.float32):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.first = torch.nn.Conv2d(1, 4, 3, padding=1, dtype=dtype)
        self.second = torch.nn.Conv2d(4, 1, 3, padding=1, dtype=dtype)
        with torch.no_grad():
            for layer in (self.first, self.second):
                layer.weight.copy_(0.3 * torch.randn(layer.weight.shape, generator=generator))
                layer.bias.zero_()

    def forward(self, x, sigma):
        shape = x.shape
        z = x.reshape((-1, 1) + shape[-2:])
        return (z - sigma * self.second(torch.tanh(self.first(z) / sigma))).reshape(shape)


def test_jvp_of_a_tiny_network_equals_a_central_difference_in_both_modes():
    net = TinyDenoiser(torch.float64)
    x = torch.rand((2, 1, 24, 24), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    eps = 1e-5
    with torch.no_grad():
        central = (net(x + eps * v, 0.2) - net(x - eps * v, 0.2)) / (2 * eps)
        plain = net(x, 0.2)
    for mode in ("forward", "double-backward"):
        out, product = denoiser_jvp(net, x, v, 0.2, mode=mode)
        assert torch.allclose(out, plain)
        assert torch.allclose(product, central, rtol=1e-6, atol=1e-8), mode
    ensemble_out, ensemble_product = denoiser_jvp(net, x, v, 0.2, count=8)
    assert not torch.allclose(ensemble_product, central)  # the ensemble is another function
    with pytest.raises(ValueError, match="mode"):
        denoiser_jvp(net, x, v, 0.2, mode="reverse")


@pytest.fixture
def tiny_prior(monkeypatch):
    """The registered ``"prior"`` with the tiny network in place of the bundled one."""
    import napari_tweedie.prior.denoiser as module

    net = TinyDenoiser()
    monkeypatch.setattr(module, "_prior", lambda device: net)
    return net


def test_prior_jvp_over_tiles_matches_the_registry_function(tiny_prior):
    from napari_tweedie.denoisers.prior import denoise_prior

    rng = np.random.default_rng(0)
    plane = rng.random((200, 170)).astype(np.float32) * 50 + 10
    probe = rng.choice([-1.0, 1.0], plane.shape).astype(np.float32)
    out, product = prior_jvp(plane, probe, sigma=5.0, tile=128)  # 2 x 2 blended tiles
    plain = denoise_prior(plane, sigma=5.0, tile=128)
    np.testing.assert_allclose(out, plain, rtol=1e-5, atol=1e-4)
    eps = 0.05
    upper = denoise_prior(plane + eps * probe, sigma=5.0, tile=128, data_range=_range(plane))
    lower = denoise_prior(plane - eps * probe, sigma=5.0, tile=128, data_range=_range(plane))
    central = (upper.astype(np.float64) - lower) / (2 * eps)
    assert np.abs(product - central).max() < 2e-3 * np.abs(central).max()
    assert abs(np.mean(probe * product) / np.mean(probe * central) - 1) < 1e-3


def _range(plane):
    from napari_tweedie.prior.denoiser import unit_range

    return unit_range(plane)


@pytest.mark.parametrize("noise", ["gaussian", "poisson_gaussian"])
def test_sure_of_the_prior_uses_the_jvp_and_agrees_with_the_finite_difference(tiny_prior, noise):
    rng = np.random.default_rng(3)
    clean = np.clip(0.5 + 0.3 * np.sin(np.arange(96) / 7)[:, None] * np.ones(96), 0, 1)
    if noise == "gaussian":
        y, kwargs = clean + 0.1 * rng.standard_normal(clean.shape), {"sigma": 0.1}
    else:
        y = 0.01 * rng.poisson(clean / 0.01) + 0.02 * rng.standard_normal(clean.shape)
        kwargs = {"zeta": 0.01, "sigma": 0.02}
    problem = risk_problem(y, "prior", noise=noise, **kwargs)
    assert problem.differentiable and not problem.exact
    exact, out = run(problem.risk_steps())
    np.testing.assert_allclose(out, nt.denoise(y, "prior", noise=noise, **kwargs), atol=1e-5)
    fd = risk_problem(y, "prior", noise=noise, divergence="monte-carlo", **kwargs)
    assert not fd.differentiable
    finite, _ = run(fd.risk_steps())
    # same probe: the exact product and the finite difference differ by the step's error only
    assert abs(exact.mean() - finite.mean()) < 0.01 * exact.mean()


def test_batched_products_equal_one_product_per_tangent():
    from napari_tweedie.tuning.jvp import denoiser_jvps

    net = TinyDenoiser(torch.float64)
    x = torch.rand((20, 22), generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    tangents = torch.randn((3, 20, 22), generator=torch.Generator().manual_seed(5),
                           dtype=torch.float64)  # fmt: skip
    out, products = denoiser_jvps(net, x, tangents, 0.2, count=2)
    for tangent, product in zip(tangents, products):
        single_out, single = denoiser_jvp(net, x, tangent, 0.2, count=2)
        assert torch.allclose(out, single_out) and torch.allclose(product, single)


def test_sure_of_the_prior_with_lattice_probes_is_one_batched_pass(tiny_prior, monkeypatch):
    from napari_tweedie.denoisers import prior as module
    from napari_tweedie.tuning.inputs import lattice_probes

    rng = np.random.default_rng(6)
    y = (0.5 + 0.1 * rng.standard_normal((2, 48, 40))).astype(np.float32)  # two planes
    seen = []
    original = module.SPECS[0].extra["jvp"]

    def counting(image, tangent, **params):
        seen.append(np.shape(tangent))
        return original(image, tangent, **params)

    monkeypatch.setitem(nt.DENOISERS["prior"].extra, "jvp", counting)
    problem = risk_problem(y, "prior", sigma=0.1, probes=4)
    assert problem.calls == 2
    risk, out = run(problem.risk_steps())
    assert seen == [(4, 48, 40)] * 2  # one batched product per plane
    np.testing.assert_allclose(out, nt.denoise(y, "prior", sigma=0.1), atol=1e-5)
    # the same as one plain product per lattice class, summed
    from napari_tweedie.tuning.jvp import probe_product

    divergence = 0
    for probe in lattice_probes(problem.probe, 4):
        _, product = probe_product(problem, problem.params, probe[None])
        divergence = divergence + probe * product[0]
    residual = (out.astype(np.float64) - y) ** 2
    expected = residual - problem.weights + 2 * problem.weights * divergence
    np.testing.assert_allclose(risk, expected, rtol=1e-4, atol=1e-7)
