"""Filter2Noise (Sun et al. 2025): an attention-guided bilateral filter trained on the image itself.

:func:`fit_filter2noise` fits a :class:`Filter2Noise` to one noisy image;
the model's per-pixel filter widths can be edited (:func:`multiplier_maps`)
and the image re-rendered without retraining.  torch and numba load when a
model is fitted, loaded or applied.
"""

from .fit import denoise_filter2noise, fit_filter2noise
from .model import Filter2Noise, multiplier_maps
from .spec import SPECS

__all__ = ["SPECS", "Filter2Noise", "denoise_filter2noise", "fit_filter2noise", "multiplier_maps"]
