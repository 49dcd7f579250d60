"""Geometric self-ensemble of a denoiser (Timofte et al. 2016; DnCNN+/DRUNet's "x8" test mode).

A denoiser trained with rotation and flip augmentation is (nearly) equivariant
to the eight symmetries of the square.  Averaging ``T^-1 D(T x)`` over them
cancels part of the network's error at eight times the cost.  For a
Gaussian denoiser the average is still a denoiser: it is an option of the plain
``"prior"`` method, and :class:`SelfEnsemble` is the prior ``"default-x8"`` of
the inverse solvers (worth it for plug-and-play, whose 50 calls are cheap).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["SelfEnsemble", "dihedral", "self_ensemble"]


def dihedral(x: Tensor, k: int, inverse: bool = False) -> Tensor:
    """Symmetry ``k`` (0..7) of the square on the last two axes.

    ``k % 4`` quarter turns, then a left-right flip if ``k >= 4``;
    ``inverse=True`` applies the inverse symmetry.
    """
    turns, flip = k % 4, k >= 4
    if not inverse:
        x = torch.rot90(x, turns, dims=(-2, -1))
        return torch.flip(x, dims=(-1,)) if flip else x
    x = torch.flip(x, dims=(-1,)) if flip else x
    return torch.rot90(x, -turns, dims=(-2, -1))


def self_ensemble(
    denoiser: Callable[[Tensor, float], Tensor], x: Tensor, sigma: float | Tensor, count: int = 8
) -> Tensor:
    """Mean of ``T^-1 D(T x, sigma)`` over the first ``count`` symmetries of :func:`dihedral`.

    Parameters
    ----------
    denoiser : callable
        ``D(x, sigma)`` on tensors whose last two axes are Y, X (any H, W).
    x : Tensor
        The noisy image(s).
    sigma : float or Tensor
        Noise level passed to ``denoiser`` (a scalar, or one per batch item).
    count : int
        How many symmetries (1: the plain denoiser; 8: all of them).

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.
    """
    if not 1 <= count <= 8:
        raise ValueError(f"count must be in 1..8, got {count}")
    if count == 1:
        return denoiser(x, sigma).to(x.dtype)
    total = torch.zeros_like(x, dtype=torch.float32)
    for k in range(count):
        total += dihedral(denoiser(dihedral(x, k), sigma), k, inverse=True).float()
    return (total / count).to(x.dtype)


class SelfEnsemble:
    """``D(x, sigma)`` averaged over the eight symmetries of the square (see :func:`self_ensemble`).

    Differentiable when ``denoiser`` is (DPS can use it), eight times slower.
    """

    def __init__(self, denoiser: Callable[[Tensor, Tensor], Tensor], count: int = 8):
        self.denoiser, self.count = denoiser, count
        self.differentiable = getattr(denoiser, "differentiable", True)

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor:
        return self_ensemble(self.denoiser, x, sigma, self.count)
