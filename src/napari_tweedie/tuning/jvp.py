"""Exact Jacobian-vector products of a differentiable denoiser, for SURE's divergence.

The Monte-Carlo divergence of Ramani, Blu & Unser (2008) needs ``b^T J b``
for a probe ``b``; a finite difference ``b^T (f(y + eps b) - f(y)) / eps``
adds a truncation error (large ``eps``) or float32 round-off (small ``eps``)
on top of the probe's own scatter.  For a network, forward-mode automatic
differentiation (``torch.func.jvp``; the double-backward trick where an
operation lacks a forward rule, Pearlmutter 1994) gives ``J b`` exactly,
with ``f(y)``, at about twice the cost of one forward pass: what the two
calls of a finite difference cost.

:func:`denoiser_jvp` is the tensor-level product; :func:`prior_jvp` is the
bundled prior's registry function (``"prior"``) with its tangent: the same
percentile scaling, tiles and blending as
:func:`napari_tweedie.prior.denoiser.denoise_prior`, each tile's product
blended like its output (blending is linear).
"""

from __future__ import annotations

import numpy as np

__all__ = ["denoiser_jvp", "prior_jvp"]


def denoiser_jvp(denoiser, x, tangent, sigma, count: int = 1, mode: str = "forward"):
    """``(f(x), J_f(x) tangent)`` for ``f = self_ensemble(denoiser, ., sigma, count)`` (tensors).

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` on torch tensors (last two axes Y, X).
    x, tangent : torch.Tensor
        Point and direction, same shape.
    sigma : float
        Noise level passed to ``denoiser``.
    count : int
        Symmetries averaged (:func:`napari_tweedie.prior.ensemble.self_ensemble`).
    mode : str
        ``"forward"`` (forward-mode AD, falling back to the double-backward
        trick if an operation has no forward rule) or ``"double-backward"``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        The output and its directional derivative, detached.
    """
    import torch

    from ..prior.ensemble import self_ensemble

    def function(z):
        return self_ensemble(denoiser, z, sigma, count)

    if mode not in ("forward", "double-backward"):
        raise ValueError(f"mode must be 'forward' or 'double-backward', got {mode!r}")
    with torch.inference_mode(False), torch.enable_grad():
        if mode == "forward":
            try:
                out, product = torch.func.jvp(function, (x,), (tangent,))
                return out.detach(), product.detach()
            except (RuntimeError, NotImplementedError):
                pass  # an operation without a forward-mode rule
        point = x.detach().clone().requires_grad_(True)
        out = function(point)
        dual = torch.zeros_like(out, requires_grad=True)
        (pullback,) = torch.autograd.grad(out, point, dual, create_graph=True)
        (product,) = torch.autograd.grad(pullback, dual, tangent)
        return out.detach(), product.detach()


def prior_jvp(
    image: np.ndarray,
    tangent: np.ndarray,
    *,
    sigma: float,
    seed: int = 0,
    tile: int = 512,
    ensemble: bool = False,
    device: str = "auto",
    data_range: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The bundled prior's output on a plane and its Jacobian applied to ``tangent`` (float32).

    Same arguments as :func:`napari_tweedie.denoisers.prior.denoise_prior`
    (``seed`` unused), plus the direction ``tangent`` (the plane's shape, the
    image's units).  The percentile scaling is affine, so the product needs
    no rescaling: ``J tangent`` is in the image's units.
    """
    import torch

    from ..data.tiles import map_tiles
    from ..denoisers.prior import PRIOR_HALO
    from ..prior.denoiser import _prior, unit_range

    plane = np.asarray(image, dtype=np.float32)
    direction = np.asarray(tangent, dtype=np.float32)
    low, high = unit_range(plane) if data_range is None else (float(v) for v in data_range)
    if not high > low or sigma <= 0:
        return plane.copy(), direction.copy()
    scale = high - low
    prior, count = _prior(str(device)), 8 if ensemble else 1
    outputs: dict[tuple[int, int], np.ndarray] = {}

    def product_tile(block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        inside = tuple(
            slice(max(0, -start), min(length, size - start))
            for start, length, size in zip(origin, block.shape, plane.shape)
        )
        where = tuple(slice(o + s.start, o + s.stop) for o, s in zip(origin, inside))
        point = torch.from_numpy(np.ascontiguousarray(block[inside]))
        along = torch.from_numpy(np.ascontiguousarray(direction[where] / scale))
        out, product = denoiser_jvp(prior, point, along, float(sigma) / scale, count)
        result, kept = np.zeros_like(block), np.zeros_like(block)
        result[inside], kept[inside] = product.numpy(), out.numpy()
        outputs[origin] = kept
        return result

    def output_tile(block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        return outputs[origin]

    unit = (plane - low) / scale
    size, halo = max(int(tile), 4 * PRIOR_HALO), PRIOR_HALO
    products = map_tiles(product_tile, unit, size, halo, origin=True).compute(
        scheduler="synchronous"
    )
    out = map_tiles(output_tile, unit, size, halo, origin=True).compute(scheduler="synchronous")
    return (out * scale + low).astype(np.float32), (products * scale).astype(np.float32)


def probe_product(problem, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(f(y), J_f(y) b)`` for a :class:`.sure.RiskProblem` whose spec has ``extra["jvp"]``.

    Plane by plane as :func:`.sure.apply_planes`; under a variance-stabilising
    transform ``A`` (Gaussian-only methods on other noise),
    ``f = A^-1 o G o A`` and ``J_f b = (A^-1)'(G(A y)) J_G(A y) (A'(y) b)``,
    the pointwise slopes by central differences.
    """
    from .sure import _slope

    spec, setup = problem.spec, problem.setup
    stabilizer = setup.stabilizer if spec.gaussian_only else None
    sigma = setup.sigma if stabilizer else setup._raw_sigma()
    shape = problem.image.shape
    planes = problem.image.reshape((-1,) + shape[-2:])
    probes = problem.probe.reshape(planes.shape)
    out = np.empty(planes.shape, np.float32)
    products = np.empty(planes.shape, np.float64)
    for index, (plane, probe) in enumerate(zip(planes, probes)):
        data, direction = plane, probe
        if stabilizer is not None:
            data = np.asarray(stabilizer.forward(plane), np.float32)
            direction = probe * _slope(stabilizer.forward, plane, problem.epsilon)
        inner, product = spec.extra["jvp"](
            data, direction, sigma=sigma, seed=problem.seed + index, **params
        )
        if stabilizer is not None:
            step = 0.01 * stabilizer.stabilized_sigma
            product = product * _slope(stabilizer.inverse, inner, step)
            inner = stabilizer.inverse(inner)
        out[index], products[index] = inner, product
    return out.reshape(shape), products.reshape(shape)
