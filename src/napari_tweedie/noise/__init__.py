"""Noise models: ``NOISE_MODELS`` and what each model owns (no Qt; torch only on first use).

Conventions (``x`` the clean image, ``y`` the measurement):

- ``gaussian``: ``y = x + sigma * n``
- ``poisson``: ``y = zeta * Poisson(x / zeta)``
- ``poisson_gaussian``: ``y = zeta * Poisson(x / zeta) + sigma * n``
- ``gamma``: ``y = x * Gamma(k, 1 / k)`` (mean 1, variance ``1 / k``)

Modules: :mod:`.base` (the :class:`NoiseModel` interface), :mod:`.models`
(the models: sampling, likelihood, Tweedie inversion), :mod:`.registry`,
:mod:`.vst` (variance-stabilising transforms), :mod:`.blocks` and
:mod:`.estimation` (parameter estimation), :mod:`.inspection` (variance
curve, "auto" model choice), :mod:`.setup` (the noise set-up of
:func:`napari_tweedie.denoise`).
"""

from .base import NoiseModel
from .models import GammaNoise, GaussianNoise, PoissonGaussianNoise, PoissonNoise
from .registry import NOISE_MODELS, make_noise_model, noise_model_class

__all__ = [
    "NOISE_MODELS",
    "GammaNoise",
    "GaussianNoise",
    "NoiseModel",
    "PoissonGaussianNoise",
    "PoissonNoise",
    "make_noise_model",
    "noise_model_class",
]
