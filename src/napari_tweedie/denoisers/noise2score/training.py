"""Noise2Score (Kim & Ye, NeurIPS 2021) training: the AR-DAE loss, its sigma_a schedule, Adam + EMA.

AR-DAE (amortised residual denoising autoencoder, Lim et al. 2020) learns the
score of the noisy data ``y`` without clean images: with ``u ~ N(0, I)``,

    L = E || u + sigma_a s(y + sigma_a u; sigma_a) ||^2     (mean over pixels)

is minimised by the score of ``y`` smoothed by ``N(0, sigma_a^2)``, which
tends to the score of ``y`` as ``sigma_a -> 0``.  The loss is applied in the
score network's coordinates ``v = g(y)`` (:mod:`.coords`: ``y`` itself
for Gaussian noise, a variance-stabilised ``y`` for Poisson and Gamma noise);
the data's score follows exactly by the change of variables.  There the noise
is about the same everywhere, so one ``sigma_a`` range suits every pixel (in
raw Poisson/Gamma units a ``sigma_a`` small for bright pixels swamps dark ones).

Why this weighting and schedule.  Writing ``s = (D - z) / tau^2`` (see
:mod:`.model`), ``L = (sigma_a^2 / tau^4) E|D(z, tau) - t|^2 + const``
with the regression target ``t = y - (sigma_eff^2 / sigma_a) u``: a
Noise2Noise-like target whose noise variance grows like
``sigma_eff^4 / sigma_a^2`` as ``sigma_a`` shrinks.  The AR-DAE factor
``sigma_a^2 / tau^4`` is then (up to ``tau^4 ~ sigma_eff^4``) the
inverse-variance weight, so mixing levels in one batch is sound: small levels
cannot swamp the gradient with noise.  Because the network is conditioned on
``tau``, it does not need ``sigma_a -> 0`` to be unbiased at ``sigma_a = 0``
(where it is evaluated); it learns the noisy data's score at every level.
So each batch item draws ``sigma_a`` log-uniformly between a floor and
``sigma_max``; the floor is annealed geometrically from ``sigma_max`` to
``sigma_min`` over the first 80 % of training (the paper anneals one
``sigma_a`` linearly from 0.05 to 0.001 on data in [0, 1], i.e. about
``0.5`` to ``0.01`` times ``sigma`` for sigma = 25/255).  Levels are given as
fractions of the noise level in the coordinates (``sigma_eff`` for Gaussian
noise).

The returned weights are an exponential moving average (decay ``ema``, with
the usual ``(1 + t) / (10 + t)`` warm-up), which damps the remaining gradient
noise; the learning rate warms up over 5 % of the steps and decays as a
cosine to 10 %.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch

from ..fitting import cosine_factor, warmup_factor
from .data import PatchSource
from .net import ScoreNet

__all__ = ["Schedule", "Trainer", "ar_dae_loss"]

ANNEAL_FRACTION = 0.8
WARMUP_FRACTION = 0.05
FINAL_LR = 0.1


def ar_dae_loss(net: ScoreNet, v: torch.Tensor, u: torch.Tensor, sigma_a: torch.Tensor):
    """Noise2Score AR-DAE loss ``mean |u + sigma_a s_v(v + sigma_a u; sigma_a)|^2``."""
    level = sigma_a[:, None, None, None]
    s = net.score_v(v + level * u, sigma_a)
    return torch.mean((u + level * s) ** 2)


@dataclass(frozen=True)
class Schedule:
    """Noise2Score AR-DAE schedule: sigma_a levels and learning-rate factor at progress ``p``.

    ``sigma_max``, ``sigma_min`` are absolute levels (scaled data units).
    """

    sigma_max: float
    sigma_min: float

    def floor(self, p: float) -> float:
        """The annealed lower end of the sigma_a range."""
        t = min(1.0, max(0.0, p) / ANNEAL_FRACTION)
        return self.sigma_max * (self.sigma_min / self.sigma_max) ** t

    def sample(self, p: float, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` levels, log-uniform on ``[floor(p), sigma_max]``."""
        low, high = math.log(self.floor(p)), math.log(self.sigma_max)
        return torch.exp(low + (high - low) * torch.rand(n, generator=generator))

    @staticmethod
    def lr_factor(p: float, warmup: bool = True) -> float:
        """Optional warm-up (fresh fits), then cosine decay to ``FINAL_LR`` at ``p = 1``."""
        if warmup and p < WARMUP_FRACTION:
            return warmup_factor(p, WARMUP_FRACTION)
        return cosine_factor(min(1.0, max(0.0, p)), 1, FINAL_LR)


class Trainer:
    """Noise2Score (Kim & Ye 2021) AR-DAE training state: network, EMA copy, Adam, data, generators.

    Parameters
    ----------
    net : ScoreNet
        Trained in place; :attr:`ema` holds the averaged weights.
    source : PatchSource
        Training patches (the data's units; mapped with ``offset``/``scale``).
    """

    def __init__(
        self,
        net: ScoreNet,
        source: PatchSource,
        *,
        offset: float,
        scale: float,
        schedule: Schedule,
        lr: float,
        batch: int,
        ema: float,
        seed: int,
        start_step: int,
        optimizer_state: dict | None,
        device: torch.device,
    ) -> None:
        self.net, self.source, self.schedule = net, source, schedule
        self.offset, self.scale = offset, scale
        self.lr, self.batch, self.decay, self.device = lr, int(batch), float(ema), device
        layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.layout = layout
        self.net.to(device, memory_format=layout).train()
        self.ema = copy.deepcopy(self.net).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.9, 0.99))
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.rng = np.random.default_rng([int(seed), int(start_step)])
        self.generator = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(start_step))
        self.updates = 0

    def step(self, p: float, lr_factor: float) -> tuple[float, float]:
        """One Adam step at annealing progress ``p`` and ``lr * lr_factor``.

        Returns the loss and the current sigma_a floor.
        """
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * lr_factor
        y = (self.source.sample(self.batch, self.rng) - self.offset) / self.scale
        y = self.net.coords.transform(torch.from_numpy(y))[0]
        u = torch.randn(y.shape, generator=self.generator)
        sigma_a = self.schedule.sample(p, self.batch, self.generator)
        y, u, sigma_a = (t.to(self.device) for t in (y, u, sigma_a))
        if self.device.type == "cpu":
            y, u = (t.contiguous(memory_format=self.layout) for t in (y, u))
        loss = ar_dae_loss(self.net, y, u, sigma_a)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._update_ema()
        return float(loss.detach()), self.schedule.floor(p)

    @torch.no_grad()
    def _update_ema(self) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for average, current in zip(self.ema.parameters(), self.net.parameters()):
            average.lerp_(current, 1 - decay)

    def optimizer_state(self) -> dict:
        """Adam's state as plain tensors (``torch.load(weights_only=True)``-safe)."""
        state = self.optimizer.state_dict()
        groups = [{k: v for k, v in g.items()} for g in state["param_groups"]]
        tensors = {
            int(i): {k: torch.as_tensor(v).detach().cpu().clone() for k, v in entry.items()}
            for i, entry in state["state"].items()
        }
        return {"state": tensors, "param_groups": groups}
