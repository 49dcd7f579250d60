"""Colour restoration: the prior per channel in an orthonormal opponent colour space.

The bundled prior is a grey-level denoiser.  For an RGB measurement each
channel of the opponent transform (:func:`~napari_tweedie.data.colour.to_opponent`,
luminance and two chrominances, as CBM3D's colour step, Dabov et al. 2007) is
restored on its own: the forward models here act on each channel alike, so
they commute with a per-pixel colour transform, and the transform is
orthonormal, so the measurement noise keeps its ``sigma_y``.  The samples are
mapped back to RGB before their mean and std are taken.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from .data.colour import from_opponent, to_opponent
from .steps import Step


def colour_restore_steps(
    y, operator: str, channel_axis: int, **settings
) -> Generator[Step, None, object]:
    """``restore_steps`` of each opponent channel of ``y``; the result with ``y``'s axes.

    ``settings`` are :func:`~napari_tweedie.restoration.restore_steps`'s other
    arguments (the same for every channel; channel ``c`` uses ``seed + c``).
    Steps count on over the channels (``i`` from 1 to channels x steps);
    their ``x0_hat`` is the current channel's estimate.
    """
    from .restoration import Restoration, restore_steps
    from .restoration_stack import renumbered

    data = np.asarray(y)
    if data.ndim != 3:
        raise ValueError(f"a colour measurement is 3-D (2-D plus channels), got {data.shape}")
    axis = int(channel_axis) % data.ndim
    opponent = to_opponent(np.moveaxis(data, axis, -1))
    channels = opponent.shape[-1]
    seed = int(settings.pop("seed", 0))
    results = []
    for c in range(channels):
        inner = restore_steps(opponent[..., c], operator, seed=seed + c, **settings)
        result = yield from renumbered(inner, c, channels, "channel")
        results.append(result)
    samples = from_opponent(np.stack([r.samples for r in results], axis=-1))
    baseline = from_opponent(np.stack([r.baseline for r in results], axis=-1))

    def back(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(array, -1, axis - data.ndim)).astype(np.float32)

    return Restoration(back(samples.mean(0)), back(samples.std(0)), back(samples), back(baseline))
