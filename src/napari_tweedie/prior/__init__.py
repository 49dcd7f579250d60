"""The bundled diffusion prior: a noise-conditional denoiser ``D(x, sigma)`` for images on [0, 1].

Any Gaussian denoiser is a prior: the score is ``(D(x, sigma) - x) / sigma**2``.
:func:`load_prior` returns a :class:`PriorDenoiser` whose call gives the Tweedie
estimate ``E[x0 | x]`` for ``x = x0 + sigma * n``; see ``weights/MODEL_CARD.md``
for how it was trained.
"""

from .bundled import WEIGHTS_PATH, PriorDenoiser, load_prior, pick_device, weights_missing_message
from .network import EDMDenoiser, NetConfig, UNet

__all__ = [
    "WEIGHTS_PATH",
    "EDMDenoiser",
    "NetConfig",
    "PriorDenoiser",
    "UNet",
    "load_prior",
    "pick_device",
    "weights_missing_message",
]
