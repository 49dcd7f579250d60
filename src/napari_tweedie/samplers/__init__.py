"""Diffusion samplers (generators yielding Step, returning the image) and the registry SAMPLERS.

Every module of this package registers its sampler's :class:`SamplerSpec`;
importing the package imports them all (torch loads only when a sampler runs).
"""

from ..specs import import_submodules
from .base import Denoiser, karras_sigmas
from .spec import SAMPLERS, SamplerSpec, register

import_submodules(__name__, __path__)

__all__ = ["SAMPLERS", "Denoiser", "SamplerSpec", "karras_sigmas", "register"]
