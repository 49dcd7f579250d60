"""Driving a Noise2Score fit from a dock widget: "auto" noise, the preview crop, a graceful stop.

No Qt here; the :class:`~napari_tweedie._widgets.noise2score.Noise2ScoreWidget`
runs :func:`training_steps` in a napari worker.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import numpy as np

from ..data import ROI
from ..denoisers.noise2score import Noise2Score, fit_noise2score
from ..noise import NOISE_MODELS
from ..noise.inspection import inspect_noise
from ..steps import Step

SAMPLE_SIDE = 512


def noise_sample(data) -> np.ndarray:
    """The central (up to 512 x 512) crop of the first plane, in memory, for noise estimation."""
    plane = data[(0,) * (data.ndim - 2)]
    h, w = plane.shape
    y0, x0 = max(0, (h - SAMPLE_SIDE) // 2), max(0, (w - SAMPLE_SIDE) // 2)
    return np.asarray(plane[y0 : y0 + SAMPLE_SIDE, x0 : x0 + SAMPLE_SIDE], np.float32)


def preview_roi(shape: tuple[int, ...], index: tuple[int, ...], side: int) -> ROI:
    """A centred ``side`` x ``side`` box (at most the plane) on the plane at ``index``."""
    h, w = shape[-2:]
    sy, sx = min(side, h), min(side, w)
    y0, x0 = (h - sy) // 2, (w - sx) // 2
    lead = tuple(slice(int(i), int(i) + 1) for i in index[: len(shape) - 2])
    lead += tuple(slice(0, 1) for _ in range(len(shape) - 2 - len(lead)))
    return ROI(lead + (slice(y0, y0 + sy), slice(x0, x0 + sx)))


def training_steps(
    data,
    stop: threading.Event,
    *,
    noise: str,
    noise_params: dict[str, float | None],
    state: Noise2Score | None = None,
    **options: Any,
) -> Generator[Step, None, Noise2Score]:
    """:func:`fit_noise2score` on ``data`` that ends early, keeping the model, once ``stop`` is set.

    ``noise="auto"`` first picks the model and its parameters with
    :func:`napari_tweedie.noise.inspection.inspect_noise` on a sample of the data
    and yields a ``Step(0, 0)`` whose ``info["noise"]`` describes it.  Other
    keyword arguments go to :func:`fit_noise2score`.  ``stop`` is checked
    after every training step (the fit then returns its model, usable and resumable).
    """
    if state is not None:  # resuming: the model keeps its noise model
        noise, noise_params = state.noise_model.name, {}
    elif noise == "auto":
        found = inspect_noise(noise_sample(data))
        noise, noise_params = found.name, found.params
        yield Step(0, 0, info={"noise": found.describe()})
    names = NOISE_MODELS[noise].param_names()
    params = {k: v for k, v in noise_params.items() if k in names and v is not None}
    return (
        yield from fit_noise2score(
            data, noise=noise, noise_params=params, state=state, stop=stop.is_set, **options
        )
    )
