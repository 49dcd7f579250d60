"""Forward models ``A`` (with adjoints and noise) for the diffusion inverse solvers.

``OPERATORS`` maps the names of ``napari_tweedie.restore(y, operator, ...)`` to
an :class:`OperatorSpec`; every module of this package registers its own (:func:`operator`).
"""

from __future__ import annotations

from ..specs import import_submodules
from .base import LinearOperator, conjugate_gradient, inner
from .blur import Blur, gaussian_psf, motion_psf
from .ct import Radon, view_angles
from .denoise import Identity
from .inpaint import Inpaint
from .mri import CartesianMRI, cartesian_mask
from .spec import OPERATORS, OperatorSpec, operator, register
from .superres import SuperResolution

import_submodules(__name__, __path__)


def operator_spec(name: str) -> OperatorSpec:
    """The spec of operator ``name``; a ``ValueError`` naming the choices if there is none."""
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; available: {', '.join(OPERATORS)}")
    return OPERATORS[name]


def make_operator(name: str, y_shape: tuple[int, ...], **params) -> LinearOperator:
    """Build the operator ``name`` for a measurement of shape ``y_shape`` (last two axes)."""
    return operator_spec(name).for_measurement(y_shape, **params)


def operator_for_image(name: str, image_shape: tuple[int, ...], **params) -> LinearOperator:
    """Build the operator ``name`` for an unknown image of shape ``image_shape`` (simulation)."""
    return operator_spec(name).for_image(image_shape, **params)


__all__ = [
    "OPERATORS",
    "Blur",
    "CartesianMRI",
    "Identity",
    "Inpaint",
    "LinearOperator",
    "OperatorSpec",
    "Radon",
    "SuperResolution",
    "cartesian_mask",
    "conjugate_gradient",
    "gaussian_psf",
    "inner",
    "make_operator",
    "motion_psf",
    "operator_for_image",
    "operator_spec",
    "operator",
    "register",
    "view_angles",
]
