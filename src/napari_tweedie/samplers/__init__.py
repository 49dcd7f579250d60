"""Diffusion samplers (generators yielding Step, returning the image) and the registry SAMPLERS."""

from .base import Denoiser, karras_sigmas, vp_sigmas
from .diffusion import ddim, dds, diffpir, dps
from .pnp import pnp
from .red_diff import red_diff

SAMPLERS = {
    "ddim": ddim,
    "dps": dps,
    "dds": dds,
    "red_diff": red_diff,
    "diffpir": diffpir,
    "pnp": pnp,
}

__all__ = [
    "SAMPLERS",
    "Denoiser",
    "ddim",
    "dds",
    "diffpir",
    "dps",
    "karras_sigmas",
    "pnp",
    "red_diff",
    "vp_sigmas",
]
