"""Unbiased estimates of a denoiser's error without the clean image: SURE, PURE, PG-URE.

For ``y = x + noise`` and any denoiser ``f``, Stein's lemma (Stein 1981) and
its Poisson and Poisson-Gaussian forms (Luisier, Blu & Unser 2011) give, per
pixel,

    E |f(y) - x|^2 / N = E [ |f(y) - y|^2 - v(y) + 2 v(y) df/dy ] / N

where ``v(y)`` is the noise model's :meth:`~napari_tweedie.noise.NoiseModel.risk_variance`
(``sigma^2`` for Gaussian noise, ``zeta y + sigma^2`` for Poisson-Gaussian;
first order in the Poisson case).  The divergence ``df/dy`` of a black-box
denoiser is estimated by Monte Carlo (Ramani, Blu & Unser 2008): with a seeded
+-1 probe ``b``, ``b * (f(y + eps b) - f(y)) / eps``.  The same probe is used
for every parameter value, so the estimate varies smoothly with the parameters
(what :mod:`.tune` minimises).  Cost: two calls of the denoiser.  A
differentiable method (``spec.extra["jvp"]``: the prior) gives ``J b``
exactly by automatic differentiation (:mod:`.jvp`), at about the same cost and
without the step's error; a method whose output jumps (block matching, hard
thresholds) sets a wider step (``spec.extra["sure_epsilon"]``).  The probe's
own scatter, ``2 sum_{i != j} J_ij^2`` for one +-1 probe, comes mostly from
neighbouring pixels; lattice-coloured probes (``probes=s^2``,
``spec.extra["sure_probes"]``; Bekas, Kokiopoulou & Saad 2007) probe ``s x s``
pixel classes separately and keep only the couplings within a class, at
``s^2`` finite differences or one batched Jacobian-vector product.  Even with
the exact divergence a one-draw estimate scatters around the draw's true MSE
by about ``v sqrt(2 / N)`` (the draw's noise energy against its
expectation): about 5 % of a strong denoiser's MSE on a 256 x 256 image.  Methods
whose spec gives an exact Jacobian diagonal (``DenoiserSpec.divergence``:
linear filters) use it instead, chained through the variance-stabilising
transform where one applies: one call.

Everything goes through :func:`napari_tweedie.api.denoise_steps` with the noise
parameters estimated once and the method's data-dependent defaults fixed once,
so ``f`` is the very function ``nt.denoise`` applies.
"""

from __future__ import annotations

import numpy as np

from ..steps import run
from .inputs import lattice_probes
from .risk import EPSILON, RiskProblem, apply_planes, risk_problem
from .scores import block_means

__all__ = [
    "EPSILON",
    "RiskProblem",
    "apply_planes",
    "lattice_probes",
    "risk_problem",
    "sure",
    "sure_and_output",
    "sure_map",
]


def _split(kwargs: dict) -> tuple[dict, dict]:
    options = {k: kwargs.pop(k) for k in ("probe", "divergence", "probes") if k in kwargs}
    return options, kwargs


def sure(
    image, method: str, *, noise: str = "gaussian", sigma: float | None = None, seed: int = 0,
    **params,
) -> float:  # fmt: skip
    """Unbiased estimate of the per-pixel MSE of ``nt.denoise(image, method, ...)``, no clean image.

    SURE (Gaussian noise, Stein 1981), PURE (Poisson) or PG-URE
    (Poisson-Gaussian, Luisier, Blu & Unser 2011; first order), with the
    Monte-Carlo divergence of Ramani, Blu & Unser (2008): two denoiser calls
    (one for methods with an exact divergence, ``DenoiserSpec.divergence``).

    Parameters
    ----------
    image : array-like
        The noisy image (as for :func:`napari_tweedie.denoise`; finite).
    method : str
        A key of ``DENOISERS``.
    noise : str
        A key of ``NOISE_MODELS`` whose model has an unbiased risk estimate
        (:meth:`~napari_tweedie.noise.NoiseModel.risk_variance`); others
        (``"gamma"``) raise ``ValueError``.
    sigma : float, optional
        Gaussian noise standard deviation (``None``: estimated once).
    seed : int
        Seed of the probe and of the method's randomness.
    **params
        Method and noise parameters, as for :func:`napari_tweedie.denoise`;
        ``probe="gaussian"`` draws a Gaussian probe instead of +-1;
        ``divergence="monte-carlo"`` ignores a method's exact divergence;
        ``probes=s**2`` splits the probe into ``s x s`` lattice classes
        (:func:`lattice_probes`: less scatter, ``s**2`` finite differences or
        one batched Jacobian-vector product; default ``spec.extra["sure_probes"]``
        or 1).

    Returns
    -------
    float
        The estimated mean squared error per pixel, in the image's units squared.
    """
    return sure_and_output(image, method, noise=noise, sigma=sigma, seed=seed, **params)[0]


def sure_and_output(
    image, method: str, *, noise: str = "gaussian", sigma: float | None = None, seed: int = 0,
    **params,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """:func:`sure` and the denoised image it rates (for an estimated PSNR: its range)."""
    options, params = _split(params)
    problem = risk_problem(image, method, noise=noise, sigma=sigma, seed=seed, **options, **params)
    risk, out = run(problem.risk_steps())
    return float(np.mean(risk)), out


def sure_map(
    image, method: str, *, noise: str = "gaussian", sigma: float | None = None, seed: int = 0,
    block: int = 32, **params,
) -> np.ndarray:  # fmt: skip
    """:func:`sure` per ``block`` x ``block`` region of the last two axes (float64).

    Each value estimates the MSE over its block; leading axes are kept.
    Smaller blocks are noisier (the divergence is estimated per pixel).
    """
    options, params = _split(params)
    problem = risk_problem(image, method, noise=noise, sigma=sigma, seed=seed, **options, **params)
    risk, _ = run(problem.risk_steps())
    return block_means(risk, block)
