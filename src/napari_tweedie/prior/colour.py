"""The bundled prior on colour images: one grey denoiser per channel of an opponent colour space.

The network is a grey Gaussian denoiser.  A channel-last (H, W, C) image is
rotated by the orthonormal opponent transform of
:mod:`napari_tweedie.data.colour` (luminance and two chrominance axes for RGB,
as in CBM3D's decorrelating step, Dabov et al. 2007), each opponent plane is
denoised with its own noise level and value range, and the result is rotated
back.  The transform is orthonormal, so white noise of the same standard
deviation in every channel keeps it in every opponent channel; with unequal
channel sigmas each opponent channel gets the standard deviation of its own
mixture (the small correlations between them are ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..data.colour import from_opponent, opponent_matrix, to_opponent

__all__ = ["colour_ranges", "denoise_colour", "opponent_sigmas"]


def opponent_sigmas(sigma: float | Sequence[float], channels: int) -> np.ndarray:
    """Noise standard deviation of each opponent channel for per-channel ``sigma`` (C,)."""
    sigma = np.broadcast_to(np.asarray(sigma, np.float64), (channels,))
    matrix = opponent_matrix(channels).astype(np.float64)
    return np.sqrt((matrix**2) @ sigma**2)


def colour_ranges(image: np.ndarray) -> tuple[tuple[float, float], ...]:
    """The (low, high) value range of each opponent channel of a (..., C) image."""
    from .denoiser import unit_range

    opponent = to_opponent(image)
    return tuple(unit_range(opponent[..., c]) for c in range(opponent.shape[-1]))


def denoise_colour(
    denoise: Callable[..., np.ndarray],
    image: np.ndarray,
    *,
    sigma: float | Sequence[float],
    data_range: Sequence | None = None,
    **options,
) -> np.ndarray:
    """Prior denoising of a channel-last (H, W, C) image in the opponent colour space.

    Parameters
    ----------
    denoise : callable
        The grey denoiser ``denoise(plane, sigma=..., data_range=..., **options)``.
    image : ndarray, shape (H, W, C)
        Noisy colour image, any units.
    sigma : float or sequence of C floats
        Noise standard deviation of each channel.
    data_range : sequence of C (low, high) pairs, optional
        Value range of each *opponent* channel (:func:`colour_ranges`), fixed
        once for a whole image so that every tile is scaled alike; default
        (or a single pair, a range of the colour values, which says nothing
        of the chrominance planes): those of ``image``.

    Returns
    -------
    ndarray, float32, shape (H, W, C)
    """
    data = np.asarray(image, np.float32)
    channels = data.shape[-1]
    opponent = to_opponent(data)
    levels = opponent_sigmas(sigma, channels)
    one_pair = data_range is None or np.ndim(data_range) == 1
    ranges = colour_ranges(data) if one_pair else tuple(data_range)
    if len(ranges) != channels:
        raise ValueError(f"data_range must hold one (low, high) pair per channel, got {ranges}")
    out = np.empty_like(opponent)
    for c in range(channels):
        low, high = (float(v) for v in ranges[c])
        out[..., c] = denoise(
            opponent[..., c], sigma=float(levels[c]), data_range=(low, high), **options
        )
    return from_opponent(out)
