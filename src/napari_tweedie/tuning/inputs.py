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
