"""The x8 geometric self-ensemble: exact inverses, equivariant denoisers unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.prior.ensemble import dihedral, self_ensemble


@pytest.mark.parametrize("k", range(8))
def test_each_symmetry_is_undone_by_its_inverse(k):
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    moved = dihedral(x, k)
    assert not (k and moved.shape == x.shape and torch.equal(moved, x))
    torch.testing.assert_close(dihedral(moved, k, inverse=True), x)


def box_blur(x, sigma):
    return F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def shift_right(x, sigma):
    return torch.roll(x, 1, dims=-1)


def test_equivariant_denoiser_is_unchanged_and_a_biased_one_is_averaged():
    x = torch.rand(2, 1, 16, 12, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(self_ensemble(box_blur, x, 0.1), box_blur(x, 0.1))
    averaged = self_ensemble(shift_right, x, 0.1)
    # the eight shifted copies average to a blur, not to any one of them
    assert (averaged - shift_right(x, 0.1)).abs().max() > 0.1
    torch.testing.assert_close(averaged.mean(), x.mean(), atol=1e-6, rtol=0)
    torch.testing.assert_close(self_ensemble(shift_right, x, 0.1, count=1), shift_right(x, 0.1))
    with pytest.raises(ValueError, match="1..8"):
        self_ensemble(box_blur, x, 0.1, count=9)


def test_prior_method_offers_the_ensemble_and_it_denoises():
    spec = DENOISERS["prior"]
    if spec.requires() is not None:
        pytest.skip("bundled weights missing")
    rng = np.random.default_rng(0)
    clean = np.tile(np.linspace(0.2, 0.8, 40, dtype=np.float32), (40, 1))
    noisy = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
    plain = spec.func(noisy, sigma=0.1)
    ensembled = spec.func(noisy, sigma=0.1, ensemble=True)
    error = {
        name: float(np.mean((out - clean) ** 2))
        for name, out in {"noisy": noisy, "plain": plain, "x8": ensembled}.items()
    }
    assert error["x8"] < error["noisy"] / 4
    assert not np.array_equal(plain, ensembled)


def test_default_x8_prior_is_the_ensembled_network_and_restores():
    import napari_tweedie as nt
    from napari_tweedie.prior import load_prior
    from napari_tweedie.prior.select import get_prior

    if DENOISERS["prior"].requires() is not None:
        pytest.skip("bundled weights missing")
    x = torch.rand(2, 1, 16, 24, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.05, 0.2])
    network = load_prior(device="cpu")
    x8 = get_prior("default-x8", device="cpu")
    assert x8.differentiable
    torch.testing.assert_close(x8(x, sigma), self_ensemble(network, x, sigma))
    assert not torch.allclose(x8(x, sigma), network(x, sigma))
    clean = np.tile(np.linspace(0.2, 0.8, 32, dtype=np.float32), (32, 1))
    mask = np.random.default_rng(0).random(clean.shape) > 0.5
    result = nt.restore(
        clean * mask, "inpaint", mask=mask, sigma_y=0.01, prior="default-x8",
        sampler="pnp", steps=5, device="cpu",
    )  # fmt: skip
    assert np.mean((result.mean - clean) ** 2) < np.mean((clean * mask - clean) ** 2) / 10
