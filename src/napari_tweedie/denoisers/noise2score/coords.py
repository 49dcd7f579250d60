"""Noise2Score (Kim & Ye, NeurIPS 2021) score coordinates: where the score network's denoiser works.

The score of the noisy data is parametrised through a Gaussian denoiser ``D``
applied in coordinates ``v = g(y)`` in which the noise is about Gaussian with
one standard deviation ``noise``: by the change of variables
``p_Y(y) = p_V(g(y)) g'(y)``,

    s_Y(y) = s_V(g(y)) g'(y) + g''(y) / g'(y),    s_V(v) = (D(v, tau) - v) / tau^2.

``identity``: ``g(y) = y``, ``noise = sigma_eff`` (the root mean noise
variance): for Gaussian noise the exact family.  ``anscombe`` (Poisson,
Poisson-Gaussian; generalised Anscombe ``2 sqrt(y/zeta + 3/8 + sigma^2/zeta^2)``)
and ``log`` (Gamma) are variance-stabilising, so a denoiser with one global
``tau`` fits signal-dependent noise, and the bundled prior is a good start
(about as good as prior + VST before any training); the AR-DAE fit corrects
what the stabilisation gets wrong.  Either way ``g`` is normalised to about
[0, 1] (``(a(y) - low) / span``), the prior's training range.  The AR-DAE
loss perturbs ``v`` (not ``y``), so the denoiser sees
``tau^2 = noise^2 + sigma_a^2``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import torch
from torch import Tensor

from ...noise import NoiseModel

__all__ = ["Coordinates", "make_coordinates", "noise_variance", "scale_noise_model"]

W_MIN = 0.05  # floor of the Anscombe radicand (perturbed counts may dip below 0)


@dataclass(frozen=True)
class Coordinates:
    """Noise2Score score coordinates ``v = (a(y) - low) / span`` (see the module)."""

    kind: str = "identity"
    noise: float = 1.0
    low: float = 0.0
    span: float = 1.0
    zeta: float = 1.0
    sigma: float = 0.0
    eps: float = 1e-3

    def transform(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(v, dv/dz, (d2v/dz2) / (dv/dz))`` elementwise."""
        if self.kind == "identity":
            a, da, curvature = z, torch.ones_like(z), torch.zeros_like(z)
        elif self.kind == "anscombe":
            w = (z / self.zeta + 0.375 + (self.sigma / self.zeta) ** 2).clamp_min(W_MIN)
            root = torch.sqrt(w)
            a, da, curvature = 2 * root, 1 / (self.zeta * root), -1 / (2 * self.zeta * w)
        elif self.kind == "log":
            zc = z.clamp_min(self.eps)
            a, da, curvature = torch.log(zc), 1 / zc, -1 / zc
        else:
            raise ValueError(f"unknown coordinates {self.kind!r}")
        return (a - self.low) / self.span, da / self.span, curvature

    def to_dict(self) -> dict:
        return asdict(self)


def _raw(kind: str, y: np.ndarray, zeta: float, sigma: float, eps: float) -> np.ndarray:
    if kind == "anscombe":
        return 2 * np.sqrt(np.maximum(y / zeta + 0.375 + (sigma / zeta) ** 2, W_MIN))
    if kind == "log":
        return np.log(np.maximum(y, eps))
    return y


def make_coordinates(
    kind: str, model: NoiseModel, sample: np.ndarray, sigma_eff: float
) -> Coordinates:
    """Noise2Score coordinates of ``kind`` (``"auto"``: VST for non-Gaussian noise) for ``model``.

    ``model`` and ``sample`` are in the scaled units; ``sigma_eff`` is the
    root mean noise variance there (the identity coordinates' noise level).
    """
    stabilizer = model.stabilizer()
    if kind == "auto":
        kind = stabilizer.kind if stabilizer else "identity"
    if kind == "identity":
        return Coordinates("identity", noise=float(sigma_eff))
    if stabilizer is None or stabilizer.kind != kind:
        raise ValueError(f"coordinates {kind!r} do not fit {model.name!r} noise")
    y = np.asarray(sample, np.float64)
    y = y[np.isfinite(y)]
    if kind == "anscombe":
        zeta, sigma, eps, noise = float(stabilizer.zeta), float(stabilizer.sigma), 0.0, 1.0
    else:  # log
        high = float(np.percentile(y, 99.9))
        positive = y[y > 0]
        floor = float(np.percentile(positive, 0.1)) if positive.size else high
        zeta, sigma, eps = 1.0, 0.0, max(0.5 * floor, 1e-3 * high, 1e-12)
        noise = stabilizer.stabilized_sigma
    low, high = np.percentile(_raw(kind, y, zeta, sigma, eps), [0.1, 99.9])
    span = float(high - low) if high > low else 1.0
    return Coordinates(kind, noise / span, float(low), span, zeta, sigma, eps)


def scale_noise_model(model: NoiseModel, scale: float) -> NoiseModel:
    """Noise2Score data scaling of a noise model: ``sigma``, ``zeta`` over ``scale``, ``k`` kept."""
    changes = {f.name: getattr(model, f.name) / scale for f in fields(model) if f.name != "k"}
    return replace(model, **changes)


def noise_variance(model: NoiseModel, sample: np.ndarray) -> float:
    """Noise2Score ``sigma_eff^2``: mean noise variance of ``model`` over the noisy ``sample``."""
    y = np.asarray(sample, np.float64)
    y = y[np.isfinite(y)]
    return model.mean_variance(y)
