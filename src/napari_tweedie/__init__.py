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

#: module -> the public names it defines, each imported on first access
_MODULES = {
    "api": ("denoise", "denoise_lazy", "denoise_steps"),
    "denoisers": ("DENOISERS",),
    "noise": ("NOISE_MODELS",),
    "steps": ("Step", "run"),
    "restoration": ("restore", "restore_steps", "Restoration"),
    "restoration_stack": ("restore_stack", "restore_stack_steps"),
    "operators": ("OPERATORS",),
    "samplers": ("SAMPLERS",),
    "tuning": ("sure", "sure_map", "tune", "uncertainty"),
    "bioimageio.export": ("export_bioimageio",),
}
#: public name -> the module defining it
_PUBLIC = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str):
    """Import the module behind a public name on first use."""
    if name not in _PUBLIC:
        raise AttributeError(f"module 'napari_tweedie' has no attribute {name!r}")
    return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted([*_PUBLIC, "__version__"])
