"""Noise2Score (Kim & Ye, NeurIPS 2021) in the denoiser registry: ``nt.denoise(y, "noise2score")``.

A dataset-level method (``extra["dataset"]``): ``napari_tweedie.denoise``
passes an (N, H, W) stack whole, with the noise model and its known
parameters, and gets all N images back from one model fitted on all of them.
``extra["lazy"]`` serves ``denoise_lazy``: fit on random patches of the dask
array, then apply tile by tile.  torch loads on the first call.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from ...noise import NOISE_MODELS
from ...specs import Param
from ...steps import Step
from ..registry import DenoiserSpec

__all__ = ["DEFAULTS", "SPECS", "denoise_noise2score", "denoise_noise2score_lazy"]

#: Defaults of :func:`~.fit.fit_noise2score`.
DEFAULTS = dict(
    steps=2000, batch=8, patch=64, sigma_max=0.5, sigma_min=0.02, ema=0.99, preview_every=25
)


def _param_names(noise: str) -> tuple[str, ...]:
    """The noise model's parameter names; none for an unknown name (the fit reports it)."""
    return NOISE_MODELS[noise].param_names() if noise in NOISE_MODELS else ()


def _channel_last(image: np.ndarray, sigma) -> bool:
    """Whether the last axis holds channels: a per-channel sigma says so; without one, a last
    axis shorter than the smallest trainable plane side cannot be X (direct callers; ``api``
    passes unknown per-channel sigmas as NaN, so it never relies on this guess)."""
    from .data import MIN_SIDE

    if np.ndim(sigma) == 1:
        return True
    return sigma is None and np.ndim(image) >= 3 and np.shape(image)[-1] < MIN_SIDE


def denoise_noise2score(
    image: np.ndarray,
    *,
    sigma: float | np.ndarray | None = None,
    seed: int = 0,
    noise: str = "gaussian",
    zeta: float | None = None,
    k: float | None = None,
    device: str = "auto",
    spacing: tuple[float, float, float] | None = None,
    **params,
) -> Generator[Step, None, np.ndarray]:
    """Noise2Score (Kim & Ye 2021) registry method: fit on ``image`` (2-D or a stack), denoise it.

    ``sigma``/``zeta``/``k`` are the known noise parameters (``None``:
    estimated); ``device`` and other keyword arguments go to :func:`fit_noise2score`.

    Shapes: an (N, H, W) stack is a dataset of N planes and one model is
    fitted on all of them.  A per-channel ``sigma`` of shape (C,) (or, with
    ``sigma=None``, a last axis shorter than 8, too small for a plane) says
    that the last axis holds channels (``channels="joint"``: (H, W, C) or
    (N, H, W, C)); they are denoised by :func:`.colour.denoise_colour` (one
    network for all channel planes, in the opponent colour space for
    Gaussian noise).  ``volumetric`` here means that a (Z, Y, X) volume is one
    dataset: a single model learns the score of all its slices and is applied
    slice by slice (the score network is 2-D; ``spacing`` is not used).
    """
    noise_params = {"sigma": sigma, "zeta": zeta, "k": k}
    noise_params = {n: noise_params[n] for n in _param_names(noise)}
    params["minutes"] = params.get("minutes") or None  # 0: no limit (reproducible)
    from .fit import fit_noise2score

    if _channel_last(image, sigma):
        from .colour import denoise_colour

        return (
            yield from denoise_colour(
                image,
                sigma=sigma,
                noise=noise,
                noise_params=noise_params,
                seed=seed,
                device=device,
                **params,
            )
        )

    model = yield from fit_noise2score(image, noise=noise, noise_params=noise_params, seed=seed,
                                       device=device, **params)  # fmt: skip
    return model.denoise(image)


def denoise_noise2score_lazy(
    array,
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    seed: int = 0,
    tile: int = 512,
    overlap: int | None = None,
    zeta: float | None = None,
    k: float | None = None,
    device: str = "auto",
    **params,
):
    """Noise2Score (Kim & Ye 2021) for ``denoise_lazy``: fit on random patches, apply tile by tile.

    Training reads only the patches it draws; the returned dask array is lazy.
    """
    from ...steps import run
    from .fit import fit_noise2score

    noise_params = {"sigma": sigma, "zeta": zeta, "k": k}
    noise_params = {n: noise_params[n] for n in _param_names(noise)}
    params["minutes"] = params.get("minutes") or None
    model = run(fit_noise2score(array, noise=noise, noise_params=noise_params, seed=seed,
                    device=device, **params))  # fmt: skip
    return model.apply_lazy(array, tile=tile, overlap=32 if overlap is None else int(overlap))


SPECS = (
    DenoiserSpec(
        name="noise2score",
        func=denoise_noise2score,
        params=(
            Param(
                "steps",
                200,
                "Training steps (stops earlier at the minutes budget).",
                "int",
                min=1,
                max=100000,
                step=50,
            ),
            Param(
                "minutes",
                0.0,
                "Wall-clock training budget in minutes (0: none). A budget makes the "
                "annealing follow the clock, so a rerun may differ; without one the "
                "same seed gives the same result.",
                min=0.0,
                max=1440.0,
                step=0.5,
            ),
            Param(
                "init",
                "prior",
                "Start from the bundled prior (fast, best for Gaussian noise) "
                "or from random weights (as in the paper; needs long training).",
                "choice",
                choices=("prior", "scratch"),
            ),
            Param(
                "lr",
                None,
                "Peak Adam learning rate (default 1e-4 from the prior, 1e-3 from scratch).",
                min=1e-6,
                max=1e-2,
                step=1e-5,
            ),
            Param("batch", DEFAULTS["batch"], "Patches per training step.", "int", min=1, max=256),
            Param(
                "patch",
                DEFAULTS["patch"],
                "Training patch side in pixels (multiple of 4).",
                "int",
                min=8,
                max=512,
                step=8,
            ),
            Param(
                "sigma_max",
                DEFAULTS["sigma_max"],
                "Largest AR-DAE perturbation, as a fraction of the data's noise level.",
                min=0.01,
                max=5.0,
                step=0.05,
            ),
            Param(
                "sigma_min",
                DEFAULTS["sigma_min"],
                "Smallest AR-DAE perturbation (end of "
                "the annealing), as a fraction of the data's noise level.",
                min=0.001,
                max=5.0,
                step=0.01,
            ),
        ),  # fmt: skip
        summary="Noise2Score (Kim & Ye 2021): AR-DAE score network trained on the noisy "
        "images themselves + Tweedie's formula (Gaussian, Poisson, Gamma noise)",
        fast=False,
        iterative=True,
        gaussian_only=False,
        channels="joint",
        volumetric=True,
        extra={"dataset": True, "lazy": denoise_noise2score_lazy},
    ),
)
