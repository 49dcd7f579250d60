"""Filter2Noise (Sun et al. 2025) network: patch attention predicting sigmas, and the AGBF chain.

Each stage of :class:`F2NNet` predicts per-pixel widths ``(sx, sy, sr)`` with
a :class:`SigmaPredictor` and filters the image with the attention-guided
bilateral filter (AGBF) of :mod:`.agbf` (numba forward and backward).

Sigmas come from a :class:`SigmaPredictor`: 8x8 patches are embedded
linearly, pass two residual self-attention layers and a layer norm, and a
linear head gives three values per patch, made positive and bounded by a
capped softplus and upsampled bilinearly to pixels.  Attention runs inside
windows of at most ``window x window`` patches, so its cost is linear in the
number of pixels (``window=None``: one global window, quadratic).
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch
import torch.nn.functional as F
from torch import nn

from .agbf import agbf, agbf_reference, symmetric_pad

__all__ = ["F2NNet", "SigmaPredictor"]


# --- sigma prediction -----------------------------------------------------------------------


def _splits(n: int, size: int | None) -> list[tuple[int, int]]:
    """Near-equal ``(start, stop)`` pieces of ``range(n)``, each at most ``size`` long."""
    count = 1 if size is None else max(1, math.ceil(n / size))
    edges = [round(i * n / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _inverse_bounded(value: float, low: float, cap: float) -> float:
    """Pre-activation ``z`` with ``low + cap * tanh(softplus(z) / cap) = value``."""
    soft = cap * math.atanh(min(max((value - low) / cap, 1e-6), 1 - 1e-6))
    return soft + math.log(-math.expm1(-soft))


class _Attention(nn.Module):
    """One residual single-head self-attention layer over patch features."""

    def __init__(self, dim: int):
        super().__init__()
        self.query, self.key, self.value = (nn.Linear(dim, dim) for _ in range(3))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        q = self.query(h) * (1.0 / math.sqrt(h.shape[-1]))
        scores = torch.matmul(q, self.key(h).transpose(-1, -2))
        return h + torch.matmul(torch.softmax(scores, dim=-1), self.value(h))


class SigmaPredictor(nn.Module):
    """Filter2Noise (Sun et al. 2025) sigma predictor: patch attention -> (sx, sy, sr) per pixel.

    Parameters
    ----------
    patch : int
        Patch side in pixels (8 in the paper).
    dim : int
        Feature width (12 gives about 1.8k parameters per stage, as the paper's F2N-S1).
    bounds : ((low, cap), (low, cap))
        Spatial and range sigma bounds: ``sigma = low + cap * tanh(softplus(z) / cap)``.
    init : (float, float)
        Initial spatial and range sigmas (set through the head's bias).
    """

    def __init__(
        self,
        patch: int = 8,
        dim: int = 12,
        bounds: tuple[tuple[float, float], tuple[float, float]] = ((0.2, 2.5), (1e-3, 1.0)),
        init: tuple[float, float] = (1.5, 0.1),
    ):
        super().__init__()
        self.patch = patch
        self.bounds = bounds
        self.embed = nn.Linear(patch * patch, dim)
        self.layers = nn.ModuleList([_Attention(dim), _Attention(dim)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 3)
        self.init = init

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Seeded initialisation: uniform fan-in weights, a near-zero head giving ``init``."""
        with torch.no_grad():
            for module in [
                self.embed,
                self.head,
                *(m for lay in self.layers for m in (lay.query, lay.key, lay.value)),
            ]:
                bound = 1.0 / math.sqrt(module.in_features)
                module.weight.uniform_(-bound, bound, generator=generator)
                module.bias.uniform_(-bound, bound, generator=generator)
            self.head.weight.mul_(0.01)
            (s_low, s_cap), (r_low, r_cap) = self.bounds
            z_s = _inverse_bounded(self.init[0], s_low, s_cap)
            z_r = _inverse_bounded(self.init[1], r_low, r_cap)
            self.head.bias.copy_(torch.tensor([z_s, z_s, z_r]))

    def _attend(self, h: torch.Tensor, window: int | None) -> torch.Tensor:
        """Attention layers inside windows of patches; ``h`` has shape (B, gh, gw, dim)."""
        n_img, gh, gw, dim = h.shape
        groups = defaultdict(list)
        for y0, y1 in _splits(gh, window):
            for x0, x1 in _splits(gw, window):
                groups[(y1 - y0, x1 - x0)].append((y0, x0))
        out = torch.empty_like(h)
        for (wh, ww), origins in groups.items():
            for start in range(0, len(origins), 16):  # bounded memory on huge images
                part = origins[start : start + 16]
                x = torch.cat(
                    [h[:, y : y + wh, x : x + ww].reshape(n_img, wh * ww, dim) for y, x in part]
                )
                for layer in self.layers:
                    x = layer(x)
                x = x.reshape(len(part), n_img, wh, ww, dim)
                for k, (y, x0) in enumerate(part):
                    out[:, y : y + wh, x0 : x0 + ww] = x[k]
        return out

    def patch_sigmas(self, image: torch.Tensor, window: int | None = 32) -> torch.Tensor:
        """Per-patch sigmas, shape (B, 3, gh, gw), of a (B, H, W) image (symmetric padding)."""
        n_img, height, width = image.shape
        p = self.patch
        gh, gw = math.ceil(height / p), math.ceil(width / p)
        x = symmetric_pad(image, 0, gh * p - height, 0, gw * p - width)
        patches = (
            x.reshape(n_img, gh, p, gw, p).permute(0, 1, 3, 2, 4).reshape(n_img, gh, gw, p * p)
        )
        h = self.norm(self._attend(self.embed(patches), window))
        z = F.softplus(self.head(h))
        (s_low, s_cap), (r_low, r_cap) = self.bounds
        low = torch.tensor([s_low, s_low, r_low], device=z.device)
        cap = torch.tensor([s_cap, s_cap, r_cap], device=z.device)
        return (low + cap * torch.tanh(z / cap)).permute(0, 3, 1, 2)

    def forward(self, image: torch.Tensor, window: int | None = 32) -> torch.Tensor:
        """Per-pixel sigmas, shape (B, 3, H, W): patch sigmas upsampled bilinearly."""
        height, width = image.shape[-2:]
        coarse = self.patch_sigmas(image, window)
        size = (coarse.shape[-2] * self.patch, coarse.shape[-1] * self.patch)
        fine = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
        return fine[..., :height, :width]


class F2NNet(nn.Module):
    """Filter2Noise chain of AGBF stages (F2N-S2 with ``stages=2``).

    ``forward(x)`` filters a (B, H, W) batch and returns the output and the
    list of per-stage sigma maps (B, 3, H, W).  ``backend="numba"`` uses
    :func:`agbf`, ``"torch"`` :func:`agbf_reference`.
    """

    def __init__(
        self,
        stages: int = 2,
        radius: int = 4,
        patch: int = 8,
        dim: int = 12,
        window: int | None = 32,
        init: tuple[float, float] = (1.5, 0.1),
        backend: str = "numba",
    ):
        super().__init__()
        spatial_cap = max(0.5, radius / 2.0)
        bounds = ((0.2, spatial_cap), (1e-3, 1.0))
        init = (min(init[0], 0.9 * spatial_cap), init[1])
        self.stages = nn.ModuleList(SigmaPredictor(patch, dim, bounds, init) for _ in range(stages))
        self.radius = int(radius)
        self.window = window
        self.backend = backend

    def reset_parameters(self, generator: torch.Generator) -> None:
        for stage in self.stages:
            stage.reset_parameters(generator)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        filt = agbf if self.backend == "numba" else agbf_reference
        maps = []
        for stage in self.stages:
            sigmas = stage(x, self.window)
            maps.append(sigmas)
            x = filt(x, sigmas[:, 0], sigmas[:, 1], sigmas[:, 2], self.radius)
        return x, maps
