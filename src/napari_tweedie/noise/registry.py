"""``NOISE_MODELS``: name -> :class:`~napari_tweedie.noise.NoiseModel` class, the noise registry."""

from __future__ import annotations

import numpy as np

from .base import NoiseModel
from .models import GammaNoise, GaussianNoise, PoissonGaussianNoise, PoissonNoise

__all__ = ["NOISE_MODELS", "make_noise_model", "noise_model_class"]

#: every noise model by name; each class carries ``name``, ``summary`` and ``params``
NOISE_MODELS: dict[str, type[NoiseModel]] = {
    cls.name: cls for cls in (GaussianNoise, PoissonNoise, PoissonGaussianNoise, GammaNoise)
}


def noise_model_class(name: str) -> type[NoiseModel]:
    """``NOISE_MODELS[name]``, with a ValueError naming the choices for an unknown ``name``."""
    if name not in NOISE_MODELS:
        raise ValueError(f"unknown noise {name!r}; expected one of {tuple(NOISE_MODELS)}")
    return NOISE_MODELS[name]


def make_noise_model(name: str, image: np.ndarray | None = None, **params: float) -> NoiseModel:
    """The noise model ``name`` with ``params``; with ``image``, missing ones are estimated.

    Parameters are named as in :func:`napari_tweedie.denoise`: ``sigma``
    (gaussian), ``zeta`` (poisson), ``zeta`` and ``sigma`` (poisson_gaussian),
    ``k`` (gamma).
    """
    cls = noise_model_class(name)
    return cls(**params) if image is None else cls.estimate(image, **params)
