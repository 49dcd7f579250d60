"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): a tiny network fitted to one image.

The noisy image ``y`` is split by two fixed 2x2, stride-2 diagonal averaging
filters into ``D1(y)`` (mean of the anti-diagonal pixels) and ``D2(y)`` (mean
of the diagonal pixels): two half-resolution images of the same scene with
nearly independent noise.  A residual network ``f`` (predicting the noise) is
trained on them with

- the residual loss ``1/2 (|D1 - f(D1) - D2|^2 + |D2 - f(D2) - D1|^2)``
  (Noise2Noise between the pair, in both directions) and
- the consistency loss ``1/2 (|D1 - f(D1) - D1(y - f(y))|^2 + (same for D2))``,

and the estimate is ``y - f(y)``.  The published recipe (:data:`PAPER_RECIPE`)
runs 3000 full-image Adam steps.  The fast default recipe (:data:`DEFAULTS`)
gets the same quality in about a tenth of the time or less on a CPU (see
``benchmarks/bench_zs_n2n.py``), because

- each step trains on a random 64x64 crop (16x cheaper than a 256x256 image;
  the network sees only 5x5 pixels, so crops lose little but a border),
  and many cheap noisy steps beat few exact ones: 3000 crop steps cost about
  6 % of the paper's 3000 full-image steps on a 256x256 image, and the cost
  does not grow with the image;
- a one-cycle schedule (warm-up, cosine decay) at a peak learning rate of
  8e-3 instead of a step schedule at 1e-3;
- the final estimate averages the 8 flips/rotations of the image (8 cheap
  forward passes; about +0.2 dB);
- random flips of the training crops are off by default: they cost about
  0.3 dB on Set12 (the tiny network then has to be rotation-invariant).

A self-supervised early stop (``patience``) watches the loss on a fixed
crop and anneals the learning rate when it stalls; it never looks at a clean
image.  ``channels_last`` was slower on a CPU; ``torch.compile`` was not
tried (its start-up takes about as long as a whole fit).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..steps import Step
from .registry import DenoiserSpec, Param, register

__all__ = [
    "PAPER_RECIPE",
    "ZSN2NFit",
    "ZSN2NNet",
    "denoise_zs_n2n",
    "fit_zs_n2n",
    "pair_downsample",
    "zs_n2n_losses",
]

#: Defaults of the fast recipe (see the module docstring and the benchmark).
DEFAULTS = dict(iterations=3000, lr=8e-3, crop=64, augment=False, patience=500, ensemble=True)
FINAL_LR = 0.02  # last learning-rate factor of the one-cycle schedule
EVAL_CROP = 128  # side of the fixed crop whose loss drives early stopping
EVAL_EVERY = 100

#: The published recipe (Mansour & Heckel 2023, official notebook): full image,
#: 3000 Adam steps at lr 1e-3, halved after 1500 steps; no normalisation.
PAPER_RECIPE = dict(
    iterations=3000,
    lr=1e-3,
    schedule="step",
    crop=0,
    augment=False,
    patience=0,
    ensemble=False,
    normalize=False,
)


