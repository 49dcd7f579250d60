"""napari-tweedie: self-supervised denoisers and diffusion inverse solvers for napari.

The core (everything but ``_widgets``) imports neither napari nor Qt.

>>> import napari_tweedie as nt
>>> clean = nt.denoise(noisy, "tv")                      # doctest: +SKIP
"""

from .api import denoise, denoise_lazy, denoise_steps
from .denoisers import DENOISERS
from .noise import NOISE_MODELS
from .steps import Step, run

__version__ = "0.1.0"

__all__ = [
    "DENOISERS",
    "NOISE_MODELS",
    "Step",
    "__version__",
    "denoise",
    "denoise_lazy",
    "denoise_steps",
    "run",
]
