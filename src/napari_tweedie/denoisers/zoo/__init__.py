"""bioimage.io (BioImage Model Zoo) packages as denoisers: ``nt.denoise(y, "bioimageio")``."""

from .spec import SPECS

__all__ = ["SPECS"]
