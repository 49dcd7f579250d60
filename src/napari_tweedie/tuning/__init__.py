"""Tuning without a clean image: SURE/PURE risk estimates, auto-tune, posterior uncertainty.

- :mod:`.sure`: :func:`sure`, :func:`sure_map` (Stein's unbiased risk estimate
  and its Poisson and Poisson-Gaussian forms, Monte-Carlo divergence);
- :mod:`.tune`: :func:`tune`, :func:`tune_steps` (minimise that estimate over
  a method's parameters);
- :mod:`.uncertainty`: :func:`uncertainty` (per-pixel posterior std from the
  diagonal of a Tweedie denoiser's Jacobian).

No torch at import: torch loads inside the functions that need it.
"""

from .generic import sure_of
from .scores import estimated_psnr, signal_range
from .sure import sure, sure_map
from .tune import tunable_params, tune, tune_steps
from .uncertainty import uncertainty

__all__ = [
    "estimated_psnr",
    "signal_range",
    "sure",
    "sure_map",
    "sure_of",
    "tunable_params",
    "tune",
    "tune_steps",
    "uncertainty",
]
