"""Registry entry of zero-shot Noise2Noise (``"zs_n2n"``) and its two recipes.

:data:`DEFAULTS` is the fast recipe (random crops, a one-cycle learning rate,
a self-supervised early stop and a flip/rotation ensemble; measured in
``benchmarks/README.md``), :data:`PAPER_RECIPE` the published one.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np

from ...specs import Param
from ...steps import Step
from ..registry import DenoiserSpec

__all__ = ["DEFAULTS", "PAPER_RECIPE", "SPECS", "denoise_zs_n2n"]

#: Defaults of the fast recipe.
DEFAULTS = dict(iterations=3000, lr=8e-3, crop=64, augment=False, patience=500, ensemble=True)

#: The published recipe (Mansour & Heckel 2023, official notebook): full image,
#: 3000 Adam steps at lr 1e-3, halved after 1500 steps; no normalisation.
PAPER_RECIPE = dict(
    iterations=3000,
    lr=1e-3,
    schedule="step",
    crop=0,
    augment=False,
    patience=0,
    ensemble=False,
    normalize=False,
)


def denoise_zs_n2n(
    image: np.ndarray,
    *,
    sigma: float | np.ndarray | None,
    seed: int = 0,
    spacing: tuple[float, float, float] | None = None,
    device: str = "auto",
    **params,
) -> Generator[Step, None, np.ndarray]:
    """Zero-shot Noise2Noise (Mansour & Heckel 2023) as a registry method (generator).

    ``sigma`` is not needed by the method; a per-channel ``sigma`` of shape
    (C,) says that the last axis of ``image`` holds channels (colour: one
    network with C channels in and out).  With ``spacing`` (volumetric call)
    ``image`` is a (Z, Y, X) volume fitted by a 3-D network (the network
    learns the anisotropy from the data; ``spacing`` is not used).  ``device``
    and
    ``params`` go to :func:`~.fit.fit_zs_n2n`.
    """
    from .fit import fit_zs_n2n

    params.setdefault("channel_last", np.ndim(sigma) == 1)
    params.setdefault("volumetric", spacing is not None)
    fit = yield from fit_zs_n2n(image, seed=seed, device=device, **params)
    return fit.estimate


_INT = dict(kind="int", min=0, max=100000)
_STEPS = dict(kind="int", min=1, max=100000, step=100)
SPECS = (
    DenoiserSpec(
        name="zs_n2n",
        func=denoise_zs_n2n,
        params=(
            Param("iterations", DEFAULTS["iterations"], "Max Adam steps (paper: 3000).", **_STEPS),
            Param(
                "lr",
                DEFAULTS["lr"],
                "Peak learning rate (paper: 0.001).",
                min=1e-5,
                max=0.1,
                step=5e-4,  # four decimals in a spin box: 0.008 is not rounded to 0.01
            ),
            Param(
                "schedule",
                "onecycle",
                "Learning-rate schedule: onecycle (warm-up, cosine decay) or step (paper).",
                "choice",
                choices=("onecycle", "step"),
            ),
            Param("crop", DEFAULTS["crop"], "Random crop side per step; 0: whole image.", **_INT),
            Param("augment", DEFAULTS["augment"], "Random flips/rotations of the crops.", "bool"),
            Param(
                "patience",
                DEFAULTS["patience"],
                "Self-supervised early stop: steps without improvement of the loss on a fixed "
                "crop before annealing and stopping (0: run all steps).",
                **_INT,
            ),
            Param("consistency", 1.0, "Weight of the consistency loss.", min=0.0, max=10.0),
            Param("ensemble", DEFAULTS["ensemble"], "Average over 8 flips/rotations.", "bool"),
        ),
        summary="Zero-shot Noise2Noise (Mansour & Heckel 2023): tiny network fitted to the image.",
        fast=False,
        iterative=True,
        channels="joint",
        volumetric=True,
    ),
)
