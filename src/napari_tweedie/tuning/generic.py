"""The risk estimate of any function of the image (not a registered method): :func:`sure_of`.

For what no registry entry describes, such as a fitted Filter2Noise model
re-rendered with edited sigma multipliers: ``func(image, **params)`` is a
black box, its divergence is estimated by Monte Carlo with a seeded probe
(two calls per estimate), exactly as :func:`.sure.sure` does for a method.
:class:`FunctionRisk` has the interface :func:`.tune.search_steps` needs, so
such a function's parameters can be auto-tuned too.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np

from ..steps import Step, run
from .inputs import _draw_probe, _finite, _noise_weights, _scale
from .sure import EPSILON

__all__ = ["FunctionRisk", "function_risk", "sure_of"]


@dataclass(frozen=True)
class FunctionRisk:
    """One image and a function of it, set up for repeated risk estimates.

    Attributes
    ----------
    func : callable
        ``func(image, **params) -> ndarray`` of the image's shape.
    image, weights, probe, epsilon
        As in :class:`.sure.RiskProblem`.
    method_sigma : float
        The noise std (the scale of an unbounded intensity parameter).
    calls : int
        Calls of ``func`` per estimate.
    params : dict
        Starting values of the parameters :func:`.tune.search_steps` searches.
    """

    func: Callable[..., np.ndarray]
    image: np.ndarray
    weights: np.ndarray
    probe: np.ndarray
    epsilon: float
    method_sigma: float
    calls: int = 2
    params: dict = field(default_factory=dict)

    def risk_steps(self, **params) -> Generator[Step, None, tuple[np.ndarray, np.ndarray]]:
        """Per-pixel risk terms (their mean estimates the MSE) and ``func(image)``: two calls."""
        out = np.asarray(self.func(self.image, **params), np.float64)
        moved = np.asarray(self.func(self.image + self.epsilon * self.probe, **params))
        divergence = self.probe * (moved - out) / self.epsilon
        residual = (out - self.image) ** 2
        return residual - self.weights + 2 * self.weights * divergence, out.astype(np.float32)
        yield  # a generator (with no steps of its own), as RiskProblem.risk_steps


def function_risk(
    func: Callable[..., np.ndarray],
    image,
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    seed: int = 0,
    probe: str = "rademacher",
    **noise_params,
) -> FunctionRisk:
    """Set up :class:`FunctionRisk`: estimate the noise once (unless given), draw the probe."""
    from ..noise.setup import finite_sample, sample_planes

    data = _finite(image)
    _, weights = _noise_weights(
        data, finite_sample(sample_planes(data)), noise, sigma, noise_params
    )
    scale = _scale(weights, data)
    return FunctionRisk(func, data, weights, _draw_probe(data.shape, seed, probe),
                        EPSILON * scale, scale)  # fmt: skip


def sure_of(
    func: Callable[..., np.ndarray],
    image,
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    seed: int = 0,
    **params,
) -> float:
    """Unbiased estimate of the per-pixel MSE of ``func(image, **params)``, no clean image.

    Parameters
    ----------
    func : callable
        Any (deterministic) denoising function of the image.
    image : array-like
        The noisy image (finite).
    noise : str
        A key of ``NOISE_MODELS`` with an unbiased risk estimate.
    sigma : float, optional
        Gaussian noise std (``None``: estimated on ``image``).
    seed : int
        Seed of the probe.
    **params
        Passed to ``func``.

    Returns
    -------
    float
        The estimated mean squared error per pixel (two calls of ``func``).
    """
    problem = function_risk(func, image, noise=noise, sigma=sigma, seed=seed)
    risk, _ = run(problem.risk_steps(**params))
    return float(np.mean(risk))
