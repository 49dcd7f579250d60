"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023) as a plain torch module (bioimage.io).

``napari-tweedie export`` writes this file as is into the bioimage.io package (the
architecture of the ``pytorch_state_dict`` weights), so it imports nothing but torch and the
standard library, and it compiles with ``torch.jit.script`` (the ``torchscript`` weights).
The module takes a batch ``(B, 1, H, W)`` in the data's units and returns the denoised
batch, with everything napari-tweedie does around the network: the data normalisation, the
residual network and the 8-fold flip/rotation ensemble."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ZSN2NNet"]

# --- zero-shot Noise2Noise: a tiny residual network -----------------------------------------


def _dihedral(x: Tensor, k: int, inverse: bool) -> Tensor:
    """Symmetry ``k`` (0..7) of the square: ``k % 4`` quarter turns, then a flip if ``k >= 4``."""
    turns, flip = k % 4, k >= 4
    if not inverse:
        x = torch.rot90(x, turns, [-2, -1])
        return torch.flip(x, [-1]) if flip else x
    x = torch.flip(x, [-1]) if flip else x
    return torch.rot90(x, -turns, [-2, -1])


class ZSN2NNet(nn.Module):
    """Zero-shot Noise2Noise (Mansour & Heckel 2023): ``y - net(y)``, optionally 8 symmetries."""

    def __init__(self, channels: int = 48, ensemble: bool = True, offset: float = 0.0,
                 scale: float = 1.0):  # fmt: skip
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv3 = nn.Conv2d(channels, 1, 1)
        self.count = 8 if ensemble else 1
        self.offset, self.scale = float(offset), float(scale)

    def estimate(self, v: Tensor) -> Tensor:
        h = F.leaky_relu(self.conv1(v), 0.2)
        return v - self.conv3(F.leaky_relu(self.conv2(h), 0.2))

    def forward(self, x: Tensor) -> Tensor:
        y = (x - self.offset) / self.scale
        total = torch.zeros_like(y)
        for k in range(self.count):
            total += _dihedral(self.estimate(_dihedral(y, k, False)), k, True)
        return (total / self.count) * self.scale + self.offset
