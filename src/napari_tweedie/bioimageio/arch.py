"""Noise2Score (Kim & Ye 2021) and Filter2Noise (Sun et al. 2025) as plain torch modules.

This file is written as is into the bioimage.io packages that
``napari-tweedie export`` makes (the ``pytorch_state_dict`` weights'
architecture), so it imports nothing but torch and the standard library, and
it compiles with ``torch.jit.script`` (the ``torchscript`` weights).  Each
module takes a batch ``(B, 1, H, W)`` in the data's units and returns the
denoised batch, with everything the napari-tweedie model does around its
network: the data normalisation, the score coordinates (variance-stabilising
transform) and Tweedie's formula for Noise2Score; the normalisation and the
chain of attention-guided bilateral filters for Filter2Noise.
"""

import math
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Filter2NoiseNet", "Noise2ScoreNet"]


# --- Noise2Score: the EDM-preconditioned UNet ------------------------------------------------


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if stride == 1 else 0, bias=False)


class ResBlock(nn.Module):
    """``x + conv(relu(gain(sigma) * conv(relu(x))))``, bias-free."""

    def __init__(self, channels: int, emb_dim: int):
        super().__init__()
        self.conv1 = _conv(channels, channels)
        self.conv2 = _conv(channels, channels)
        self.gain = nn.Linear(emb_dim, channels)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.relu(x))
        h = h * (1.0 + self.gain(emb))[:, :, None, None]
        return x + self.conv2(F.relu(h))


class Encoder(nn.Module):
    """One UNet level on the way down: residual blocks, then (except at the bottom) a 2x2 down."""

    def __init__(self, channels: int, below: int, blocks: int, emb_dim: int):
        super().__init__()
        self.blocks = nn.ModuleList([ResBlock(channels, emb_dim) for _ in range(blocks)])
        self.has_down = below > 0
        self.down = _conv(channels, below, k=2, stride=2) if below > 0 else nn.Identity()

    def forward(self, h: Tensor, emb: Tensor, skips: List[Tensor]) -> Tensor:
        for block in self.blocks:
            h = block(h, emb)
        if self.has_down:
            skips.append(h)
            h = self.down(h)
        return h


class Decoder(nn.Module):
    """One UNet level on the way up: (except at the bottom) a 2x2 up plus skip, residual blocks."""

    def __init__(self, channels: int, below: int, blocks: int, emb_dim: int):
        super().__init__()
        self.blocks = nn.ModuleList([ResBlock(channels, emb_dim) for _ in range(blocks)])
        self.has_up = below > 0
        up = nn.ConvTranspose2d(below, channels, 2, stride=2, bias=False) if below > 0 else None
        self.up = up if up is not None else nn.Identity()

    def forward(self, h: Tensor, emb: Tensor, skips: List[Tensor]) -> Tensor:
        if self.has_up:
            h = self.up(h) + skips.pop()
        for block in self.blocks:
            h = block(h, emb)
        return h


class UNet(nn.Module):
    """Bias-free UNet ``F(x, c_noise)`` with a noise-dependent gain in every block."""

    def __init__(self, channels: List[int], blocks: int, emb_dim: int):
        super().__init__()
        levels = len(channels)
        below = [channels[i + 1] if i + 1 < levels else 0 for i in range(levels)]
        self.embed = nn.Sequential(
            nn.Linear(16, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim), nn.SiLU()
        )
        freqs = torch.arange(1, 9, dtype=torch.float32) * math.pi / 2
        self.register_buffer("freqs", freqs, persistent=False)
        self.stem = _conv(1, channels[0])
        self.enc = nn.ModuleList(
            [Encoder(channels[i], below[i], blocks, emb_dim) for i in range(levels)]
        )
        self.dec = nn.ModuleList(  # bottom level first
            [Decoder(channels[i], below[i], blocks, emb_dim) for i in reversed(range(levels))]
        )
        self.out_gain = nn.Linear(emb_dim, channels[0])
        self.head = _conv(channels[0], 1)

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        angles = c_noise[:, None] * self.freqs[None, :]
        emb = self.embed(torch.cat([torch.sin(angles), torch.cos(angles)], dim=1))
        h = self.stem(x)
        skips: List[Tensor] = []
        for level in self.enc:
            h = level(h, emb, skips)
        for level in self.dec:
            h = level(h, emb, skips)
        return self.head(F.relu(h) * (1.0 + self.out_gain(emb))[:, :, None, None])


def _pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """Pad bottom/right to multiples of ``multiple``: reflect where possible, else replicate."""
    h, w = x.shape[-2], x.shape[-1]
    ph, pw = (multiple - h % multiple) % multiple, (multiple - w % multiple) % multiple
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, [0, pw, 0, ph], mode=mode)


