"""Forward models ``A`` (with adjoints and noise) for the diffusion inverse solvers.

``OPERATORS`` maps the names of ``napari_tweedie.restore(y, operator, ...)`` to
factories ``factory(y_shape, **params) -> LinearOperator`` that infer the image
shape from the measurement's shape (and parameters).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .base import LinearOperator, conjugate_gradient, inner
from .ct import Radon, view_angles
from .mri import CartesianMRI, cartesian_mask
from .simple import Blur, Identity, Inpaint, SuperResolution, gaussian_psf, motion_psf


def _denoise(y_shape, sigma_y: float = 0.0) -> Identity:
    return Identity(y_shape, sigma_y)


def _blur(
    y_shape,
    psf=None,
    sigma_blur: float | None = None,
    motion: int | None = None,
    motion_angle: float = 0.0,
    sigma_y: float = 0.0,
) -> Blur:
    if psf is None:
        if motion:
            psf = motion_psf(int(motion), motion_angle)
        else:
            psf = gaussian_psf(2.0 if sigma_blur is None else float(sigma_blur))
    return Blur(y_shape, psf, sigma_y)


def _inpaint(y_shape, mask=None, sigma_y: float = 0.0) -> Inpaint:
    if mask is None:
        raise ValueError("inpaint needs mask= (1 where a pixel is observed)")
    return Inpaint(y_shape, mask, sigma_y)


def _superres(y_shape, factor: int = 4, sigma_y: float = 0.0) -> SuperResolution:
    return SuperResolution(tuple(int(n) * int(factor) for n in y_shape), factor, sigma_y)


def _ct(
    y_shape,
    angles=None,
    size: int | None = None,
    sigma_y: float = 0.0,
    photons: float | None = None,
    limited: float = 180.0,
    attenuation: float | None = None,
) -> Radon:
    n_angles, detectors = y_shape
    angles = n_angles if angles is None else angles
    if np.ndim(angles) == 0 and int(angles) != n_angles:
        raise ValueError(f"the sinogram has {n_angles} angles, not {angles}")
    if size is None:
        shape = (_side_for(detectors),) * 2
    else:
        shape = tuple(int(n) for n in np.broadcast_to(np.asarray(size), (2,)))
    op = Radon(shape, angles, sigma_y, photons, limited, attenuation)
    if op.diagonal != detectors:
        raise ValueError(
            f"sinogram width {detectors} does not fit a {shape[0]}x{shape[1]} image "
            f"(expects {op.diagonal}); pass size="
        )
    return op


def _side_for(detectors: int) -> int:
    """The square image side whose padded diagonal is ``detectors`` (see :class:`Radon`)."""
    guess = int(np.floor(detectors / np.sqrt(2)))
    for side in range(guess + 2, max(guess - 3, 0), -1):
        if Radon((side, side), 1).diagonal == detectors:
            return side
    return guess


def _mri(
    y_shape, mask=None, acceleration: float = 4.0, sigma_y: float = 0.0, seed: int = 0
) -> CartesianMRI:
    return CartesianMRI(y_shape, mask, acceleration, sigma_y, seed)


OPERATORS: dict[str, Callable[..., LinearOperator]] = {
    "denoise": _denoise,
    "blur": _blur,
    "inpaint": _inpaint,
    "superres": _superres,
    "ct": _ct,
    "mri": _mri,
}


def make_operator(name: str, y_shape: tuple[int, ...], **params) -> LinearOperator:
    """Build the operator ``name`` for a measurement of shape ``y_shape`` (last two axes)."""
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; available: {', '.join(OPERATORS)}")
    return OPERATORS[name](tuple(int(n) for n in y_shape[-2:]), **params)


def operator_for_image(name: str, image_shape: tuple[int, ...], **params) -> LinearOperator:
    """Build the operator ``name`` for an unknown image of shape ``image_shape`` (simulation)."""
    image_shape = tuple(int(n) for n in image_shape[-2:])
    if name == "superres":
        factor = int(params.pop("factor", 4))
        return SuperResolution(image_shape, factor, **params)
    if name == "ct":
        params.pop("size", None)
        return Radon(image_shape, **params)
    return make_operator(name, image_shape, **params)


__all__ = [
    "OPERATORS",
    "Blur",
    "CartesianMRI",
    "Identity",
    "Inpaint",
    "LinearOperator",
    "Radon",
    "SuperResolution",
    "cartesian_mask",
    "conjugate_gradient",
    "gaussian_psf",
    "inner",
    "make_operator",
    "operator_for_image",
    "motion_psf",
    "view_angles",
]
