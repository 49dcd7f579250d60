"""Noise2Score (Kim & Ye, NeurIPS 2021): the score network, a Gaussian denoiser in disguise.

The score of the noisy data is parametrised through a noise-conditional
Gaussian denoiser ``D`` (the bundled prior's architecture,
:class:`~napari_tweedie.prior.network.EDMDenoiser`), in the coordinates of
:mod:`.coords`.  The fitted model around it is :mod:`.model`.
"""

from __future__ import annotations

import contextlib
import json
import threading

import torch
from torch import Tensor, nn

from ...prior.bundled import read_weights
from ...prior.network import EDMDenoiser, NetConfig
from .coords import Coordinates

__all__ = ["ScoreNet", "build_score_net"]


class ScoreNet(nn.Module):
    """Noise2Score's score network: a Gaussian denoiser ``D`` in coordinates ``v = g(y)``.

    In the coordinates (:mod:`.coords`; the identity for Gaussian noise)
    the score at AR-DAE level ``sigma_a`` is
    ``s_v(v; sigma_a) = (D(v, tau) - v) / tau^2`` with
    ``tau^2 = noise^2 + sigma_a^2``; the data's score is
    ``s(y) = s_v(g(y); 0) g'(y) + g''(y) / g'(y)``.
    """

    def __init__(self, denoiser: EDMDenoiser, coords: Coordinates) -> None:
        super().__init__()
        self.denoiser = denoiser
        self.coords = coords

    def score_v(self, v: Tensor, sigma_a: Tensor | float) -> Tensor:
        """Score in the coordinates of ``v`` (B, 1, H, W), H, W multiples of 4, at ``sigma_a``."""
        b = v.shape[0]
        sigma_a = torch.as_tensor(sigma_a, dtype=v.dtype, device=v.device).reshape(-1).expand(b)
        tau = torch.sqrt(self.coords.noise**2 + sigma_a**2)
        return (self.denoiser(v, tau) - v) / (tau**2)[:, None, None, None]

    def forward(self, z: Tensor, sigma_a: Tensor | float = 0.0) -> Tensor:
        """The data's score at ``z`` (scaled units); ``sigma_a`` in the coordinates' units."""
        v, dv, curvature = self.coords.transform(z)
        return self.score_v(v, sigma_a) * dv + curvature


#: held while torch's global generator is seeded and drawn from (module initialisation)
GLOBAL_RNG_LOCK = threading.Lock()


def build_score_net(init: str, coords: Coordinates, seed: int = 0) -> ScoreNet:
    """Noise2Score's :class:`ScoreNet` from the bundled prior (``"prior"``) or random weights."""
    if init == "prior":
        from ...prior.bundled import build_model

        tensors, metadata = read_weights()
        denoiser = build_model(tensors, metadata)
    elif init == "scratch":
        config = NetConfig()
        with contextlib.suppress(FileNotFoundError):
            config = NetConfig.from_dict(json.loads(read_weights()[1].get("config", "{}")))
        # torch initialises modules from its global generator: seeded and restored here,
        # under a lock so that threads building networks at once do not share its draws
        with GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            denoiser = EDMDenoiser(config)
    else:
        raise ValueError(f"unknown init {init!r}; expected 'prior' or 'scratch'")
    return ScoreNet(denoiser, coords)
