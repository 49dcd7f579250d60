"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): fitting the network to one image.

:func:`fit_zs_n2n` runs either the published recipe
(:data:`~.spec.PAPER_RECIPE`: 3000 full-image Adam steps) or the fast default
recipe (:data:`~.spec.DEFAULTS`: random crops, a one-cycle learning rate, a
self-supervised early stop and a flip/rotation ensemble);
``benchmarks/README.md`` explains the choices and ``benchmarks/bench_zs_n2n.py``
measures them.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from ...devices import resolve_device
from ...prior.ensemble import dihedral
from ...steps import Step
from ..fitting import (
    Plateau,
    cosine_factor,
    one_torch_thread,
    percentile_scale,
    random_crop_origin,
    warmup_factor,
)
from .layout import check_image, crop_z, to_tensor
from .model import ZSN2NModel
from .net import ZSN2NNet, zs_n2n_losses
from .spec import DEFAULTS

__all__ = ["fit_zs_n2n"]

FINAL_LR = 0.02  # last learning-rate factor of the one-cycle schedule
EVAL_CROP = 128  # side of the fixed crop whose loss drives early stopping
EVAL_EVERY = 100


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
            return warmup_factor(i, warm)
        return cosine_factor(i - warm, max(1, self.total - warm), FINAL_LR)

    def cool_down(self, i: int, steps: int) -> int:
        """Anneal linearly from now over ``steps`` (stop at once if already low); the new end."""
        now = self.factor(i)
        self.cool_start, self.cool_steps, self.cool_from = i, max(1, steps), now
        return i if now <= 0.1 else i + steps


MIN_CROP = 8  # smaller training crops leave the 2x2-downsampled pair too small


def _crop(y: torch.Tensor, size: int, generator: torch.Generator | None) -> torch.Tensor:
    """An even-aligned ``size`` square of ``y``: random with ``generator``, else central."""
    h, w = y.shape[-2:]
    size -= size % 2
    if not MIN_CROP <= size < min(h, w):  # 0 (or a crop too small to train on): whole image
        return y
    if generator is None:
        top, left = (h - size) // 4 * 2, (w - size) // 4 * 2
    else:
        top, left = random_crop_origin((h, w), size, generator)
    return y[..., top : top + size, left : left + size]


class _Fitter:
    """One ZS-N2N fit: the network, Adam, the (normalised) image and the generator."""

    def __init__(self, y: torch.Tensor, seed: int, z_layers: int = 0, **options) -> None:
        self.y, self.options = y, options
        self.generator = torch.Generator().manual_seed(int(seed))  # CPU: the same draws anywhere
        self.net = ZSN2NNet(
            generator=self.generator, image_channels=y.shape[1], z_layers=z_layers
        ).to(y.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=options["lr"])
        if y.ndim == 5 and options["crop"]:  # volumes: about the voxels of a plane's crop
            options["crop"], self.depth = options["crop"] // 2, max(4, options["crop"] // 8)
        else:
            self.depth = 0
        self.held = crop_z(_crop(y, EVAL_CROP, None), self.depth, None)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        residual, consistent = zs_n2n_losses(self.net, batch)
        return residual + self.options["consistency"] * consistent

    def step(self, factor: float) -> float:
        """One Adam step on a random crop (randomly flipped) at ``lr * factor``; the loss."""
        o = self.options
        for group in self.optimizer.param_groups:
            group["lr"] = o["lr"] * factor
        batch = crop_z(_crop(self.y, o["crop"], self.generator), self.depth, self.generator)
        if o["augment"]:
            batch = dihedral(batch, int(torch.randint(0, 8, (1,), generator=self.generator)))
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
    device: str = "auto",
    channel_last: bool = False,
    volumetric: bool = False,
    z_layers: int = 2,
) -> Generator[Step, None, ZSN2NModel]:
    """Zero-shot Noise2Noise (Mansour & Heckel 2023): fit the tiny residual network to ``image``.

    Parameters
    ----------
    image : array, (H, W), (H, W, C), (Z, Y, X) or (Z, Y, X, C)
        The noisy image (planes of at least 4x4); a channel axis last with
        ``channel_last`` (the network then has C channels in and out: colour
        is denoised jointly), a volume with ``volumetric``.
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
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:N"`` or ``"mps"`` (:func:`napari_tweedie.devices.resolve_device`);
        the fitted model applies on the same device.
    channel_last, volumetric : bool
        The layout of ``image`` (see above).
    z_layers : int
        Volumes: how many of the two 3x3 convolutions also span 3 slices (2:
        a 3-D network, 1: 2.5-D); training crops of volumes are ``crop // 2``
        in Y and X by ``max(4, crop // 8)`` slices (the voxels of two plane
        crops).  The sub-image pair is made in-plane, so anisotropic stacks
        with few slices work as well.  Measured (``bench_volume_nets.py``,
        800 steps): 3-D beats 2.5-D by 0.8 / 0.4 dB (nuclei / blobs) for
        about 3.3x the CPU time, and only 3-D beats slice-wise BM3D on both
        volumes, so 3-D is the default.

    Returns
    -------
    ZSN2NModel
        The fitted network with its normalisation (it applies to other
        images of the same data, saves and loads), the final estimate
        (``estimate``), the losses and the steps run.
    """
    data = np.asarray(image, dtype=np.float32)
    check_image(data, channel_last, volumetric)
    offset, scale = percentile_scale(data) if normalize else (0.0, 1.0)
    y = to_tensor((data - offset) / scale, channel_last).to(resolve_device(device))
    options = dict(lr=lr, crop=crop, augment=augment, consistency=consistency)
    fitter = _Fitter(y, seed, z_layers=z_layers if volumetric else 0, **options)
    losses: list[float] = []
    model = ZSN2NModel(fitter.net, offset, scale, ensemble, losses, channel_last=channel_last)
    lr_schedule, plateau = _Schedule(schedule, iterations), Plateau(patience, tol=5e-4)
    end = iterations
    while len(losses) < end:
        with one_torch_thread():  # same bits in any thread (never held across a yield)
            losses.append(fitter.step(lr_schedule.factor(len(losses))))
        done = len(losses)
        check = patience > 0 and lr_schedule.cool_start < 0 and done % EVAL_EVERY == 0
        if check and plateau.update(done, fitter.evaluate()):
            end = min(end, lr_schedule.cool_down(done, patience))
        if done % preview_every == 0 or done == end:
            info = {"loss": losses[-1], "lr": fitter.optimizer.param_groups[0]["lr"]}
            estimate = model.apply(data, ensemble=False)
            yield Step(done, iterations, 0.0, x=data, x0_hat=estimate, info=info)
    model.iterations, model.stopped_early = len(losses), end < iterations
    model.estimate = model.apply(data)
    return model
