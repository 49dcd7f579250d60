"""Which prior a ``prior=`` argument means: the bundled network, a registry denoiser, or a callable.

``"bioimageio:PATH"`` is a Gaussian denoiser bioimage.io package (:mod:`.bioimageio`).

Everything is a :class:`~napari_tweedie.samplers.Denoiser`: ``D(x, sigma)``
on images in [0, 1] (B, 1, H, W), ``sigma`` per batch item.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

#: names of the bundled network: plain, and averaged over 8 flips/rotations (8x slower)
BUNDLED_PRIORS = ("default", "default-x8")


class RegistryDenoiser:
    """A registry (classical or fitted) denoiser used as a Gaussian prior, item by item.

    Not differentiable: fine for DDIM, DDS, DiffPIR and RED-Diff, not for DPS.
    """

    differentiable = False

    def __init__(self, method: str, **params):
        from ..denoisers import DENOISERS

        if method not in DENOISERS:
            raise ValueError(
                f"unknown prior {method!r}: use {' or '.join(map(repr, BUNDLED_PRIORS))}, "
                f"a callable or one of {sorted(DENOISERS)}"
            )
        self.spec = DENOISERS[method]
        files = [p.name for p in self.spec.params if p.kind == "path" and p.name not in params]
        if files:
            raise ValueError(
                f"prior {method!r} needs a file ({', '.join(files)}); a bioimage.io package "
                "is a prior as prior='bioimageio:PATH'"
            )
        self.spec.check_available()
        self.params = self.spec.defaults() | params

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor:
        from ..steps import run

        out = torch.empty_like(x)
        for index in range(x.shape[0]):
            image = x[index, 0].detach().cpu().numpy().astype(np.float32)
            result = self.spec.func(image, sigma=float(sigma[index]), seed=index, **self.params)
            if self.spec.iterative:
                result = run(result)
            out[index, 0] = torch.from_numpy(np.asarray(result, np.float32))
        return out


def get_prior(prior: str | Callable = "default", device: str | torch.device = "auto") -> Callable:
    """The denoiser behind a ``prior=`` argument of :func:`napari_tweedie.restore`."""
    if callable(prior):
        return prior
    if isinstance(prior, str) and prior.startswith("bioimageio:"):
        from .bioimageio import PREFIX, BioimageioPrior

        return BioimageioPrior(prior.removeprefix(PREFIX))
    if prior in BUNDLED_PRIORS:
        from .bundled import load_prior
        from .ensemble import SelfEnsemble

        network = load_prior(device=device)
        return network if prior == "default" else SelfEnsemble(network)
    return RegistryDenoiser(prior)
