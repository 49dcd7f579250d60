"""Vectorial and anisotropic 3-D total variation: Chambolle's projection algorithm, n-D.

Solves ``min_u 1/2 ||u - f||^2 + weight * sum_p sqrt(sum_c sum_a (w_a d_a u_c(p))^2)``
(Rudin, Osher & Fatemi 1992) for a channel-last image ``f`` of any spatial
rank: the channels' gradients are coupled in one norm per pixel (vectorial
TV, Bresson & Chan 2008), so that an edge shared by the channels costs once,
and each axis' forward difference is weighed by ``w_a = dy / spacing_a``
(a physical gradient in Y-pixel units; ``w = 0`` uncouples the axis).

Iteration and stopping follow Chambolle (2004) as scikit-image's
``denoise_tv_chambolle`` runs it (dual step ``1 / (2 sum_a w_a^2)``, stop
when the energy changes by less than ``eps`` of the first one, at most 200
iterations), so that ``weight`` means the same on a grey isotropic volume as
on the planes, whose defaults were tuned with scikit-image.  That stopping
rule ends well before the exact ROF minimiser, which denoises worse (about
3 dB on the nuclei volume at the same weight).
"""

from __future__ import annotations

import numpy as np

__all__ = ["tv_denoise_nd"]


def tv_denoise_nd(
    image: np.ndarray,
    weight: float,
    weights: tuple[float, ...],
    *,
    max_iter: int = 200,
    eps: float = 2e-4,
) -> np.ndarray:
    """Vectorial ROF total variation denoising (Chambolle's projection) of a channel-last array.

    Parameters
    ----------
    image : ndarray, shape (*spatial, C)
        Noisy image, channels last (C = 1 for grey).
    weight : float
        TV weight in the image's units (larger: flatter).
    weights : tuple of float
        Per spatial axis, the factor on its differences (``dy / spacing``);
        axes with weight 0 are not coupled.
    max_iter : int
        Iteration cap.
    eps : float
        Stop when the energy changes by less than ``eps`` times the first energy;
        0: run ``max_iter`` iterations (a continuous function of the input).

    Returns
    -------
    ndarray, float32, same shape
    """
    f = np.asarray(image, np.float32)
    axes = [(a, float(w)) for a, w in enumerate(weights) if w > 0]
    if weight <= 0 or not axes or f.size == 0:
        return f.copy()
    tau = np.float32(1.0 / (2.0 * sum(w * w for _, w in axes)))
    dual = np.zeros((len(axes), *f.shape), np.float32)  # u = f + div(dual), |dual| <= weight
    first = previous = None
    for _ in range(int(max_iter)):
        step = _div_axes(dual, axes)
        u = f + step
        grad = _grad_axes(u, axes)
        norm = np.sqrt(np.sum(grad * grad, axis=(0, grad.ndim - 1), keepdims=True))
        if eps > 0:
            energy = float(np.sum(step * step) + weight * np.sum(norm)) / f.size
            if first is not None and abs(previous - energy) < eps * first:
                break
            first = energy if first is None else first
            previous = energy
        dual = (dual + tau * grad) / (1.0 + (tau / np.float32(weight)) * norm)
    return (f + _div_axes(dual, axes)).astype(np.float32)


def _grad_axes(u: np.ndarray, axes) -> np.ndarray:
    """Forward differences ``w (u[i+1] - u[i])`` along each ``(axis, w)``, zero at the far end."""
    out = np.zeros((len(axes), *u.shape), u.dtype)
    for k, (a, w) in enumerate(axes):
        head = [slice(None)] * u.ndim
        head[a] = slice(0, -1)
        out[(k, *head)] = w * np.diff(u, axis=a)
    return out


def _div_axes(p: np.ndarray, axes) -> np.ndarray:
    """Discrete divergence: minus the adjoint of :func:`_grad_axes`."""
    out = np.zeros(p.shape[1:], p.dtype)
    for k, (a, w) in enumerate(axes):
        pa = p[k]
        n = pa.shape[a]
        head, tail = [slice(None)] * pa.ndim, [slice(None)] * pa.ndim
        head[a], tail[a] = slice(0, n - 1), slice(1, n)
        out[tuple(tail)] -= w * pa[tuple(head)]
        out[tuple(head)] += w * pa[tuple(head)]
    return out
