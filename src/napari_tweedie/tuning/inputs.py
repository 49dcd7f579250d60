"""The inputs of a risk estimate: the finite image, the noise model's weights, the probe.

Shared by :mod:`.sure` (registered methods) and :mod:`.generic` (any function).
"""

from __future__ import annotations

import math

import numpy as np


def _finite(image) -> np.ndarray:
    data = np.asarray(image.compute() if hasattr(image, "compute") else image, np.float32)
    if not np.isfinite(data).all():
        raise ValueError("the risk estimate needs a finite image (no NaN or inf)")
    return data


def _noise_weights(data, sample, noise: str, sigma, noise_params: dict):
    """The noise model (given or estimated on ``sample``) and its ``risk_variance(data)``."""
    from ..noise import make_noise_model, noise_model_class

    known = {k: float(v) for k, v in noise_params.items() if v}
    if "sigma" in noise_model_class(noise).param_names():
        known["sigma"] = None if sigma is None else float(sigma)
    model = make_noise_model(noise, sample, **known)
    weights = model.risk_variance(data)
    if weights is None:
        raise ValueError(
            f"no unbiased risk estimate (SURE/PURE) exists for {noise!r} noise "
            f"({model.summary}); compare settings by eye or on a clean reference"
        )
    return model, np.asarray(weights, np.float64)


def _draw_probe(shape, seed: int, probe: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if probe == "rademacher":
        return rng.integers(0, 2, shape).astype(np.float32) * 2 - 1
    if probe == "gaussian":
        return rng.standard_normal(shape).astype(np.float32)
    raise ValueError(f"probe must be 'rademacher' or 'gaussian', got {probe!r}")


def _scale(weights: np.ndarray, data: np.ndarray) -> float:
    """The noise std (the finite-difference step's unit)."""
    return math.sqrt(max(float(np.mean(weights)), 0.0)) or float(np.ptp(data)) or 1.0


def lattice_side(classes: int) -> int:
    """``s`` for ``s^2`` lattice classes; ``ValueError`` unless ``classes`` is a square >= 1."""
    side = math.isqrt(max(int(classes), 0))
    if side < 1 or side * side != classes:
        raise ValueError(f"probes must be a square number (1, 4, 9, ...), got {classes}")
    return side


def lattice_probes(probe: np.ndarray, classes: int) -> np.ndarray:
    """Lattice-coloured probing (Bekas, Kokiopoulou & Saad 2007): ``probe`` in ``s^2`` classes.

    Returns the stack of shape ``(s^2,) + probe.shape``.

    Class ``k`` keeps the probe's values on the pixels ``(i, j)`` of the last
    two axes with ``(i mod s) s + (j mod s) = k`` and is zero elsewhere, so
    ``sum_k b_k (J b_k)`` has the mean ``diag J`` of the plain Hutchinson
    estimate ``b (J b)`` but keeps only the couplings ``J_ij`` between pixels
    of one class (``s`` or more apart in a direction); a denoiser's Jacobian
    is concentrated near its diagonal, so most of the probe's scatter goes.
    """
    side = lattice_side(classes)
    if side == 1:
        return probe[None]
    rows = np.arange(probe.shape[-2])[:, None] % side
    cols = np.arange(probe.shape[-1])[None, :] % side
    labels = rows * side + cols
    return np.stack([probe * (labels == k) for k in range(classes)])
