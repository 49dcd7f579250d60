"""Noise set-up of the denoising API: the noise level and variance stabilisation around a method.

:func:`resolve_noise` turns a noise model (a name of ``NOISE_MODELS``) and a
small sample of the image (:func:`sample_planes`) into a :class:`NoiseSetup`:
the ``sigma`` handed to the method and, for non-Gaussian noise, the model's
variance-stabilising transform (generalised Anscombe, log for Gamma) applied
around Gaussian-only methods.  Unknown parameters are estimated by the
model's own estimator (Immerkaer's block estimator for ``sigma``).  Used by
:mod:`napari_tweedie.api`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..data.finite import fill_non_finite
from ..steps import Step, map_steps
from .estimation import estimate_sigma
from .registry import noise_model_class
from .vst import Stabilizer

if TYPE_CHECKING:
    from ..denoisers import DenoiserSpec

__all__ = [
    "SAMPLE_PLANE",
    "NoiseSetup",
    "finite_sample",
    "noise_keywords",
    "resolve_noise",
    "sample_planes",
]

SAMPLE_PLANE = 1024


@dataclass(frozen=True)
class NoiseSetup:
    """How a Gaussian denoiser sees the data: its ``sigma`` and an optional stabiliser."""

    sigma: float
    stabilizer: Stabilizer | None = None
    image_sigma: float | None = None  # non-Gaussian noise: a typical std in the image's units

    def resolve(self, spec: DenoiserSpec, sample: np.ndarray, params: dict) -> dict:
        """Fill data-dependent defaults of ``params`` once, from a sample of the whole image."""
        if spec.resolve is None:
            return params
        if self.stabilizer is not None and spec.gaussian_only:
            return spec.resolve(self.stabilizer.forward(sample), self.sigma, params)
        return spec.resolve(sample, self._raw_sigma(), params)

    def _raw_sigma(self) -> float:
        """The noise level in the image's units (for methods that take the raw data)."""
        return self.sigma if self.image_sigma is None else self.image_sigma

    def apply_steps(
        self, spec: DenoiserSpec, plane: np.ndarray, seed: int, params: dict
    ) -> Generator[Step, None, np.ndarray]:
        """Denoise one finite float32 plane (a tile or a slice), passing on a method's steps.

        Previews (``x0_hat``) are mapped back through the stabiliser's inverse.
        """
        stabilizer = self.stabilizer if spec.gaussian_only else None
        data = stabilizer.forward(plane) if stabilizer else plane
        # a method that takes the raw data takes its noise level in the same units
        sigma = self.sigma if stabilizer else self._raw_sigma()
        result = spec.func(data, sigma=sigma, seed=seed, **params)
        if spec.iterative:
            result = yield from map_steps(result, partial(_preview_inverse, stabilizer))
        result = np.asarray(result, dtype=np.float32)
        return stabilizer.inverse(result) if stabilizer else result


def _preview_inverse(stabilizer: Stabilizer | None, step: Step) -> Step:
    """``step`` with its preview (``x0_hat``) mapped back through the stabiliser's inverse."""
    if stabilizer is None or step.x0_hat is None:
        return step
    return replace(step, x0_hat=stabilizer.inverse(np.asarray(step.x0_hat)))


def sample_planes(image) -> np.ndarray:
    """A small, representative in-memory sample of a large image for noise estimation."""
    planes = image.reshape((-1,) + image.shape[-2:])
    picks = np.unique(np.linspace(0, planes.shape[0] - 1, min(4, planes.shape[0])).astype(int))
    h, w = image.shape[-2:]
    y0, x0 = max(0, (h - SAMPLE_PLANE) // 2), max(0, (w - SAMPLE_PLANE) // 2)
    window = planes[picks, y0 : y0 + SAMPLE_PLANE, x0 : x0 + SAMPLE_PLANE]
    return np.asarray(window.compute() if hasattr(window, "compute") else window, np.float32)


def noise_keywords(noise: str) -> tuple[str, ...]:
    """Keyword arguments of :func:`napari_tweedie.denoise` that set ``noise``'s parameters.

    ``sigma`` is not among them: it is an argument of its own.
    """
    return tuple(n for n in noise_model_class(noise).param_names() if n != "sigma")


def resolve_noise(sample: np.ndarray, noise: str, sigma: float | None, noise_params: dict):
    """The :class:`NoiseSetup` for ``noise``, estimating unknown parameters from ``sample``.

    A noise parameter left at ``None`` (or 0) is estimated; ``sigma`` (``None``:
    estimated) is used where the model has one.
    """
    finite = finite_sample(sample)
    cls = noise_model_class(noise)
    known = {name: float(value) for name, value in noise_params.items() if value}
    if "sigma" in cls.param_names():
        known["sigma"] = None if sigma is None else float(sigma)
    model = cls.estimate(finite, **known)
    stabilizer = model.stabilizer()
    if stabilizer is None:  # additive Gaussian noise: the methods' own model
        level = model.sigma
        if level < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        scale = float(np.ptp(finite)) or 1.0
        return NoiseSetup(max(level, 1e-6 * scale))
    typical = estimate_sigma(finite)  # signal-dependent: an image-wide average
    return NoiseSetup(stabilizer.stabilized_sigma, stabilizer, image_sigma=typical)


def finite_sample(sample: np.ndarray) -> np.ndarray:
    """``sample`` as float32 with non-finite values replaced by the median (ValueError if none).

    May be ``sample`` itself (not a copy) when it is float32 and finite everywhere.
    """
    return fill_non_finite(np.asarray(sample, np.float32))[0]