class Noise2ScoreNet(nn.Module):
    """Noise2Score (Kim & Ye 2021): learned score of the noisy data + Tweedie's formula.

    The score is ``s(y) = s_v(g(y)) g'(y) + g''(y) / g'(y)`` with
    ``s_v(v) = (D(v, tau) - v) / tau^2`` (``D`` the EDM denoiser, ``v = g(y)``
    the score coordinates, ``tau`` their noise level); ``noise`` picks the
    Tweedie inversion (Gaussian, Poisson, Poisson-Gaussian, Gamma) and its
    parameters are in the data's units.  ``offset`` and ``scale`` map the
    data to the network's units, ``(y - offset) / scale``.
    """

    def __init__(
        self,
        channels: List[int],
        blocks: int = 2,
        emb_dim: int = 64,
        sigma_data: float = 0.5,
        center: float = 0.5,
        coords: str = "identity",
        coords_noise: float = 1.0,
        low: float = 0.0,
        span: float = 1.0,
        coords_zeta: float = 1.0,
        coords_sigma: float = 0.0,
        eps: float = 1e-3,
        noise: str = "gaussian",
        sigma: float = 0.0,
        zeta: float = 1.0,
        k: float = 1.0,
        offset: float = 0.0,
        scale: float = 1.0,
    ):
        super().__init__()
        self.unet = UNet([int(c) for c in channels], int(blocks), int(emb_dim))
        self.multiple = 2 ** (len(channels) - 1)
        self.sigma_data, self.center = float(sigma_data), float(center)
        self.coords, self.coords_noise = str(coords), float(coords_noise)
        self.low, self.span, self.eps = float(low), float(span), float(eps)
        self.coords_zeta, self.coords_sigma = float(coords_zeta), float(coords_sigma)
        self.noise, self.k = str(noise), float(k)
        self.offset, self.scale = float(offset), float(scale)
        self.sigma, self.zeta = float(sigma) / self.scale, float(zeta) / self.scale

    def denoiser(self, x: Tensor, sigma: float) -> Tensor:
        """``D(x, sigma)``: the UNet with the EDM preconditioning (Karras et al. 2022)."""
        sigma = max(sigma, 1e-6)
        var = sigma**2 + self.sigma_data**2
        centred = x - self.center
        c_noise = torch.full([x.shape[0]], math.log(sigma) / 4, dtype=x.dtype, device=x.device)
        f = self.unet(centred / math.sqrt(var), c_noise)
        return self.center + (self.sigma_data**2 / var) * centred + (
            sigma * self.sigma_data / math.sqrt(var)
        ) * f

    def transform(self, z: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Score coordinates ``(v, dv/dz, (d2v/dz2) / (dv/dz))``."""
        if self.coords == "anscombe":
            w = (z / self.coords_zeta + 0.375 + (self.coords_sigma / self.coords_zeta) ** 2).clamp_min(
                0.05
            )
            root = torch.sqrt(w)
            a, da, curvature = 2 * root, 1 / (self.coords_zeta * root), -1 / (2 * self.coords_zeta * w)
        elif self.coords == "log":
            zc = z.clamp_min(self.eps)
            a, da, curvature = torch.log(zc), 1 / zc, -1 / zc
        else:
            a, da, curvature = z, torch.ones_like(z), torch.zeros_like(z)
        return (a - self.low) / self.span, da / self.span, curvature

    def score(self, z: Tensor) -> Tensor:
        """The learned score of the noisy data at ``z`` (network units)."""
        h, w = z.shape[-2], z.shape[-1]
        padded = _pad_to_multiple(z, self.multiple)
        v, dv, curvature = self.transform(padded)
        tau = self.coords_noise
        s = (self.denoiser(v, tau) - v) / (tau * tau) * dv + curvature
        return s[..., :h, :w]

    def forward(self, x: Tensor) -> Tensor:
        y = (x - self.offset) / self.scale
        if self.noise == "poisson" or self.noise == "poisson_gaussian":
            xs = (y + self.zeta + self.sigma**2 * self.score(y + self.zeta)) * torch.exp(
                self.zeta * self.score(y + self.zeta / 2)
            )
        elif self.noise == "gamma":
            xs = self.k * y / ((self.k - 1) - y * self.score(y))
        else:
            xs = y + self.sigma**2 * self.score(y)
        xs = torch.where(torch.isfinite(xs), xs, y)
        return xs * self.scale + self.offset


# --- Filter2Noise: patch attention predicting the widths of a bilateral filter --------------


def _reflect_index(n: int, before: int, after: int, device: torch.device) -> Tensor:
    """Indices of ``numpy.pad(mode="symmetric")`` along an axis of length ``n``."""
    index = torch.remainder(torch.arange(-before, n + after, device=device), 2 * n)
    return torch.where(index >= n, 2 * n - 1 - index, index)


def _symmetric_pad(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    rows = _reflect_index(x.shape[-2], top, bottom, x.device)
    cols = _reflect_index(x.shape[-1], left, right, x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def _splits(n: int, size: int) -> List[int]:
    """Edges of near-equal pieces of ``range(n)`` of at most ``size`` (0: one piece).

    ``round(i * n / count)`` with Python's half-to-even rounding, in integers.
    """
    count = 1 if size <= 0 else max(1, (n + size - 1) // size)
    edges: List[int] = []
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
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, h: Tensor) -> Tensor:
        q = self.query(h) * (1.0 / math.sqrt(h.shape[-1]))
        scores = torch.matmul(q, self.key(h).transpose(-1, -2))
        return h + torch.matmul(torch.softmax(scores, dim=-1), self.value(h))


class SigmaPredictor(nn.Module):
    """Filter2Noise's widths ``(sx, sy, sr)`` per pixel from windowed attention over 8x8 patches."""

    def __init__(self, patch: int, dim: int, bounds: List[float]):
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
        patches = x.reshape(n_img, gh, p, gw, p).permute(0, 1, 3, 2, 4).reshape(n_img, gh, gw, p * p)
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
