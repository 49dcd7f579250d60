"""Noise2Score (Kim & Ye, NeurIPS 2021): a score network fitted to noisy images + Tweedie's formula.

:func:`fit_noise2score` fits a :class:`Noise2Score` model to a dataset of
noisy images (no clean ones); ``model.denoise(images)`` inverts the noise
with the noise model's Tweedie formula.  torch loads with
:func:`fit_noise2score`, :class:`Noise2Score` and :func:`lattice_step`.

>>> gen = fit_noise2score(stack, noise="poisson", minutes=5)   # doctest: +SKIP
>>> model = run(gen, callback=show_preview)                    # doctest: +SKIP
>>> clean = model.denoise(stack)                               # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .spec import DEFAULTS, SPECS, denoise_noise2score, denoise_noise2score_lazy

if TYPE_CHECKING:
    from .fit import fit_noise2score, lattice_step
    from .model import Noise2Score

__getattr__ = lazy_exports(
    __name__, {"Noise2Score": "model", "fit_noise2score": "fit", "lattice_step": "fit"}
)

__all__ = [
    "DEFAULTS",
    "SPECS",
    "Noise2Score",
    "denoise_noise2score",
    "denoise_noise2score_lazy",
    "fit_noise2score",
    "lattice_step",
]
