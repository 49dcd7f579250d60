"""Zero-shot Noise2Noise (Mansour & Heckel 2023): array layouts of planes, colour and volumes.

The network works on ``(1, C, H, W)`` (planes) or ``(1, C, Z, H, W)``
(volumes) tensors; images arrive as (H, W), channel-last (H, W, C), (Z, Y, X)
or (Z, Y, X, C) arrays.  Colour images keep one normalisation for all
channels (the range of the whole image), so the channels stay comparable.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["check_image", "crop_z", "from_tensor", "to_tensor"]


def check_image(data: np.ndarray, channel_last: bool, volumetric: bool) -> None:
    """Raise ``ValueError`` unless ``data`` has the layout's dimensions and >= 4x4 planes."""
    ndim = 2 + int(channel_last) + int(volumetric)
    plane = data.shape[-3:-1] if channel_last else data.shape[-2:]
    if data.ndim != ndim or min(plane, default=0) < 4:
        kind = ("3-D (Z, Y, X" if volumetric else "2-D (H, W") + (", C)" if channel_last else ")")
        raise ValueError(f"expected a {kind} image of at least 4x4 pixels, got shape {data.shape}")


def to_tensor(data: np.ndarray, channel_last: bool) -> torch.Tensor:
    """``(1, C, [Z,] H, W)`` float32 tensor of an image (channel axis last if ``channel_last``)."""
    array = np.moveaxis(data, -1, 0) if channel_last else data[None]
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None]


def from_tensor(t: torch.Tensor, channel_last: bool) -> np.ndarray:
    """The inverse of :func:`to_tensor` (float32 numpy array)."""
    array = t[0].numpy()
    return np.ascontiguousarray(np.moveaxis(array, 0, -1) if channel_last else array[0])


def crop_z(y: torch.Tensor, size: int, generator: torch.Generator | None) -> torch.Tensor:
    """A window of ``size`` slices of a (N, C, Z, H, W) tensor: random, or central without RNG."""
    if y.ndim != 5 or size <= 0 or y.shape[2] <= size:
        return y
    depth = y.shape[2]
    if generator is None:
        start = (depth - size) // 2
    else:
        start = int(torch.randint(0, depth - size + 1, (1,), generator=generator))
    return y[:, :, start : start + size]
