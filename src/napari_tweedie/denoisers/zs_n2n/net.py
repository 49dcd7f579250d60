"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): network and losses.

:class:`ZSN2NNet` is the paper's tiny residual network (two 3x3 convolutions
and a 1x1, predicting the noise); :func:`zs_n2n_losses` are the residual and
consistency losses on the two half-resolution images of
:func:`~napari_tweedie.denoisers.fitting.pair_downsample`.  The fit lives in
:mod:`.fit`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..fitting import pair_downsample

__all__ = ["ZSN2NNet", "zs_n2n_losses"]


class ZSN2NNet(nn.Module):
    """The ZS-N2N network (Mansour & Heckel 2023): conv3x3-LReLU-conv3x3-LReLU-conv1x1.

    It predicts the noise; the denoised image is ``y - net(y)``.  Weights are
    drawn from ``generator`` with PyTorch's default convolution initialisation.
    ``image_channels`` is the number of image channels in and out (colour:
    3).  ``z_layers`` makes it a volume network on (N, C, Z, Y, X): that many
    of the two 3x3 convolutions also span 3 slices in Z (2: fully 3-D, 1:
    2.5-D, the first layer sees the neighbouring slices); 0: a 2-D network.
    """

    def __init__(
        self,
        channels: int = 48,
        generator: torch.Generator | None = None,
        *,
        image_channels: int = 1,
        z_layers: int = 0,
    ) -> None:
        super().__init__()
        if not 0 <= z_layers <= 2:
            raise ValueError(f"z_layers must be 0, 1 or 2, got {z_layers}")
        self.z_layers = int(z_layers)
        if z_layers:
            k1, k2 = (3, 3, 3), (3 if z_layers == 2 else 1, 3, 3)
            pad1, pad2 = (1, 1, 1), (k2[0] // 2, 1, 1)
            conv = nn.Conv3d
        else:
            k1 = k2 = 3
            pad1 = pad2 = 1
            conv = nn.Conv2d
        self.conv1 = conv(image_channels, channels, k1, padding=pad1)
        self.conv2 = conv(channels, channels, k2, padding=pad2)
        self.conv3 = conv(channels, image_channels, 1)
        with torch.no_grad():
            for layer in (self.conv1, self.conv2, self.conv3):
                fan_in = layer.weight[0].numel()
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        return self.conv3(x)


def zs_n2n_losses(net: nn.Module, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Residual and consistency losses of ZS-N2N (Mansour & Heckel 2023) on ``(N, C, [Z,] H, W)``.

    Both sub-images go through the network in one batch; volumes are
    downsampled in-plane only (each slice keeps its own pair of sub-images).
    """
    d1, d2 = pair_downsample(y)
    pair = torch.cat([d1, d2])
    denoised = pair - net(pair)
    p1, p2 = denoised.chunk(2)
    residual = (F.mse_loss(p1, d2) + F.mse_loss(p2, d1)) / 2
    e1, e2 = pair_downsample(y - net(y))
    consistency = (F.mse_loss(p1, e1) + F.mse_loss(p2, e2)) / 2
    return residual, consistency
