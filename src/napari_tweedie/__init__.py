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

_LAZY = {
    "restore": ("restoration", "restore"),
    "restore_steps": ("restoration", "restore_steps"),
    "Restoration": ("restoration", "Restoration"),
    "OPERATORS": ("operators", "OPERATORS"),
    "SAMPLERS": ("samplers", "SAMPLERS"),
}


def __getattr__(name: str):
    """Load the torch-based diffusion solvers on first use (keeps ``import`` light)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'napari_tweedie' has no attribute {name!r}")
    from importlib import import_module

    module, attribute = _LAZY[name]
    return getattr(import_module(f".{module}", __name__), attribute)


__all__ = [
    "DENOISERS",
    "NOISE_MODELS",
    "OPERATORS",
    "SAMPLERS",
    "Restoration",
    "Step",
    "__version__",
    "denoise",
    "denoise_lazy",
    "denoise_steps",
    "restore",
    "restore_steps",
    "run",
]
