"""A small noise-conditional UNet and the EDM preconditioning that turns it into a denoiser.

The network ``F`` is a three-level UNet with bias-free 3x3 convolutions, residual
blocks and additive skips.  The noise level enters only multiplicatively: an MLP
maps ``c_noise = log(sigma) / 4`` to a per-channel gain ``1 + g(sigma)`` inside
each block (FiLM without the additive part), so at a fixed ``sigma`` the network
is positively homogeneous in its input, like the bias-free denoisers of Mohan
et al. (ICLR 2020) that generalise across noise levels.

:class:`EDMDenoiser` wraps ``F`` with the preconditioning of Karras et al.
(NeurIPS 2022, "EDM"), applied to data centred at ``center`` (0.5 for images on
[0, 1])::

    D(x, sigma) = center + c_skip * (x - center) + c_out * F(c_in * (x - center), c_noise)
    c_skip = sd^2 / (sigma^2 + sd^2)     c_out = sigma * sd / sqrt(sigma^2 + sd^2)
    c_in = 1 / sqrt(sigma^2 + sd^2)      c_noise = log(sigma) / 4

At tiny ``sigma``, ``D`` tends to the identity whatever the weights (``c_skip -> 1``,
``c_out -> 0``); at huge ``sigma`` the network sees unit-variance noise and is
trained to return the data mean.  The output convolution starts at zero, so an
untrained ``D`` is the linear (Wiener-like) shrinkage towards ``center``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as tf

__all__ = ["EDMDenoiser", "NetConfig", "UNet"]


@dataclass(frozen=True)
class NetConfig:
    """Architecture and preconditioning hyper-parameters (stored next to the weights)."""

    channels: tuple[int, ...] = (32, 64, 128)
    blocks: int = 2
    emb_dim: int = 64
    sigma_data: float = 0.5
    center: float = 0.5

    def to_dict(self) -> dict:
        """Plain-JSON form (tuples become lists)."""
        out = asdict(self)
        out["channels"] = list(self.channels)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "channels" in known:
            known["channels"] = tuple(int(c) for c in known["channels"])
        return cls(**known)

    @property
    def multiple(self) -> int:
        """Height and width must be multiples of this (one halving per level below the top)."""
        return 2 ** (len(self.channels) - 1)


def _conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(
        cin, cout, k, stride=stride, padding=(k // 2 if stride == 1 else 0), bias=False
    )


class ResBlock(nn.Module):
    """``x + conv(relu(gain(sigma) * conv(relu(x))))``, bias-free, with a noise-dependent gain."""

    def __init__(self, channels: int, emb_dim: int):
        super().__init__()
        self.conv1 = _conv(channels, channels)
        self.conv2 = _conv(channels, channels)
        self.gain = nn.Linear(emb_dim, channels)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.gain.bias)
        with torch.no_grad():
            self.conv2.weight.mul_(0.5)

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(tf.relu(x))
        h = h * (1.0 + self.gain(emb))[:, :, None, None]
        return x + self.conv2(tf.relu(h))


class UNet(nn.Module):
    """Bias-free UNet ``F(x, c_noise)`` on one channel; input height/width multiple of ``multiple``.

    Each level has ``blocks`` residual blocks on the way down and up; levels are
    joined by 2x2 stride-2 convolutions (down), 2x2 transposed convolutions (up)
    and additive skips.  A last noise-dependent gain before the output convolution
    lets the network switch its output off at very large ``sigma`` (where ``D``
    should be the data mean).
    """

    def __init__(self, config: NetConfig):
        super().__init__()
        ch, emb = config.channels, config.emb_dim
        self.config = config
        self.embed = nn.Sequential(nn.Linear(16, emb), nn.SiLU(), nn.Linear(emb, emb), nn.SiLU())
        freqs = torch.arange(1, 9, dtype=torch.float32) * math.pi / 2
        self.register_buffer("freqs", freqs, persistent=False)
        self.stem = _conv(1, ch[0])
        self.down = nn.ModuleList()
        self.enc = nn.ModuleList()
        self.dec = nn.ModuleList()
        self.up = nn.ModuleList()
        for i, c in enumerate(ch):
            self.enc.append(nn.ModuleList(ResBlock(c, emb) for _ in range(config.blocks)))
            self.dec.append(nn.ModuleList(ResBlock(c, emb) for _ in range(config.blocks)))
            if i + 1 < len(ch):
                self.down.append(_conv(c, ch[i + 1], k=2, stride=2))
                self.up.append(nn.ConvTranspose2d(ch[i + 1], c, 2, stride=2, bias=False))
        self.out_gain = nn.Linear(emb, ch[0])
        nn.init.zeros_(self.out_gain.weight)
        nn.init.zeros_(self.out_gain.bias)
        self.head = _conv(ch[0], 1)
        nn.init.zeros_(self.head.weight)

    def embedding(self, c_noise: Tensor) -> Tensor:
        """Fourier features of ``c_noise`` (shape (B,)) through a small MLP."""
        angles = c_noise[:, None] * self.freqs[None, :]
        return self.embed(torch.cat([torch.sin(angles), torch.cos(angles)], dim=1))

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        emb = self.embedding(c_noise)
        h = self.stem(x)
        skips = []
        levels = len(self.enc)
        for i in range(levels):
            for block in self.enc[i]:
                h = block(h, emb)
            if i + 1 < levels:
                skips.append(h)
                h = self.down[i](h)
        for i in reversed(range(levels)):
            if i + 1 < levels:
                h = self.up[i](h) + skips.pop()
            for block in self.dec[i]:
                h = block(h, emb)
        return self.head(tf.relu(h) * (1.0 + self.out_gain(emb))[:, :, None, None])


class EDMDenoiser(nn.Module):
    """``D(x, sigma)``: the UNet with EDM preconditioning (see the module docstring).

    ``x`` is (B, 1, H, W) with H and W multiples of ``config.multiple``; ``sigma``
    a tensor of shape (B,) (or broadcastable to it) of noise standard deviations
    in the units of the data (images on [0, 1]).
    """

    def __init__(self, config: NetConfig | None = None):
        super().__init__()
        self.config = config or NetConfig()
        self.net = UNet(self.config)

    def coefficients(self, sigma: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(c_skip, c_out, c_in, c_noise)`` for noise levels ``sigma`` (shape (B,))."""
        sd2 = self.config.sigma_data**2
        var = sigma**2 + sd2
        c_skip = sd2 / var
        c_out = sigma * self.config.sigma_data / var.sqrt()
        c_in = var.rsqrt()
        c_noise = sigma.log() / 4
        return c_skip, c_out, c_in, c_noise

    def forward(self, x: Tensor, sigma: Tensor) -> Tensor:
        b = x.shape[0]
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1).expand(b)
        sigma = sigma.clamp_min(1e-6)
        c_skip, c_out, c_in, c_noise = (c[:, None, None, None] for c in self.coefficients(sigma))
        centred = x - self.config.center
        f = self.net(c_in * centred, c_noise.reshape(b))
        return self.config.center + c_skip * centred + c_out * f


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
