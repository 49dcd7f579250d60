"""Orthonormal opponent colour transform: decorrelates RGB while keeping white noise white.

Colour denoisers (CBM3D's YCbCr step, Dabov et al. 2007) work in a luminance /
chrominance space where the signal's channels are nearly uncorrelated.  Here the
transform is orthonormal, so i.i.d. Gaussian noise of standard deviation sigma in
RGB stays i.i.d. with the same sigma in the opponent space, and a Gaussian
denoiser can run on each opponent channel with the RGB sigma unchanged.
"""

from __future__ import annotations

import numpy as np

_OPPONENT = np.array(
    [
        [1.0, 1.0, 1.0],
        [1.0, 0.0, -1.0],
        [1.0, -2.0, 1.0],
    ]
) / np.array([[np.sqrt(3.0)], [np.sqrt(2.0)], [np.sqrt(6.0)]])


def opponent_matrix(channels: int) -> np.ndarray:
    """The (C, C) orthonormal decorrelating matrix for ``channels`` channels.

    Three channels get the opponent basis (luminance, red-blue, green-magenta);
    any other count gets the identity (no known correlation to remove).
    """
    if channels == 3:
        return _OPPONENT.astype(np.float32)
    return np.eye(channels, dtype=np.float32)


def to_opponent(image: np.ndarray) -> np.ndarray:
    """Opponent colour transform of a channel-last image ``(..., C)``.

    Orthonormal: white noise of standard deviation sigma keeps sigma.
    """
    matrix = opponent_matrix(image.shape[-1])
    return np.asarray(image, dtype=np.float32) @ matrix.T


def from_opponent(image: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_opponent` (the transpose, as the matrix is orthonormal)."""
    matrix = opponent_matrix(image.shape[-1])
    return np.asarray(image, dtype=np.float32) @ matrix
