"""Filter2Noise (Sun et al. 2025) single-image self-supervised loss with Euclidean local shuffle.

From one noisy image ``y`` the loss builds the zero-shot Noise2Noise pair of
2x2, stride-2 downsamplers (Mansour & Heckel 2023)::

    D1(x) = (x[0::2, 1::2] + x[1::2, 0::2]) / 2      D2(x) = (x[0::2, 0::2] + x[1::2, 1::2]) / 2

after a Euclidean local shuffle (ELS): in each 2x2 block the two pixels
closest in value swap places, which decorrelates spatially correlated noise
between the two half-resolution images ``Di' = Di(ELS(y))`` while keeping
the block's content.  With the filter ``F`` and L1 means ``|.|``::

    L = |F(D1') - F(D2')|                                    resolution
      + (|F(D1') - D1(F(y))| + |F(D2') - D2(F(y))|) / 2      cross-scale consistency
      + |D1(F(y)) - D2(F(y))|                                denoising consistency
      + lambda |DoG(F(y)) - DoG(y)|                          edge preservation

``DoG`` is a difference of Gaussians (a band-pass that keeps edges and
removes most of the pixel noise), so the last term stops the consistency
terms from flattening structures.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from ..fitting import Plateau, one_torch_thread, pair_downsample, random_crop_origin

__all__ = ["F2NLoss", "dog", "euclidean_local_shuffle", "train"]

#: Widths of the difference-of-Gaussians edge detector, pixels.
DOG_SIGMAS = (1.0, 2.0)
#: Early stopping compares mean losses of blocks of this many iterations.
PLATEAU_BLOCK = 25


# the six pairs of a 2x2 block, flattened as (0, 0), (0, 1), (1, 0), (1, 1)
_PAIRS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def euclidean_local_shuffle(x: torch.Tensor) -> torch.Tensor:
    """Euclidean local shuffle: swap the two closest-valued pixels of every 2x2 block.

    Parameters
    ----------
    x : Tensor, shape (H, W) or (C, H, W)
        Image with even ``H`` and ``W``; with channels, pixels are compared by
        the Euclidean distance of their colours and swapped in all channels.

    Returns
    -------
    Tensor, the shape of ``x``
        The shuffled image (ties go to the first pair in raster order).
    """
    if x.ndim == 2:
        return euclidean_local_shuffle(x[None])[0]
    channels, height, width = x.shape
    blocks = (
        x.reshape(channels, height // 2, 2, width // 2, 2)
        .permute(0, 1, 3, 2, 4)
        .reshape(channels, -1, 4)
    )
    first = torch.tensor([p for p, _ in _PAIRS], device=x.device)
    second = torch.tensor([q for _, q in _PAIRS], device=x.device)
    difference = blocks[:, :, first] - blocks[:, :, second]
    distance = difference.abs()[0] if channels == 1 else difference.square().sum(0)
    best = distance.argmin(dim=1)
    rows = torch.arange(blocks.shape[1], device=x.device)
    p, q = first[best], second[best]
    shuffled = blocks.clone()
    shuffled[:, rows, p] = blocks[:, rows, q]
    shuffled[:, rows, q] = blocks[:, rows, p]
    return (
        shuffled.reshape(channels, height // 2, width // 2, 2, 2)
        .permute(0, 1, 3, 2, 4)
        .reshape(channels, height, width)
    )


@functools.lru_cache(maxsize=32)
def _dog_matrix(n: int, sigmas: tuple[float, float]) -> torch.Tensor:
    """(2, n, n) matrices of the two 1-D Gaussian blurs, reflected borders (no edge repeat)."""
    mats = []
    for sigma in sigmas:
        half = max(1, math.ceil(3 * sigma))
        taps = torch.arange(-half, half + 1, dtype=torch.float64)
        kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
        kernel /= kernel.sum()
        m = torch.zeros(n, n, dtype=torch.float64)
        for i in range(n):
            for t, k in zip(range(i - half, i + half + 1), kernel):
                j = abs(t) % (2 * n - 2) if n > 1 else 0
                m[i, 2 * n - 2 - j if j >= n else j] += k
        mats.append(m)
    return torch.stack(mats).float()


def dog(x: torch.Tensor, sigmas: tuple[float, float] = DOG_SIGMAS) -> torch.Tensor:
    """Difference of Gaussians ``G(s1) * x - G(s2) * x`` of (..., H, W), reflected borders."""
    rows = _dog_matrix(x.shape[-2], tuple(sigmas)).to(x.device)
    cols = _dog_matrix(x.shape[-1], tuple(sigmas)).to(x.device)
    narrow = rows[0] @ x @ cols[0].T
    wide = rows[1] @ x @ cols[1].T
    return narrow - wide


class F2NLoss:
    """The Filter2Noise loss of one (normalised) noisy image; see the module docstring.

    Parameters
    ----------
    image : Tensor, shape (H, W) or (C, H, W)
        Noisy image, even sides, roughly on [0, 1]; a colour image is
        filtered as (B, C, H, W) batches.
    edge_weight : float
        ``lambda`` of the edge-preservation term.
    """

    def __init__(self, image: torch.Tensor, edge_weight: float):
        self.image = image
        self.edge_weight = float(edge_weight)
        shuffled = euclidean_local_shuffle(image)
        self.halves = torch.stack(pair_downsample(shuffled))
        self.edges = dog(image[None])

    def crop(self, top: int, left: int, size: int) -> F2NLoss:
        """The loss of a ``size x size`` crop at an even ``(top, left)`` (shares the shuffle)."""
        crop = object.__new__(F2NLoss)
        crop.edge_weight = self.edge_weight
        crop.image = self.image[..., top : top + size, left : left + size]
        half = (top // 2, left // 2, size // 2)
        crop.halves = self.halves[..., half[0] : half[0] + half[2], half[1] : half[1] + half[2]]
        crop.edges = dog(crop.image[None])
        return crop

    def __call__(
        self, filt: Callable[[torch.Tensor], torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
        """Loss of the filter ``filt`` ((B, H, W) -> (B, H, W)); returns (loss, terms, F(y))."""
        fy = filt(self.image[None])
        f1, f2 = filt(self.halves)
        d1, d2 = pair_downsample(fy[0])
        terms = {
            "resolution": (f1 - f2).abs().mean(),
            "cross": 0.5 * ((f1 - d1).abs().mean() + (f2 - d2).abs().mean()),
            "denoise": (d1 - d2).abs().mean(),
            "edge": self.edge_weight * (dog(fy) - self.edges).abs().mean(),
        }
        loss = sum(terms.values())
        return loss, {k: float(v.detach()) for k, v in terms.items()}, fy[0]


def train(
    net: torch.nn.Module,
    image: torch.Tensor,
    *,
    iterations: int,
    learning_rate: float,
    edge_weight: float,
    crop: int | None,
    generator: torch.Generator,
    early_stop: bool = True,
) -> Iterator[tuple[int, float, dict[str, float], bool]]:
    """Optimise ``net`` (``x -> (F(x), maps)``) on the Filter2Noise loss of ``image``.

    AdamW (weight decay 1e-4) with a one-cycle schedule peaking at
    ``learning_rate``; each iteration uses a random ``crop x crop`` window at
    even coordinates (the whole image if ``crop`` is None or larger).
    Yields ``(iteration, loss, terms, last)`` after every step.
    """
    loss_fn = F2NLoss(image, edge_weight)
    plane = image.shape[-2:]
    size = min(int(crop) // 2 * 2, *plane) if crop else min(plane)
    optimiser = torch.optim.AdamW(net.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=learning_rate, total_steps=max(iterations, 2)
    )
    # the mean loss of blocks of 25 iterations, which must improve by 0.1 % within 3 blocks
    stopper = Plateau(patience=3 * PLATEAU_BLOCK, tol=1e-3, minimum=max(iterations // 4, 50))
    losses: list[float] = []
    net.train()
    for i in range(1, iterations + 1):
        with one_torch_thread():
            top, left = random_crop_origin(plane, size, generator)
            loss, terms, _ = loss_fn.crop(top, left, size)(lambda x: net(x)[0])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        value = float(loss.detach())
        losses.append(value)
        block_end = early_stop and i % PLATEAU_BLOCK == 0
        last = (block_end and stopper.update(i, float(np.mean(losses[-PLATEAU_BLOCK:])))) or (
            i == iterations
        )
        yield i, value, terms, last
        if last:
            return
