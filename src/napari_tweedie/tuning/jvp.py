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

__all__ = ["denoiser_jvp", "denoiser_jvps", "prior_jvp"]


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


def denoiser_jvps(denoiser, x, tangents, sigma, count: int = 1):
    """``(f(x), [J_f(x) t for t in tangents])``: several products in one batched pass (tensors).

    Forward-mode AD vectorised over the tangents (``torch.func.vmap``): the
    primal ``f(x)`` is evaluated once and only the tangent computation is
    batched, so ``K`` products cost far less than ``K`` calls of
    :func:`denoiser_jvp`; where an operation has no batching or forward rule,
    one :func:`denoiser_jvp` per tangent.  ``tangents``: shape ``(K,) + x.shape``.
    """
    import torch

    from ..prior.ensemble import self_ensemble

    def function(z):
        return self_ensemble(denoiser, z, sigma, count)

    def product(tangent):
        return torch.func.jvp(function, (x,), (tangent,))

    with torch.inference_mode(False), torch.enable_grad():
        try:
            out, products = torch.func.vmap(product, out_dims=(None, 0))(tangents)
            return out.detach(), products.detach()
        except (RuntimeError, NotImplementedError, ValueError):
            pass  # no batching or forward rule for an operation: one pass per tangent
    pairs = [denoiser_jvp(denoiser, x, tangent, sigma, count) for tangent in tangents]
    return pairs[0][0], torch.stack([p for _, p in pairs])


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
    image's units), or a stack of ``K`` directions (shape ``(K, H, W)``: ``K``
    products in one batched pass, :func:`denoiser_jvps`; the products then
    have that shape).  The percentile scaling is affine, so the product needs
    no rescaling: ``J tangent`` is in the image's units.
    """
    import torch

    from ..data.tiles import map_tiles
    from ..denoisers.prior import PRIOR_HALO
    from ..prior.denoiser import _prior, unit_range

    plane = np.asarray(image, dtype=np.float32)
    direction = np.asarray(tangent, dtype=np.float32)
    stacked = direction.ndim == plane.ndim + 1
    directions = direction if stacked else direction[None]
    low, high = unit_range(plane) if data_range is None else (float(v) for v in data_range)
    if not high > low or sigma <= 0:
        return plane.copy(), direction.copy()
    scale = high - low
    prior, count = _prior(str(device)), 8 if ensemble else 1
    outputs: dict[tuple[int, int], list[np.ndarray]] = {}

    def product_tile(block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        inside = tuple(
            slice(max(0, -start), min(length, size - start))
            for start, length, size in zip(origin, block.shape, plane.shape)
        )
        where = tuple(slice(o + s.start, o + s.stop) for o, s in zip(origin, inside))
        point = torch.from_numpy(np.ascontiguousarray(block[inside]))
        along = torch.from_numpy(np.ascontiguousarray(directions[(slice(None),) + where] / scale))
        if stacked:
            out, product = denoiser_jvps(prior, point, along, float(sigma) / scale, count)
        else:
            out, product = denoiser_jvp(prior, point, along[0], float(sigma) / scale, count)
            product = product[None]
        kept = [np.zeros_like(block) for _ in range(1 + len(directions))]
        for index, value in enumerate([out, *product]):
            kept[index][inside] = value.numpy()
        outputs[origin] = kept
        return kept[1]

    def stored_tile(index: int):
        def tile_of(block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
            return outputs[origin][index]

        return tile_of

    unit = (plane - low) / scale
    size, halo = max(int(tile), 4 * PRIOR_HALO), PRIOR_HALO

    def blended(function) -> np.ndarray:
        tiles = map_tiles(function, unit, size, halo, origin=True)
        return tiles.compute(scheduler="synchronous")

    first = blended(product_tile)  # computes every tile (and stores its other products)
    out = blended(stored_tile(0))
    products = [first] + [blended(stored_tile(1 + k)) for k in range(1, len(directions))]
    products = np.stack(products) if stacked else products[0]
    return (out * scale + low).astype(np.float32), (products * scale).astype(np.float32)


def probe_product(problem, params: dict, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(y), [J_f(y) b_k])`` for a :class:`.sure.RiskProblem` whose spec has ``extra["jvp"]``.

    ``probes``: shape ``(K,) + y.shape``; with ``K > 1`` the spec's ``jvp``
    gets the stack of directions of each plane (one batched pass).  Plane by
    plane as :func:`.sure.apply_planes`; under a variance-stabilising
    transform ``A`` (Gaussian-only methods on other noise),
    ``f = A^-1 o G o A`` and ``J_f b = (A^-1)'(G(A y)) J_G(A y) (A'(y) b)``,
    the pointwise slopes by central differences.
    """
    from .risk import _slope

    spec, setup = problem.spec, problem.setup
    stabilizer = setup.stabilizer if spec.gaussian_only else None
    sigma = setup.sigma if stabilizer else setup._raw_sigma()
    shape, count = problem.image.shape, len(probes)
    planes = problem.image.reshape((-1,) + shape[-2:])
    directions = probes.reshape((count,) + planes.shape)
    out = np.empty(planes.shape, np.float32)
    products = np.empty((count,) + planes.shape, np.float64)
    for index, plane in enumerate(planes):
        data, direction = plane, directions[:, index]
        if stabilizer is not None:
            data = np.asarray(stabilizer.forward(plane), np.float32)
            direction = direction * _slope(stabilizer.forward, plane, problem.epsilon)
        tangent = direction if count > 1 else direction[0]
        inner, product = spec.extra["jvp"](
            data, tangent, sigma=sigma, seed=problem.seed + index, **params
        )
        product = np.reshape(product, (count,) + plane.shape)
        if stabilizer is not None:
            step = 0.01 * stabilizer.stabilized_sigma
            product = product * _slope(stabilizer.inverse, inner, step)
            inner = stabilizer.inverse(inner)
        out[index], products[:, index] = inner, product
    return out.reshape(shape), products.reshape((count,) + shape)
