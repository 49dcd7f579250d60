"""A Gaussian-denoiser bioimage.io package as a prior ``D(x, sigma)`` (``prior="bioimageio:PATH"``).

A package trained (or fitted) to remove Gaussian noise of one standard
deviation ``sigma0`` (in its input's units) becomes a denoiser at any
``sigma`` by the scaling argument of Kadkhodaie & Simoncelli / DRUNet-style
noise-level adaptation: around a centre ``c``, the image ``c + g (x - c)``
with ``g = sigma0 / sigma`` carries noise of ``sigma0``, so::

    D(x, sigma) = c + (D0(c + g (x - c)) - c) / g

(exact when the prior is scale-invariant about ``c``; best for ``sigma``
near ``sigma0``).  Where the package learned its data on a range
``[low, high]`` other than the solvers' [0, 1], images are mapped there
first.  Both ``sigma0`` and the range come from the package's
``config.napari_tweedie`` (``sigma``, ``data_range``: packages exported by
this plugin from a Gaussian Noise2Score model have them), or are given to
:class:`BioimageioPrior` (``sigma=``, ``data_range=``).  The package runs
through :class:`~napari_tweedie.bioimageio.runner.BioimageioModel` (see there
for what loading executes).  Not differentiable (no DPS).
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor

__all__ = ["PREFIX", "BioimageioPrior"]

#: ``prior=`` strings starting with this name a package path
PREFIX = "bioimageio:"


class BioimageioPrior:
    """A bioimage.io Gaussian denoiser package as a prior ``D(x, sigma)`` on [0, 1] images.

    Parameters
    ----------
    source : path-like
        The package.
    sigma : float, optional
        Its noise level ``sigma0`` in its input's units (default: the
        package's ``config.napari_tweedie.sigma``).
    data_range : (float, float), optional
        The range of its input data (default: ``config.napari_tweedie.data_range``, else [0, 1]).
    trust_code : bool
        Allow ``pytorch_state_dict`` weights (runs the package's Python code).
    """

    differentiable = False

    def __init__(
        self,
        source: str | os.PathLike,
        *,
        sigma: float | None = None,
        data_range: tuple[float, float] | None = None,
        trust_code: bool = False,
    ):
        from ..bioimageio.runner import BioimageioModel

        self.model = BioimageioModel(source, trust_code=trust_code)
        config = self.model.config.get("napari_tweedie") or {}
        sigma = config.get("sigma") if sigma is None else sigma
        if sigma is None or not float(sigma) > 0:
            raise ValueError(
                f"{source}: the package's noise level is unknown, so it cannot serve as a "
                "Gaussian prior; give BioimageioPrior(path, sigma=...) or set "
                "config.napari_tweedie.sigma (noise standard deviation in its input's units)"
            )
        self.sigma0 = float(sigma)
        low, high = data_range or config.get("data_range") or (0.0, 1.0)
        self.low, self.span = float(low), float(high) - float(low)
        if not self.span > 0:
            raise ValueError(f"{source}: data_range {low, high} is empty")

    def __call__(self, x: Tensor, sigma: Tensor) -> Tensor:
        """``E[x0 | x]`` for ``x = x0 + sigma n`` (B, 1, H, W) on [0, 1], ``sigma`` per item."""
        sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1).expand(x.shape[0])
        out = torch.empty_like(x)
        for index in range(x.shape[0]):
            image = x[index, 0].detach().cpu().double().numpy()
            out[index, 0] = torch.from_numpy(self._denoise(image, float(sigma[index])))
        return out

    def _denoise(self, image: np.ndarray, sigma: float) -> np.ndarray:
        units = self.low + self.span * image  # the package's units
        gain = self.sigma0 / max(sigma * self.span, 1e-12)
        centre = self.low + 0.5 * self.span
        scaled = (centre + gain * (units - centre)).astype(np.float32)
        result = centre + (self.model(scaled).astype(np.float64) - centre) / gain
        return ((result - self.low) / self.span).astype(np.float32)
