"""The risk problem behind :mod:`.sure` and :mod:`.tune`: one image, one method, one probe.

:class:`RiskProblem` holds what every trial shares (the image, the noise
parameters estimated once, the method's data-dependent defaults fixed once,
the seeded probe) and computes the per-pixel risk terms of one parameter
setting (:meth:`RiskProblem.risk_steps`): the Monte-Carlo, lattice-probe,
Jacobian-vector-product or exact divergence, as :mod:`.sure` explains.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..steps import Step
from .inputs import _draw_probe, _finite, _noise_weights, _scale, lattice_probes, lattice_side

__all__ = ["EPSILON", "RiskProblem", "apply_planes", "risk_problem", "trial_probes"]

#: finite-difference step of the Monte-Carlo divergence, relative to the noise std
EPSILON = 0.01


@dataclass(frozen=True)
class RiskProblem:
    """One image, method and noise model, set up for repeated risk estimates.

    Attributes
    ----------
    image : ndarray
        The noisy image (float32, finite).
    method, noise : str
        Registry names (``DENOISERS``, ``NOISE_MODELS``).
    noise_values : dict
        The noise model's parameters (given or estimated once).
    params : dict
        The method's parameters with data-dependent defaults fixed.
    weights : ndarray
        ``v(y)``, the noise model's :meth:`risk_variance`.
    probe : ndarray
        The +-1 probe ``b`` of the Monte-Carlo divergence.
    epsilon : float
        Finite-difference step.
    method_sigma : float
        The noise level the method sees (stabilised units for Gaussian-only
        methods under signal-dependent noise), the scale of its intensity
        parameters.
    spec, setup
        The method's ``DenoiserSpec`` and the ``NoiseSetup`` that
        :func:`napari_tweedie.denoise` would use.
    seed : int
        Seed of the method's own randomness.
    exact : bool
        Use the spec's exact divergence (``spec.divergence``) where it gives one.
    differentiable : bool
        Use the spec's exact Jacobian-vector product (``spec.extra["jvp"]``,
        :mod:`.jvp`): ``b^T J b`` without a finite difference.
    probes : int
        Lattice classes of the probe (a square ``s^2``, :func:`lattice_probes`):
        1 is the plain Hutchinson probe; more split ``b`` into ``s x s``
        lattice classes probed separately (one batched pass for a
        differentiable method, one call per class otherwise).
    """

    image: np.ndarray
    method: str
    noise: str
    noise_values: dict
    params: dict
    weights: np.ndarray
    probe: np.ndarray
    epsilon: float
    method_sigma: float
    spec: Any = None
    setup: Any = None
    seed: int = 0
    exact: bool = False
    differentiable: bool = False
    probes: int = 1

    @property
    def calls(self) -> int:
        """Denoiser calls of one :meth:`risk_steps`.

        1 with an exact divergence; 2 with a Jacobian-vector product (its
        ``probes`` directions in one batched pass) or a single-class probe;
        ``1 + probes`` finite differences otherwise.
        """
        if self.exact:
            return 1
        return 2 if self.differentiable else 1 + self.probes

    def denoise_steps(self, data: np.ndarray, **params) -> Generator[Step, None, np.ndarray]:
        """``nt.denoise(data, method, ...)`` with the fixed noise parameters and ``params``."""
        if self.spec.extra.get("dataset"):  # fits one model on all planes: the API's own path
            from ..api import denoise_steps

            known = {p.name for p in self.spec.params}
            user = {k: v for k, v in (self.params | params).items() if k in known}
            return (
                yield from denoise_steps(
                    data, self.method, noise=self.noise, seed=self.seed,
                    **self.noise_values, **user,
                )
            )  # fmt: skip
        merged = self.params | params
        return (yield from apply_planes(self.spec, self.setup, data, self.seed, merged))

    def risk_steps(self, **params) -> Generator[Step, None, tuple[np.ndarray, np.ndarray]]:
        """Per-pixel risk terms (their mean estimates the MSE) and ``f(y)``: :attr:`calls` calls."""
        exact = (yield from self.exact_steps(**params)) if self.exact else None
        if exact is not None:
            out, divergence = exact
        elif self.differentiable:
            from .jvp import probe_product

            probes = lattice_probes(self.probe, self.probes)
            out, products = probe_product(self, self.params | params, probes)
            divergence = np.sum(probes * products, axis=0)
        else:
            out = yield from self.denoise_steps(self.image, **params)
            divergence = np.zeros(self.image.shape, np.float64)
            for probe in lattice_probes(self.probe, self.probes):
                moved = yield from self.denoise_steps(self.image + self.epsilon * probe, **params)
                divergence += probe * (moved.astype(np.float64) - out) / self.epsilon
        residual = (out.astype(np.float64) - self.image) ** 2
        return residual - self.weights + 2 * self.weights * divergence, out

    def exact_steps(self, **params) -> Generator[Step, None, tuple | None]:
        """``(f(y), df_i/dy_i)`` from the spec's exact divergence, one call; ``None``: none here.

        Under a variance-stabilising transform ``A`` (Gaussian-only methods on
        other noise), ``f = A^-1 o G o A`` with ``G`` linear, so
        ``df_i/dy_i = (A^-1)'(G(A y))_i G_ii A'(y_i)``; the pointwise
        slopes are central differences.
        """
        merged = self.params | params
        stabilizer = self.setup.stabilizer if self.spec.gaussian_only else None
        sigma = self.setup.sigma if stabilizer else self.setup._raw_sigma()
        diagonal = self.spec.divergence(self.image.shape[-2:], sigma=sigma, **merged)
        if diagonal is None:
            return None
        if stabilizer is None:
            out = yield from self.denoise_steps(self.image, **params)
            return out, np.broadcast_to(diagonal, self.image.shape)
        plain = replace(self.setup, stabilizer=None, image_sigma=None)
        forward = stabilizer.forward(self.image)
        inner = yield from apply_planes(self.spec, plain, forward, self.seed, merged)
        out = np.asarray(stabilizer.inverse(inner), np.float32)
        step = 0.01 * stabilizer.stabilized_sigma
        slopes = _slope(stabilizer.inverse, inner, step) * _slope(
            stabilizer.forward, self.image, self.epsilon
        )
        return out, slopes * diagonal


def _slope(function, x: np.ndarray, step: float) -> np.ndarray:
    """Central-difference derivative of a pointwise ``function`` at ``x`` (float64)."""
    x = np.asarray(x, np.float64)
    upper = np.asarray(function(x + step), np.float64)
    return (upper - np.asarray(function(x - step), np.float64)) / (2 * step)


def risk_problem(
    image,
    method: str,
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    seed: int = 0,
    probe: str = "rademacher",
    divergence: str = "auto",
    channel_axis: int | None = None,
    probes: int | None = None,
    **params,
) -> RiskProblem:
    """Set up :class:`RiskProblem`: estimate the noise once, fix defaults, draw the probe.

    ``divergence``: ``"auto"`` (the spec's exact divergence where it has one,
    else its exact Jacobian-vector product with the probe where it has one,
    else Monte Carlo with a finite difference) or ``"monte-carlo"`` (finite
    difference).  The finite-difference step is ``spec.extra["sure_epsilon"]``
    (default :data:`EPSILON`) times the noise std.  Raises ``ValueError`` for a
    noise model without an unbiased risk estimate.  With ``channel_axis``
    (also a keyword of :func:`sure` and :func:`~.tune.tune`): noise per
    channel, the method as ``nt.denoise(..., channel_axis=)`` runs it, Monte
    Carlo (:mod:`.channels`).  ``probes``: lattice classes of the probe
    (:func:`lattice_probes`; default ``spec.extra["sure_probes"]`` or 1).
    """
    if channel_axis is not None:
        from .channels import channel_risk_problem

        if probes not in (None, 1):
            raise ValueError("probes > 1 is not available with channel_axis")
        options = {"noise": noise, "sigma": sigma, "seed": seed, "probe": probe}
        return channel_risk_problem(image, method, channel_axis, **options, **params)
    if divergence not in ("auto", "monte-carlo"):
        raise ValueError(f"divergence must be 'auto' or 'monte-carlo', got {divergence!r}")
    from ..api import get_spec, split_params
    from ..api_shapes import device_params
    from ..noise.setup import finite_sample, resolve_noise, sample_planes

    spec = get_spec(method)
    device = params.pop("device", "auto")  # nt.denoise's keyword, for torch methods
    method_params, noise_params = split_params(spec, noise, params)
    data = _finite(image)
    sample = finite_sample(sample_planes(data))
    model, weights = _noise_weights(data, sample, noise, sigma, noise_params)
    values = model.values()
    setup = resolve_noise(sample, noise, values.get("sigma"), values)
    method_params = {**setup.resolve(spec, sample, method_params), **device_params(spec, device)}
    stabilised = setup.stabilizer is not None and spec.gaussian_only
    method_sigma = setup.sigma if stabilised or setup.image_sigma is None else setup.image_sigma
    b, scale = _draw_probe(data.shape, seed, probe), _scale(weights, data)
    exact = divergence == "auto" and spec.divergence is not None and not spec.extra.get("dataset")
    probes = int(spec.extra.get("sure_probes", 1) if probes is None else probes)
    lattice_side(probes)  # a square number
    return RiskProblem(
        image=data, method=method, noise=noise, noise_values=values, params=method_params,
        weights=weights, probe=b, epsilon=spec.extra.get("sure_epsilon", EPSILON) * scale,
        method_sigma=float(method_sigma), spec=spec, setup=setup, seed=seed,
        exact=exact, differentiable=divergence == "auto" and not exact and "jvp" in spec.extra,
        probes=probes,
    )  # fmt: skip


def trial_probes(spec) -> dict:
    """Probe options of one trial among many (``tune``, a widget's live re-run).

    One probe, so a trial costs two calls, whatever the method's
    ``sure_probes`` for a single estimate (:func:`~.sure.sure`); a comparison of
    trials with the same probe needs no more.  A method with a Jacobian-vector
    product keeps its lattice probes: they cost one batched call.
    """
    return {} if "jvp" in spec.extra else {"probes": 1}


def apply_planes(spec, setup, data: np.ndarray, seed: int, params: dict):
    """What :func:`napari_tweedie.api.denoise_steps` does to a finite image (resolved ``params``).

    Each (Y, X) plane ``i`` goes through ``setup.apply_steps`` with seed
    ``seed + i``; ``params`` may hold data-dependent values fixed once
    (``spec.resolve``), so that a perturbed image is denoised by the same function.
    """
    planes = data.reshape((-1,) + data.shape[-2:])
    out = np.empty_like(planes, dtype=np.float32)
    for index, plane in enumerate(planes):
        out[index] = yield from setup.apply_steps(spec, plane, seed + index, params)
    return out.reshape(data.shape)
