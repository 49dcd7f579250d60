"""Per-pixel posterior std in one pass: second-order Tweedie from a denoiser's Jacobian.

For ``y = x + sigma n`` and the MMSE denoiser ``D(y) = E[x | y]``, the
second-order Tweedie formula gives ``Cov[x | y] = sigma^2 dD/dy``, so the
posterior variance of pixel ``i`` is ``sigma^2 dD_i/dy_i``.  The diagonal of
the Jacobian is probed with a structured pattern (Hutchinson-type with
colouring, as in Bekas, Kokiopoulou & Saad 2007): the pixels are split into
``s x s`` lattice classes (``s`` apart in both directions), each class gets
random signs, and one finite difference per class,

    diag_i  ~=  p_k,i (D(y + eps p_k) - D(y))_i / eps        (i in class k),

leaves only the couplings between pixels of the same class, ``s`` pixels
apart or more, with random signs (no bias); the estimate is then averaged over
a moving ``s x s`` cell, which cancels most of them, and over a wider window
where the cell's mean is not significantly above zero
(:func:`.model_error.adaptive_cell_average`).  Cost: ``s^2 + 1`` denoiser
calls, whatever the image size (17 by default).

A learned denoiser is not the exact MMSE estimator: its error has a part, its
bias, that the Jacobian does not see.  The same calls give SURE's per-pixel
terms (Stein 1981), whose local excess over the posterior variance estimates
that part without the clean image (:func:`.model_error.model_error_variance`;
zero for an exact MMSE denoiser).  The std returned is
``sqrt(sigma^2 diag + model error)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model_error import adaptive_cell_average, model_error_variance
from .sure import EPSILON, apply_planes

__all__ = [
    "DEFAULT_PROBES",
    "UncertaintyParts",
    "jacobian_diagonal",
    "probe_diagonal",
    "uncertainty",
    "uncertainty_parts",
]

DEFAULT_PROBES = 16


def _unsupported(method: str) -> ValueError:
    return ValueError(
        f"{method!r} is not a posterior-mean (Tweedie) denoiser, so its Jacobian is no "
        "posterior covariance; for a posterior std use "
        "nt.restore(y, 'denoise', samples=K, sigma_y=...).std"
    )


def probe_diagonal(denoise, image: np.ndarray, scale: float, probes: int, seed: int):
    """``(D(image), raw diag dD/dy)`` by lattice-coloured probes (``denoise``: stack to stack).

    ``denoise(stack)`` takes a (K, ...) float32 stack of images shaped like
    ``image`` and returns their denoised stack (one call); ``scale`` sets the
    finite-difference step (``EPSILON * scale``).  Each pixel's raw estimate
    is unbiased over the probes' signs but noisy (see the module).
    """
    side = math.isqrt(int(probes))
    if side < 1 or side * side != probes:
        raise ValueError(f"probes must be a square number (1, 4, 9, 16, ...), got {probes}")
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, image.shape).astype(np.float32) * 2 - 1
    rows = np.arange(image.shape[-2])[:, None] % side
    cols = np.arange(image.shape[-1])[None, :] % side
    classes = np.broadcast_to(rows * side + cols, image.shape)
    eps = EPSILON * scale
    stack = [image] + [image + eps * signs * (classes == k) for k in range(probes)]
    out = np.asarray(denoise(np.stack(stack).astype(np.float32)), dtype=np.float64)
    change = (out[1:] - out[0]) / eps
    diagonal = np.zeros(image.shape, np.float64)
    for k in range(probes):
        mask = classes == k
        diagonal[mask] = (signs * change[k])[mask]
    return out[0].astype(np.float32), diagonal


def jacobian_diagonal(denoise, image: np.ndarray, scale: float, probes: int, seed: int):
    """``(D(image), diag dD/dy)``: :func:`probe_diagonal` averaged over lattice cells.

    The raw estimates are averaged by :func:`.model_error.adaptive_cell_average`
    (an ``s x s`` cell, wider where the cell's mean is within noise of zero).
    """
    out, raw = probe_diagonal(denoise, image, scale, probes, seed)
    return out, adaptive_cell_average(raw, math.isqrt(int(probes)))


def _torch_denoiser(denoiser, sigma: float):
    """A stack function for a ``Denoiser`` (``D(x, sigma)`` on (B, 1, H, W) tensors)."""

    def apply(stack: np.ndarray) -> np.ndarray:
        import torch

        planes = stack.reshape((-1, 1) + stack.shape[-2:])
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(planes))
            level = torch.full((x.shape[0],), float(sigma), dtype=x.dtype)
            return denoiser(x, level).numpy().reshape(stack.shape)

    return apply


def _registry_denoiser(
    method: str, data: np.ndarray, sigma: float | None, params: dict, device: str = "auto"
):
    """The stack function and ``sigma`` of a registered posterior-mean denoiser."""
    from ..api import get_spec, split_params
    from ..api_shapes import device_params
    from ..noise.setup import finite_sample, resolve_noise, sample_planes
    from ..steps import run

    spec = get_spec(method)
    if not spec.posterior_mean:
        raise _unsupported(method)
    method_params, _ = split_params(spec, "gaussian", params)
    sample = finite_sample(sample_planes(data))
    setup = resolve_noise(sample, "gaussian", sigma, {})
    method_params = {**setup.resolve(spec, sample, method_params), **device_params(spec, device)}

    def apply(stack: np.ndarray) -> np.ndarray:
        return run(apply_planes(spec, setup, stack, 0, method_params))

    return apply, setup.sigma


def _is_score_model(method) -> bool:
    from ..denoisers.noise2score import Noise2Score

    return isinstance(method, Noise2Score)


def _score_model_denoiser(model, sigma: float | None):
    """The stack function and ``sigma`` of a fitted Noise2Score model (Kim & Ye 2021).

    Its Gaussian Tweedie estimate ``y + sigma^2 s(y)`` is a posterior mean, so
    its Jacobian ``I + sigma^2 ds/dy`` is the posterior covariance over ``sigma^2``.
    """
    from ..noise.models import GaussianNoise

    fitted = model.noise_model
    if fitted.name != "gaussian":
        raise ValueError(
            f"the uncertainty of a Noise2Score model needs Gaussian noise; this one was fitted "
            f"for {fitted.name!r}: for a posterior std use nt.restore(y, 'denoise', samples=K)"
        )
    level = float(fitted.sigma if sigma is None else sigma)
    noise = GaussianNoise(sigma=level)

    def apply(stack: np.ndarray) -> np.ndarray:
        return model.denoise(stack, noise)

    return apply, level


@dataclass(frozen=True)
class UncertaintyParts:
    """The pieces of :func:`uncertainty`, from one probe pass (float64 arrays, the image's shape).

    Attributes
    ----------
    output : ndarray
        ``D(y)``, the denoised image.
    diagonal : ndarray
        Raw per-pixel estimates of ``dD_i/dy_i`` (:func:`probe_diagonal`).
    variance : ndarray
        Posterior variance ``sigma^2 diag`` (averaged diagonal, ``>= 0``).
    model_error : ndarray
        The error the Jacobian misses (:func:`.model_error.model_error_variance`).
    sigma : float
        The noise std used.
    """

    output: np.ndarray
    diagonal: np.ndarray
    variance: np.ndarray
    model_error: np.ndarray
    sigma: float


def uncertainty_parts(
    image, method="prior", *, sigma: float | None = None, probes: int | None = None,
    seed: int = 0, device: str = "auto", **params,
) -> UncertaintyParts:  # fmt: skip
    """Second-order Tweedie posterior variance and SURE's model error, in one probe pass.

    Arguments as :func:`uncertainty`; ``uncertainty(...)`` is
    ``sqrt(variance + model_error)`` of the result.
    """
    data = np.asarray(image.compute() if hasattr(image, "compute") else image, np.float32)
    if data.ndim < 2 or not np.isfinite(data).all():
        raise ValueError("uncertainty needs a finite image with at least 2 axes (Y, X)")
    if isinstance(method, str):
        apply, sigma = _registry_denoiser(method, data, sigma, params, device)
    elif _is_score_model(method):
        apply, sigma = _score_model_denoiser(method, sigma)
    elif callable(method):
        if sigma is None:
            from ..noise import make_noise_model
            from ..noise.setup import finite_sample, sample_planes

            sigma = make_noise_model("gaussian", finite_sample(sample_planes(data))).sigma
        apply = _torch_denoiser(method, sigma)
    else:
        raise TypeError(f"method must be a registered name or a denoiser, got {type(method)}")
    count = DEFAULT_PROBES if probes is None else int(probes)
    output, raw = probe_diagonal(apply, data, float(sigma), count, seed)
    averaged = adaptive_cell_average(raw, math.isqrt(count))
    variance = float(sigma) ** 2 * np.clip(averaged, 0.0, None)
    excess = model_error_variance(data, output, raw, variance, float(sigma))
    return UncertaintyParts(output, raw, variance, excess, float(sigma))


def uncertainty(
    image,
    method="prior",
    *,
    sigma: float | None = None,
    probes: int | None = None,
    seed: int = 0,
    device: str = "auto",
    model_error: bool = True,
    **params,
) -> np.ndarray:
    """Per-pixel posterior std of the denoised image: second-order Tweedie plus SURE model error.

    ``sqrt(sigma^2 diag dD/dy + m)`` for a posterior-mean denoiser ``D`` of
    Gaussian noise, with the Jacobian's diagonal probed in ``probes + 1``
    denoiser calls and ``m`` the part of the error the Jacobian misses,
    estimated from SURE's per-pixel terms of the same calls (see the
    module): the RMS error of the denoised image where the std map says.

    Parameters
    ----------
    image : array-like
        The noisy image (Gaussian noise; finite); the last two axes are Y, X.
    method : str or callable
        A registered method whose spec marks it a posterior-mean denoiser
        (``DENOISERS[name].posterior_mean``: the bundled ``"prior"``), a
        fitted Noise2Score model of Gaussian noise (its Tweedie estimate; the
        noise level it was fitted with unless ``sigma``), or a ``Denoiser``
        object ``D(x, sigma)`` on (B, 1, H, W) torch tensors (e.g.
        ``GaussianPrior``).  Others raise ``ValueError`` pointing to
        ``nt.restore(..., samples=K)``.
    sigma : float, optional
        Noise standard deviation (``None``: estimated).
    probes : int, optional
        A square number of probe classes (default 16: 17 denoiser calls).
    seed : int
        Seed of the probes' signs.
    device : str
        Torch device of a registered torch method (as in :func:`napari_tweedie.denoise`).
    model_error : bool
        Add the model-error term (default); ``False``: the posterior std
        ``sigma sqrt(diag)`` alone, exact only for an exact MMSE denoiser.
    **params
        Method parameters (registered methods).

    Returns
    -------
    numpy.ndarray
        float32 std, the image's shape and units.
    """
    parts = uncertainty_parts(
        image, method, sigma=sigma, probes=probes, seed=seed, device=device, **params
    )
    variance = parts.variance + parts.model_error if model_error else parts.variance
    return np.sqrt(variance).astype(np.float32)
