"""napari-tweedie: self-supervised denoisers and diffusion inverse solvers for napari.

The core (everything but ``_widgets``) imports neither napari nor Qt.  Every
public name loads on first use, so ``import napari_tweedie`` stays fast and
torch, numba and dask.distributed are imported only by the methods that need
them.

>>> import napari_tweedie as nt
>>> clean = nt.denoise(noisy, "tv")                      # doctest: +SKIP
"""

from importlib import import_module

__version__ = "0.1.0"

#: public name -> (module, attribute), imported on first access
_PUBLIC = {
    "denoise": ("api", "denoise"),
    "denoise_lazy": ("api", "denoise_lazy"),
    "denoise_steps": ("api", "denoise_steps"),
    "DENOISERS": ("denoisers", "DENOISERS"),
    "NOISE_MODELS": ("noise", "NOISE_MODELS"),
    "Step": ("steps", "Step"),
    "run": ("steps", "run"),
    "restore": ("restoration", "restore"),
    "restore_steps": ("restoration", "restore_steps"),
    "Restoration": ("restoration", "Restoration"),
    "OPERATORS": ("operators", "OPERATORS"),
    "SAMPLERS": ("samplers", "SAMPLERS"),
    "sure": ("tuning", "sure"),
    "sure_map": ("tuning", "sure_map"),
    "tune": ("tuning", "tune"),
    "uncertainty": ("tuning", "uncertainty"),
}


def __getattr__(name: str):
    """Import the module behind a public name on first use."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'napari_tweedie' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    return getattr(import_module(f".{module}", __name__), attribute)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted([*_PUBLIC, "__version__"])
