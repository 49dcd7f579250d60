"""Noise2Score (Kim & Ye 2021) on colour stacks: one score network for all channel planes.

A channel-last stack (..., H, W, C) becomes a dataset of grey planes, one
network fitted on all of them and each plane inverted with its own noise
level.  For Gaussian noise the channels are first rotated into the
orthonormal opponent colour space of :mod:`napari_tweedie.data.colour`
(luminance and chrominance, nearly uncorrelated for natural colour images;
white noise keeps its standard deviation, CBM3D's decorrelating step, Dabov
et al. 2007); signal-dependent noise (Poisson, Gamma) is not preserved by a
rotation, so those channels stay as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator

import numpy as np

from ...data.colour import from_opponent, to_opponent
from ...noise import noise_model_class
from ...steps import Step

__all__ = ["denoise_colour"]


def denoise_colour(
    image: np.ndarray, *, sigma: np.ndarray, noise: str, noise_params: dict, **fit_options
) -> Generator[Step, None, np.ndarray]:
    """Noise2Score on a channel-last stack (..., H, W, C); returns the estimate of its shape.

    Parameters
    ----------
    image : ndarray, shape (..., H, W, C)
        Noisy colour image or stack of them.
    sigma : ndarray, shape (C,)
        Gaussian standard deviation per channel; ``NaN`` entries (or ``None``):
        one level for all channels, estimated from the data.
    noise, noise_params
        The noise model and its other known parameters (shared by the channels).
    fit_options
        Passed to :func:`~.fit.fit_noise2score`.
    """
    from ...prior.colour import opponent_sigmas
    from .fit import fit_noise2score

    data = np.asarray(image, np.float32)
    channels = data.shape[-1]
    rotate = not noise_model_class(noise).signal_dependent
    given = sigma is not None and np.all(np.isfinite(np.asarray(sigma, np.float64)))
    levels = None
    if given:
        levels = opponent_sigmas(sigma, channels) if rotate else np.asarray(sigma, np.float64)
    planes = np.moveaxis(to_opponent(data) if rotate else data, -1, 0)
    shared = dict(noise_params)
    if "sigma" in shared:  # NaN entries: not known, estimated from the data
        shared["sigma"] = float(np.sqrt(np.mean(np.square(levels)))) if given else None
    model = yield from fit_noise2score(planes, noise=noise, noise_params=shared, **fit_options)
    out = np.empty_like(planes)
    for c in range(channels):
        fitted = model.noise_model
        if levels is not None and "sigma" in shared:
            fitted = dataclasses.replace(fitted, sigma=float(levels[c]))
        out[c] = model.denoise(planes[c], fitted)
    out = np.moveaxis(out, 0, -1)
    return from_opponent(out) if rotate else out
