"""Noise2Score (Kim & Ye, NeurIPS 2021) as one plain torch module, for bioimage.io packages.

``napari-tweedie export`` writes this file as is into the bioimage.io package (the
architecture of the ``pytorch_state_dict`` weights), so it imports nothing but torch and the
standard library, and it compiles with ``torch.jit.script`` (the ``torchscript`` weights).
The module takes a batch ``(B, 1, H, W)`` in the data's units and returns the denoised
batch, with everything napari-tweedie does around the network: the data normalisation, the
score coordinates (variance-stabilising transform), the EDM-preconditioned UNet and
Tweedie's formula."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Noise2ScoreNet"]

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

    def forward(self, h: Tensor, emb: Tensor, skips: list[Tensor]) -> Tensor:
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

    def forward(self, h: Tensor, emb: Tensor, skips: list[Tensor]) -> Tensor:
        if self.has_up:
            h = self.up(h) + skips.pop()
        for block in self.blocks:
            h = block(h, emb)
        return h


class UNet(nn.Module):
    """Bias-free UNet ``F(x, c_noise)`` with a noise-dependent gain in every block."""

    def __init__(self, channels: list[int], blocks: int, emb_dim: int):
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
        skips: list[Tensor] = []
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
        channels: list[int],
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
        return (
            self.center
            + (self.sigma_data**2 / var) * centred
            + (sigma * self.sigma_data / math.sqrt(var)) * f
        )

    def transform(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Score coordinates ``(v, dv/dz, (d2v/dz2) / (dv/dz))``."""
        if self.coords == "anscombe":
            w = (
                z / self.coords_zeta + 0.375 + (self.coords_sigma / self.coords_zeta) ** 2
            ).clamp_min(0.05)
            root = torch.sqrt(w)
            a, da, curvature = (
                2 * root,
                1 / (self.coords_zeta * root),
                -1 / (2 * self.coords_zeta * w),
            )
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
        if self.noise == "poisson":
            xs = (y + self.zeta) * torch.exp(self.zeta * self.score(y + self.zeta / 2))
        elif self.noise == "poisson_gaussian":
            xs = (y + self.zeta + self.sigma**2 * self.score(y + self.zeta)) * torch.exp(
                self.zeta * self.score(y + self.zeta / 2)
            )
        elif self.noise == "gamma":
            xs = self.k * y / ((self.k - 1) - y * self.score(y))
        else:
            xs = y + self.sigma**2 * self.score(y)
        xs = self.plausible(y, torch.where(torch.isfinite(xs), xs, y))
        return xs * self.scale + self.offset

    def variance(self, m: Tensor) -> Tensor:
        """The noise variance at clean value ``m`` (network units; NaN outside the model)."""
        if self.noise == "poisson":
            return self.zeta * m
        if self.noise == "poisson_gaussian":
            return self.zeta * m + self.sigma**2
        if self.noise == "gamma":
            return torch.where(m > 0, m * m / self.k, torch.full_like(m, float("nan")))
        return torch.full_like(m, self.sigma**2)

    def plausible(self, y: Tensor, xs: Tensor, spread: float = 3.0) -> Tensor:
        """``xs`` within ``spread`` noise sd of ``y`` (as the plugin's ``NoiseModel.plausible``)."""
        sd = torch.sqrt(self.variance(y.clamp_min(0.0)).clamp_min(0.0))
        high = y + spread * torch.sqrt(self.variance(y + spread * sd).clamp_min(0.0))
        low = y - spread * sd
        low = torch.where(torch.isnan(low), torch.full_like(low, -math.inf), low)
        high = torch.where(torch.isnan(high), torch.full_like(high, math.inf), high)
        return torch.minimum(torch.maximum(xs, low), high)
