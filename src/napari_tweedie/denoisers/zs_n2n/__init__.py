"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): a tiny network fitted to one image.

The noisy image ``y`` is split by two fixed 2x2, stride-2 diagonal averaging
filters into ``D1(y)`` (mean of the anti-diagonal pixels) and ``D2(y)`` (mean
of the diagonal pixels): two half-resolution images of the same scene with
nearly independent noise.  A residual network ``f`` (predicting the noise) is
trained on them with

- the residual loss ``1/2 (|D1 - f(D1) - D2|^2 + |D2 - f(D2) - D1|^2)``
  (Noise2Noise between the pair, in both directions) and
- the consistency loss ``1/2 (|D1 - f(D1) - D1(y - f(y))|^2 + (same for D2))``,

and the estimate is ``y - f(y)``.  :func:`fit_zs_n2n` runs the published
recipe (:data:`PAPER_RECIPE`) or the fast default one (:data:`DEFAULTS`).
The fit returns a :class:`ZSN2NModel`: the network and the normalisation it
was fitted with, which applies to other regions or a whole (lazy) array, and
saves and loads as one safetensors file.  torch loads with
:func:`fit_zs_n2n`, :class:`ZSN2NModel`, :class:`ZSN2NNet` and
:func:`zs_n2n_losses`.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .spec import DEFAULTS, PAPER_RECIPE, SPECS, denoise_zs_n2n

if TYPE_CHECKING:
    from .fit import fit_zs_n2n
    from .model import ZSN2NModel
    from .net import ZSN2NNet, zs_n2n_losses

__getattr__ = lazy_exports(
    __name__,
    {"ZSN2NModel": "model", "fit_zs_n2n": "fit", "ZSN2NNet": "net", "zs_n2n_losses": "net"},
)

__all__ = [
    "DEFAULTS",
    "PAPER_RECIPE",
    "SPECS",
    "ZSN2NModel",
    "ZSN2NNet",
    "denoise_zs_n2n",
    "fit_zs_n2n",
    "zs_n2n_losses",
]
