"""Helpers shared by the methods that fit a network to the noisy data.

Early stopping (:class:`Plateau`), learning-rate schedule factors
(:func:`warmup_factor`, :func:`cosine_factor`), even-aligned random crops
(:func:`random_crop_origin`), the robust normalisation of an image to about
[0, 1] (:func:`percentile_scale`) and the zero-shot Noise2Noise pair of
half-resolution images (:func:`pair_downsample`) that ZS-N2N and
Filter2Noise train on.  The flip/rotation ensemble is
:func:`napari_tweedie.prior.ensemble.self_ensemble`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "one_torch_thread",
    "Plateau",
    "cosine_factor",
    "pair_downsample",
    "percentile_scale",
    "random_crop_origin",
    "warmup_factor",
]


@dataclass
class Plateau:
    """Early stopping: a monitored loss has not improved for ``patience`` steps.

    Attributes
    ----------
    patience : int
        Steps without improvement before :meth:`update` says stop (0: never).
    tol : float
        An improvement must lower the best loss by this fraction.
    minimum : int
        Never stop before this step.
    """

    patience: int
    tol: float
    minimum: int = 0
    best: float = math.inf
    best_step: int = 0

    def update(self, step: int, loss: float) -> bool:
        """Record the loss at ``step``; ``True`` when the fit should stop."""
        if loss < self.best * (1 - self.tol):
            self.best, self.best_step = loss, step
        stale = step - self.best_step >= self.patience
        return self.patience > 0 and step >= self.minimum and stale


def warmup_factor(done: float, length: float) -> float:
    """Learning-rate factor of a linear warm-up from 0.1 to 1 over ``length``."""
    return 0.1 + 0.9 * done / length


def cosine_factor(done: float, length: float, final: float) -> float:
    """Learning-rate factor of a cosine decay from 1 to ``final`` over ``length``."""
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * done / length))


def random_crop_origin(
    shape: tuple[int, int], size: int, generator: torch.Generator
) -> tuple[int, int]:
    """Top-left corner, at even coordinates, of a random ``size`` square inside ``shape``.

    Draws the row then the column from ``generator`` (one ``torch.randint`` each).
    """
    import torch

    top, left = (
        2 * int(torch.randint(0, (n - size) // 2 + 1, (1,), generator=generator)) for n in shape
    )
    return top, left


def percentile_scale(image: np.ndarray) -> tuple[float, float]:
    """``(offset, scale)`` mapping the image's 0.5th and 99.5th percentiles to 0 and 1.

    The min and max stand in for coinciding percentiles, and a constant image
    gets scale 1.
    """
    from ..data.scaling import percentile_range

    low, high = percentile_range(image)
    return low, (high - low) if high > low else 1.0


def pair_downsample(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-shot Noise2Noise's two downsamplers (Mansour & Heckel 2023) of ``(..., H, W)``.

    Returns ``(D1(y), D2(y))``: the means of the anti-diagonal and of the
    diagonal pixels of each 2x2 block (stride 2; odd trailing rows/columns
    are dropped), two half-resolution images with nearly independent noise.
    """
    h, w = (y.shape[-2] // 2) * 2, (y.shape[-1] // 2) * 2
    y = y[..., :h, :w]
    anti = (y[..., 0::2, 1::2] + y[..., 1::2, 0::2]) / 2
    diag = (y[..., 0::2, 0::2] + y[..., 1::2, 1::2]) / 2
    return anti, diag


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch ops on one thread (restored on exit; never hold it across a ``yield``).

    The fitted methods' tensors are small (Filter2Noise's 128 x 128 training
    crop and 12-wide patch features, zero-shot Noise2Noise's 64 x 64 crops):
    intra-op threads only add fork/join overhead, and their spinning competes
    with the numba kernels (5x slower Filter2Noise fits measured on a busy
    two-core machine with torch's default threads).  One thread also makes a
    fit independent of the machine's thread count and of how many threads a
    loaded machine grants (the split of a reduction), so results are
    reproducible bit for bit, in any thread.  With PyTorch's OpenMP backend
    (the default) the setting belongs to the calling thread: torch work in
    other threads keeps its threads.

    numba's threading layer is launched first: launching it later (the first
    AGBF kernel call of a process, inside this block) resets the OpenMP thread
    count that torch reads, so the first fit of a process ran part of an
    iteration on all threads and differed from later fits by ~2e-7.
    """
    import numba
    import torch

    numba.get_num_threads()  # launches numba's threading layer (once per process)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