class ZSN2NNet(nn.Module):
    """The ZS-N2N network (Mansour & Heckel 2023): conv3x3-LReLU-conv3x3-LReLU-conv1x1.

    It predicts the noise; the denoised image is ``y - net(y)``.  Weights are
    drawn from ``generator`` with PyTorch's default convolution initialisation.
    """

    def __init__(self, channels: int = 48, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv3 = nn.Conv2d(channels, 1, 1)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2, self.conv3):
                fan_in = conv.weight[0].numel()
                nn.init.kaiming_uniform_(conv.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(conv.bias, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        return self.conv3(x)


def pair_downsample(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ZS-N2N's two fixed downsamplers (2x2 diagonal averages, stride 2) of ``(..., H, W)``.

    Returns ``(D1(y), D2(y))``: the means of the anti-diagonal and of the
    diagonal pixels of each 2x2 block (odd trailing rows/columns are dropped).
    """
    h, w = (y.shape[-2] // 2) * 2, (y.shape[-1] // 2) * 2
    y = y[..., :h, :w]
    anti = (y[..., 0::2, 1::2] + y[..., 1::2, 0::2]) / 2
    diag = (y[..., 0::2, 0::2] + y[..., 1::2, 1::2]) / 2
    return anti, diag


def zs_n2n_losses(net: nn.Module, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual and consistency losses of ZS-N2N (Mansour & Heckel 2023) on ``(N, 1, H, W)``.

    Both sub-images go through the network in one batch.
    """
    d1, d2 = pair_downsample(y)
    pair = torch.cat([d1, d2])
    denoised = pair - net(pair)
    p1, p2 = denoised.chunk(2)
    residual = (F.mse_loss(p1, d2) + F.mse_loss(p2, d1)) / 2
    e1, e2 = pair_downsample(y - net(y))
    consistency = (F.mse_loss(p1, e1) + F.mse_loss(p2, e2)) / 2
    return residual, consistency


@dataclass
class ZSN2NFit:
    """Result of :func:`fit_zs_n2n`: the fitted network, the estimate and the loss history."""

    net: ZSN2NNet
    estimate: np.ndarray
    losses: list[float] = field(default_factory=list)
    iterations: int = 0
    stopped_early: bool = False


@dataclass
class _Schedule:
    """Learning-rate multiplier per step: ``onecycle`` or ``step``, with an early cool-down."""

    kind: str
    total: int
    cool_start: int = -1
    cool_steps: int = 1
    cool_from: float = 1.0

    def factor(self, i: int) -> float:
        if self.cool_start >= 0:
            t = min(1.0, (i - self.cool_start) / self.cool_steps)
            return self.cool_from + (FINAL_LR - self.cool_from) * t
        if self.kind == "step":
            return 0.5 ** (i // 1500)
        if self.kind != "onecycle":
            raise ValueError(f"unknown schedule {self.kind!r}; expected 'onecycle' or 'step'")
        warm = max(1, self.total // 10)
        if i < warm:
            return 0.1 + 0.9 * i / warm
        phase = math.pi * (i - warm) / max(1, self.total - warm)
        return FINAL_LR + (1 - FINAL_LR) * 0.5 * (1 + math.cos(phase))

    def cool_down(self, i: int, steps: int) -> int:
        """Anneal linearly from now over ``steps`` (stop at once if already low); the new end."""
        now = self.factor(i)
        self.cool_start, self.cool_steps, self.cool_from = i, max(1, steps), now
        return i if now <= 0.1 else i + steps


@dataclass
class _Plateau:
    """Self-supervised stop: the held-crop loss has not improved by ``rel_tol`` for a while."""

    patience: int
    rel_tol: float = 5e-4
    best: float = math.inf
    best_step: int = 0

    def update(self, step: int, loss: float) -> bool:
        if loss < self.best * (1 - self.rel_tol):
            self.best, self.best_step = loss, step
        return self.patience > 0 and step - self.best_step >= self.patience


def _dihedral(y: torch.Tensor, k: int, inverse: bool = False) -> torch.Tensor:
    """The ``k``-th of the 8 flips/rotations of ``(..., H, W)`` (or its inverse)."""
    if inverse:
        y = y.flip(-1) if k >= 4 else y
        return torch.rot90(y, -(k % 4), dims=(-2, -1))
    y = torch.rot90(y, k % 4, dims=(-2, -1))
    return y.flip(-1) if k >= 4 else y


def _crop(y: torch.Tensor, size: int, generator: torch.Generator | None) -> torch.Tensor:
    """An even-aligned ``size`` square of ``y``: random with ``generator``, else central."""
    h, w = y.shape[-2:]
    if not 0 < size < min(h, w):
        return y
    size -= size % 2
    if generator is None:
        top, left = (h - size) // 4 * 2, (w - size) // 4 * 2
    else:
        top = 2 * int(torch.randint(0, (h - size) // 2 + 1, (1,), generator=generator))
        left = 2 * int(torch.randint(0, (w - size) // 2 + 1, (1,), generator=generator))
    return y[..., top : top + size, left : left + size]


def _scale(image: np.ndarray, normalize: bool) -> tuple[float, float]:
    """Offset and scale mapping the image's 0.5 and 99.5 percentiles to 0 and 1."""
    if not normalize:
        return 0.0, 1.0
    low, high = np.percentile(image, [0.5, 99.5])
    return float(low), float(high - low) if high > low else 1.0


@torch.no_grad()
def _estimate(net: nn.Module, y: torch.Tensor, ensemble: bool = False) -> torch.Tensor:
    """``y - f(y)``, averaged over the 8 flips/rotations when ``ensemble``."""
    if not ensemble:
        return y - net(y)
    total = torch.zeros_like(y)
    for k in range(8):
        view = _dihedral(y, k)
        total += _dihedral(view - net(view), k, inverse=True)
    return total / 8


class _Fitter:
    """One ZS-N2N fit: the network, Adam, the (normalised) image and the generator."""

    def __init__(self, y: torch.Tensor, seed: int, **options) -> None:
        self.y, self.options = y, options
        self.generator = torch.Generator().manual_seed(int(seed))
        self.net = ZSN2NNet(generator=self.generator)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=options["lr"])
        self.held = _crop(y, EVAL_CROP, None)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        residual, consistent = zs_n2n_losses(self.net, batch)
        return residual + self.options["consistency"] * consistent

    def step(self, factor: float) -> float:
        """One Adam step on a random crop (randomly flipped) at ``lr * factor``; the loss."""
        o = self.options
        for group in self.optimizer.param_groups:
            group["lr"] = o["lr"] * factor
        batch = _crop(self.y, o["crop"], self.generator)
        if o["augment"]:
            batch = _dihedral(batch, int(torch.randint(0, 8, (1,), generator=self.generator)))
        loss = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    @torch.no_grad()
    def evaluate(self) -> float:
        """The loss on a fixed central crop: a noise-free signal for early stopping."""
        return float(self.loss(self.held))


def fit_zs_n2n(
    image: np.ndarray,
    *,
    iterations: int = DEFAULTS["iterations"],
    lr: float = DEFAULTS["lr"],
    schedule: str = "onecycle",
    crop: int = DEFAULTS["crop"],
    augment: bool = DEFAULTS["augment"],
    patience: int = DEFAULTS["patience"],
    consistency: float = 1.0,
    ensemble: bool = DEFAULTS["ensemble"],
    normalize: bool = True,
    preview_every: int = 50,
    seed: int = 0,
) -> Generator[Step, None, ZSN2NFit]:
    """Zero-shot Noise2Noise (Mansour & Heckel 2023): fit the tiny residual network to ``image``.

    Parameters
    ----------
    image : (H, W) array
        The noisy image (at least 4x4).
    iterations, lr : int, float
        Maximum number of Adam steps; peak learning rate.
    schedule : {"onecycle", "step"}
        Warm-up over the first tenth then cosine decay to 2 % of ``lr``; or
        the paper's halving after 1500 steps.
    crop : int
        Side of the random square crop each step trains on; 0: the whole image.
    augment : bool
        Random flips/rotations of each crop.
    patience : int
        Self-supervised early stop: every 100 steps the loss is evaluated on a
        fixed central crop (up to 128x128); when it has not improved by 0.05 %
        for ``patience`` steps, the learning rate is annealed to its final
        value over ``patience`` more steps and the fit ends.  0: never.
    consistency : float
        Weight of the consistency loss.
    ensemble : bool
        Average the final estimate over the 8 flips/rotations of the image.
    normalize : bool
        Fit on ``(image - p0.5) / (p99.5 - p0.5)`` (independent of units).
    preview_every : int
        Yield a :class:`~napari_tweedie.steps.Step` every this many steps and
        at the end: ``x0_hat`` the current estimate ``image - f(image)``
        (float32, the image's units), ``info={"loss": ..., "lr": ...}``.
    seed : int
        Seeds the weights and the crops (a ``torch.Generator``).

    Returns
    -------
    ZSN2NFit
        The network, the final estimate, the losses and the steps run.
    """
    data = np.asarray(image, dtype=np.float32)
    if data.ndim != 2 or min(data.shape) < 4:
        raise ValueError(f"expected a 2-D image of at least 4x4 pixels, got shape {data.shape}")
    offset, scale = _scale(data, normalize)
    y = torch.from_numpy((data - offset) / scale)[None, None]
    fitter = _Fitter(y, seed, lr=lr, crop=crop, augment=augment, consistency=consistency)

    def output(final: bool = False) -> np.ndarray:
        estimate = _estimate(fitter.net, y, ensemble and final)[0, 0].numpy()
        return (estimate * scale + offset).astype(np.float32)

    lr_schedule, plateau = _Schedule(schedule, iterations), _Plateau(patience)
    losses: list[float] = []
    end = iterations
    while len(losses) < end:
        losses.append(fitter.step(lr_schedule.factor(len(losses))))
        done = len(losses)
        check = patience > 0 and lr_schedule.cool_start < 0 and done % EVAL_EVERY == 0
        if check and plateau.update(done, fitter.evaluate()):
            end = min(end, lr_schedule.cool_down(done, patience))
        if done % preview_every == 0 or done == end:
            info = {"loss": losses[-1], "lr": fitter.optimizer.param_groups[0]["lr"]}
            yield Step(done, iterations, 0.0, x=data, x0_hat=output(), info=info)
    return ZSN2NFit(fitter.net, output(final=True), losses, len(losses), end < iterations)


def denoise_zs_n2n(image: np.ndarray, *, sigma: float, seed: int = 0, **params):
    """Zero-shot Noise2Noise (Mansour & Heckel 2023) as a registry method (generator).

    ``sigma`` is not needed by the method and is ignored.
    """
    fit = yield from fit_zs_n2n(image, seed=seed, **params)
    return fit.estimate


_INT = dict(kind="int", min=0, max=100000)
_STEPS = dict(kind="int", min=1, max=100000, step=100)
register(
    DenoiserSpec(
        name="zs_n2n",
        func=denoise_zs_n2n,
        params=(
            Param("iterations", DEFAULTS["iterations"], "Max Adam steps (paper: 3000).", **_STEPS),
            Param("lr", DEFAULTS["lr"], "Peak learning rate (paper: 0.001).", min=1e-5, max=0.1),
            Param(
                "schedule",
                "onecycle",
                "Learning-rate schedule: onecycle (warm-up, cosine decay) or step (paper).",
                "choice",
                choices=("onecycle", "step"),
            ),
            Param("crop", DEFAULTS["crop"], "Random crop side per step; 0: whole image.", **_INT),
            Param("augment", DEFAULTS["augment"], "Random flips/rotations of the crops.", "bool"),
            Param(
                "patience",
                DEFAULTS["patience"],
                "Self-supervised early stop: steps without improvement of the loss on a fixed "
                "crop before annealing and stopping (0: run all steps).",
                **_INT,
            ),
            Param("consistency", 1.0, "Weight of the consistency loss.", min=0.0, max=10.0),
            Param("ensemble", DEFAULTS["ensemble"], "Average over 8 flips/rotations.", "bool"),
        ),
        summary="Zero-shot Noise2Noise (Mansour & Heckel 2023): tiny network fitted to the image.",
        fast=False,
        iterative=True,
    )
)
