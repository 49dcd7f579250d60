"""Filter2Noise (Sun et al. 2025) on colour images: one sigma map per pixel, a joint range kernel.

For a channel-last (H, W, C) image each stage's attention network sees the
channel mean (one guide plane) and predicts one set of widths
``(sigma_x, sigma_y, sigma_r)`` per pixel, shared by all channels; the
bilateral weight compares whole colours::

    w(p, q) = exp(-(dx^2 / (2 sx(p)^2) + dy^2 / (2 sy(p)^2) + |I(p) - I(q)|^2 / (2 sr(p)^2)))

with ``|.|`` the Euclidean norm over channels (the joint range kernel of the
colour bilateral filter, Tomasi & Manduchi 1998), and every channel is
averaged with the same weights, so edges stay aligned across channels.  The
self-supervised loss (:mod:`.loss`) is the grey one on (C, H, W) tensors,
with the Euclidean local shuffle comparing colours.  The colour kernel runs
in plain torch (shifted views of the padded image), for training and applying.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .agbf import symmetric_pad
from .model import Filter2Noise

__all__ = ["ColourFilter2Noise", "ColourNet", "agbf_colour"]


def agbf_colour(
    image: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, sr: torch.Tensor, radius: int
) -> torch.Tensor:
    """Attention-guided bilateral filter with a joint colour range kernel (differentiable).

    Parameters
    ----------
    image : Tensor, shape (B, C, H, W)
        Colour images.
    sx, sy, sr : Tensor, shape (B, H, W)
        Per-pixel widths shared by the channels (pixels along X and Y; the
        range width applies to the Euclidean colour distance).
    radius : int
        Half size of the square window.

    Returns
    -------
    Tensor, shape (B, C, H, W)
    """
    a, b, c = 0.5 / sx.square(), 0.5 / sy.square(), 0.5 / sr.square()
    padded = symmetric_pad(image, radius, radius, radius, radius)
    height, width = image.shape[-2:]
    num = torch.zeros_like(image)
    den = torch.zeros_like(sx)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            v = padded[..., radius + dy : radius + dy + height, radius + dx : radius + dx + width]
            distance = (v - image).square().sum(1)
            w = torch.exp(-(dx * dx * a + dy * dy * b + distance * c))
            num = num + w[:, None] * v
            den = den + w
    return num / den[:, None]


class ColourNet(nn.Module):
    """The stages of an :class:`~.net.F2NNet` applied to (B, C, H, W) colour batches.

    ``forward(x)`` returns the filtered batch and the per-stage sigma maps
    (B, 3, H, W): one map per pixel, predicted from the channel mean.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = []
        for stage in self.net.stages:
            sigmas = stage(x.mean(1), self.net.window)
            maps.append(sigmas)
            x = agbf_colour(x, sigmas[:, 0], sigmas[:, 1], sigmas[:, 2], self.net.radius)
        return x, maps


class ColourFilter2Noise(Filter2Noise):
    """A fitted colour Filter2Noise: images are (H, W, C); sigma maps stay (3, H, W) per stage.

    ``sigma_r`` maps are in the image's units and apply to the Euclidean
    distance of colours.  Editing and rendering work as for grey models.
    """

    channel_last = True

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        array = np.asarray(image, np.float32)
        if array.ndim != 3:
            raise ValueError(f"expected a channel-last (H, W, C) image, got shape {array.shape}")
        from ...data.finite import fill_non_finite

        array = fill_non_finite(array, if_empty=self.offset)[0]
        unit = (array - np.float32(self.offset)) / np.float32(self.scale)
        return np.ascontiguousarray(np.moveaxis(unit, -1, 0))

    def _guide(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.mean(0))

    def _filter(self, x: np.ndarray, sx, sy, sr_units) -> np.ndarray:
        shape = x.shape[-2:]
        widths = [
            torch.from_numpy(np.array(np.broadcast_to(np.float32(s), shape)))[None]
            for s in (sx, sy, np.asarray(sr_units, np.float32) / np.float32(self.scale))
        ]
        with torch.no_grad():
            out = agbf_colour(torch.from_numpy(x)[None], *widths, self.radius)
        return out[0].numpy()

    def _denormalise(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(super()._denormalise(x), 0, -1))

    def apply_lazy(self, *args, **kwargs):
        """Not available for colour models: apply them to whole images (:meth:`apply`)."""
        raise ValueError("apply_lazy takes grey models; apply colour models to whole images")
