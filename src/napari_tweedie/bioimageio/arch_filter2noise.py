"""Filter2Noise (Sun et al. 2025) as one plain torch module, for bioimage.io packages.

``napari-tweedie export`` writes this file as is into the bioimage.io package (the
architecture of the ``pytorch_state_dict`` weights), so it imports nothing but torch and the
standard library, and it compiles with ``torch.jit.script`` (the ``torchscript`` weights).
The module takes a batch ``(B, 1, H, W)`` in the data's units and returns the denoised
batch, with everything napari-tweedie does around the network: the data normalisation and
the chain of attention-guided bilateral filters (the same float32 arithmetic as the plugin's
numba kernel)."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Filter2NoiseNet"]

# --- Filter2Noise: patch attention predicting the widths of a bilateral filter --------------


def _reflect_index(n: int, before: int, after: int, device: torch.device) -> Tensor:
    """Indices of ``numpy.pad(mode="symmetric")`` along an axis of length ``n``."""
    index = torch.remainder(torch.arange(-before, n + after, device=device), 2 * n)
    return torch.where(index >= n, 2 * n - 1 - index, index)


def _symmetric_pad(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    rows = _reflect_index(x.shape[-2], top, bottom, x.device)
    cols = _reflect_index(x.shape[-1], left, right, x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def _splits(n: int, size: int) -> list[int]:
    """Edges of near-equal pieces of ``range(n)`` of at most ``size`` (0: one piece).

    ``round(i * n / count)`` with Python's half-to-even rounding, in integers.
    """
    count = 1 if size <= 0 else max(1, (n + size - 1) // size)
    edges: list[int] = []
    for i in range(count + 1):
        q, r = (i * n) // count, (i * n) % count
        if 2 * r > count or (2 * r == count and q % 2 == 1):
            q += 1
        edges.append(q)
    return edges


def _exp_neg(u: Tensor) -> Tensor:
    """``exp(-u)`` as napari-tweedie's bilateral kernel computes it (Taylor of exp(-u/64))^64."""
    v = u.clamp_max(64.0) * (1.0 / 64.0)
    p = 1.0 + v * (-1.0 + v * (0.5 + v * (-1.0 / 6.0 + v * (1.0 / 24.0))))
    for _ in range(6):
        p = p * p
    return p


class Attention(nn.Module):
    """One residual single-head self-attention layer over patch features."""

    def __init__(self, dim: int):
        super().__init__()
        self.query, self.key, self.value = (
            nn.Linear(dim, dim),
            nn.Linear(dim, dim),
            nn.Linear(dim, dim),
        )

    def forward(self, h: Tensor) -> Tensor:
        q = self.query(h) * (1.0 / math.sqrt(h.shape[-1]))
        scores = torch.matmul(q, self.key(h).transpose(-1, -2))
        return h + torch.matmul(torch.softmax(scores, dim=-1), self.value(h))


class SigmaPredictor(nn.Module):
    """Filter2Noise's widths ``(sx, sy, sr)`` per pixel from windowed attention over 8x8 patches."""

    def __init__(self, patch: int, dim: int, bounds: list[float]):
        super().__init__()
        self.patch = patch
        self.bounds = bounds  # spatial low, spatial cap, range low, range cap
        self.embed = nn.Linear(patch * patch, dim)
        self.layers = nn.ModuleList([Attention(dim), Attention(dim)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 3)

    def attend(self, h: Tensor, window: int) -> Tensor:
        n_img, gh, gw, dim = h.shape[0], h.shape[1], h.shape[2], h.shape[3]
        out = torch.empty_like(h)
        rows, cols = _splits(gh, window), _splits(gw, window)
        for a in range(len(rows) - 1):
            for b in range(len(cols) - 1):
                y0, y1, x0, x1 = rows[a], rows[a + 1], cols[b], cols[b + 1]
                x = h[:, y0:y1, x0:x1].reshape(n_img, (y1 - y0) * (x1 - x0), dim)
                for layer in self.layers:
                    x = layer(x)
                out[:, y0:y1, x0:x1] = x.reshape(n_img, y1 - y0, x1 - x0, dim)
        return out

    def forward(self, image: Tensor, window: int) -> Tensor:
        n_img, height, width = image.shape[0], image.shape[1], image.shape[2]
        p = self.patch
        gh, gw = (height + p - 1) // p, (width + p - 1) // p
        x = _symmetric_pad(image, 0, gh * p - height, 0, gw * p - width)
        patches = (
            x.reshape(n_img, gh, p, gw, p).permute(0, 1, 3, 2, 4).reshape(n_img, gh, gw, p * p)
        )
        z = F.softplus(self.head(self.norm(self.attend(self.embed(patches), window))))
        b = self.bounds
        low = torch.tensor([b[0], b[0], b[2]], dtype=z.dtype, device=z.device)
        cap = torch.tensor([b[1], b[1], b[3]], dtype=z.dtype, device=z.device)
        coarse = (low + cap * torch.tanh(z / cap)).permute(0, 3, 1, 2)
        fine = F.interpolate(coarse, size=[gh * p, gw * p], mode="bilinear", align_corners=False)
        return fine[..., :height, :width]


def bilateral(x: Tensor, sx: Tensor, sy: Tensor, sr: Tensor, radius: int) -> Tensor:
    """Per-pixel anisotropic bilateral filter (square window, symmetric borders), (B, H, W)."""
    cx, cy, cr = 0.5 / (sx * sx), 0.5 / (sy * sy), 0.5 / (sr * sr)
    padded = _symmetric_pad(x, radius, radius, radius, radius)
    height, width = x.shape[-2], x.shape[-1]
    num, den = torch.zeros_like(x), torch.zeros_like(x)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            v = padded[:, radius + dy : radius + dy + height, radius + dx : radius + dx + width]
            d = v - x
            w = _exp_neg(float(dx * dx) * cx + float(dy * dy) * cy + d * d * cr)
            num = num + w * v
            den = den + w
    return num / den


class Filter2NoiseNet(nn.Module):
    """Filter2Noise (Sun et al. 2025): a chain of attention-guided bilateral filters.

    ``offset`` and ``scale`` normalise the data, ``(y - offset) / scale``;
    ``window`` is the attention window in patches (0: one global window).
    """

    def __init__(
        self,
        stages: int = 2,
        radius: int = 4,
        patch: int = 8,
        dim: int = 12,
        window: int = 32,
        offset: float = 0.0,
        scale: float = 1.0,
    ):
        super().__init__()
        cap = max(0.5, radius / 2.0)
        bounds = [0.2, cap, 1e-3, 1.0]
        self.stages = nn.ModuleList([SigmaPredictor(patch, dim, bounds) for _ in range(stages)])
        self.radius, self.window = int(radius), int(window)
        self.offset, self.scale = float(offset), float(scale)

    def forward(self, x: Tensor) -> Tensor:
        y = (x[:, 0] - self.offset) / self.scale
        for stage in self.stages:
            s = stage(y, self.window)
            sr = (s[:, 2] * self.scale) / self.scale
            y = bilateral(y, s[:, 0], s[:, 1], sr, self.radius)
        return (y * self.scale + self.offset)[:, None]
