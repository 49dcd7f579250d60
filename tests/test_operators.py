"""Forward models: adjointness, proximal maps, masks, CT reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_tweedie.operators import (
    OPERATORS,
    Blur,
    CartesianMRI,
    LinearOperator,
    Radon,
    cartesian_mask,
    inner,
    make_operator,
    motion_psf,
)

SHAPE = (24, 32)
#: smaller than the defaults, to keep the dense matrices of the norm test cheap
SMALL = {"angles": 12}


def example_kwargs(spec) -> dict:
    """The spec's scalar defaults plus what it requires (a mask)."""
    kwargs = {p.name: p.default for p in spec.params if p.kind != "array"}
    kwargs = {k: SMALL.get(k, v) for k, v in kwargs.items() if v is not None or k in SMALL}
    if spec.needs_mask:
        kwargs["mask"] = np.random.default_rng(0).random(SHAPE) > 0.5
    return kwargs


def operators():
    """Every registered operator at its defaults, and variants the defaults do not reach."""
    registered = [spec.for_image(SHAPE, **example_kwargs(spec)) for spec in OPERATORS.values()]
    return registered + [
        Blur(SHAPE, motion_psf(7, 30)),
        Radon((24, 24), np.array([0.0, 10.0, 95.0])),
    ]


@pytest.mark.parametrize("op", operators(), ids=lambda op: op.name)
def test_adjointness(op):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 1, *op.image_shape, generator=g)
    ax = op.forward(x)
    y = torch.randn(ax.shape, generator=g, dtype=ax.dtype)
    lhs, rhs = inner(ax, y), inner(x, op.adjoint(y))
    torch.testing.assert_close(lhs, rhs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", operators(), ids=lambda op: op.name)
def test_norm_is_the_largest_singular_value(op):
    n = int(np.prod(op.image_shape))
    columns = [op.forward(e.view(1, 1, *op.image_shape)).flatten() for e in torch.eye(n)]
    matrix = torch.stack(columns, 1)
    matrix = torch.cat([matrix.real, matrix.imag]) if matrix.is_complex() else matrix
    exact = float(torch.linalg.matrix_norm(matrix.double(), ord=2))
    assert op.norm() == pytest.approx(exact, rel=1e-2)


@pytest.mark.parametrize(
    "op",
    [op for op in operators() if type(op).prox is not LinearOperator.prox],
    ids=lambda op: op.name,
)
def test_closed_form_prox_matches_conjugate_gradients(op):
    g = torch.Generator().manual_seed(2)
    z = torch.randn(2, 1, *op.image_shape, generator=g)
    y = op.forward(torch.randn(2, 1, *op.image_shape, generator=g))
    rho = 5.0
    fast = op.prox(z, y, rho)
    slow = LinearOperator.prox(op, z, y, rho, steps=300)
    torch.testing.assert_close(fast, slow, rtol=1e-3, atol=1e-3)


def test_cartesian_mask_acceleration_and_centre():
    mask = cartesian_mask((128, 96), acceleration=4, seed=3)
    rows = mask[:, 0]
    assert mask.shape == (128, 96) and set(np.unique(mask)) <= {0.0, 1.0}
    assert abs(rows.sum() - 128 / 4) <= 1
    assert rows[0] == 1 and rows[1] == 1 and rows[-1] == 1  # low frequencies always sampled
    np.testing.assert_array_equal(mask, cartesian_mask((128, 96), acceleration=4, seed=3))


def test_fbp_reconstructs_a_smooth_image():
    yy, xx = np.mgrid[-1:1:48j, -1:1:48j]
    image = np.exp(-4 * (xx**2 + (yy - 0.2) ** 2)).astype(np.float32)
    op = Radon((48, 48), 180)
    x = torch.from_numpy(image)[None, None]
    recon = op.baseline(op.forward(x))[0, 0].numpy()
    assert np.abs(recon - image).mean() < 0.05 * image.max()


def test_factories_infer_image_shapes_and_reject_bad_input():
    assert make_operator("superres", (16, 20), factor=4).image_shape == (64, 80)
    op = Radon((40, 40), 30)
    assert make_operator("ct", op.measurement_shape()).image_shape == (40, 40)
    with pytest.raises(ValueError, match="unknown operator"):
        make_operator("fourier", (8, 8))
    with pytest.raises(ValueError, match="mask"):
        make_operator("inpaint", (8, 8))
    with pytest.raises(ValueError, match="odd"):
        Blur((8, 8), np.ones((4, 4)))


def test_mri_noise_has_sigma_y_in_each_of_its_real_and_imaginary_parts():
    op = CartesianMRI((64, 64), acceleration=2, sigma_y=0.1)
    x = torch.zeros(4, 1, 64, 64)
    noise = op.simulate(x, torch.Generator().manual_seed(0))[op.mask.expand_as(x) > 0]
    # the samplers weigh the data by ||y - A x||^2 / (2 sigma_y^2): that needs these
    assert float(noise.real.std()) == pytest.approx(0.1, rel=0.03)
    assert float(noise.imag.std()) == pytest.approx(0.1, rel=0.03)


def test_ct_photon_noise_is_unsaturated_and_unbiased_for_a_unit_range_image():
    op = Radon((64, 64), 30, photons=1e4)
    yy, xx = np.mgrid[:64, :64] - 31.5
    disk = torch.from_numpy((np.hypot(yy, xx) < 30).astype(np.float32))[None, None]
    clean = op.forward(disk)
    noisy = op.simulate(disk.expand(8, 1, 64, 64), torch.Generator().manual_seed(0))
    counts = op.photons * torch.exp(-op.attenuation * noisy)
    assert float(counts.min()) > 50  # no detector bin starved (clipped at one count)
    bias = (noisy.mean(0) - clean[0]).abs().max() / clean.max()
    assert float(bias) < 0.02
    assert 0 < float((noisy - clean).std()) < 0.05 * float(clean.max())
