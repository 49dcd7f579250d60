"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): a tiny network fitted to one image.

The noisy image ``y`` is split by two fixed 2x2, stride-2 diagonal averaging
filters into ``D1(y)`` (mean of the anti-diagonal pixels) and ``D2(y)`` (mean
of the diagonal pixels): two half-resolution images of the same scene with
nearly independent noise.  A residual network ``f`` (predicting the noise) is
trained on them with

- the residual loss ``1/2 (|D1 - f(D1) - D2|^2 + |D2 - f(D2) - D1|^2)``
  (Noise2Noise between the pair, in both directions) and
- the consistency loss ``1/2 (|D1 - f(D1) - D1(y - f(y))|^2 + (same for D2))``,

and the estimate is ``y - f(y)``.  The published recipe (:data:`PAPER_RECIPE`)
runs 3000 full-image Adam steps.  The fast default recipe (:data:`DEFAULTS`)
gets the same quality in about a tenth of the time or less on a CPU (Set12,
sigma 25, images 01-03, one torch thread: +0.11 dB on average, -0.22 dB at
worst, at 1/14 of the CPU time; see ``benchmarks/bench_zs_n2n.py``), because

- each step trains on a random 64x64 crop (16x cheaper than a 256x256 image;
  the network sees only 5x5 pixels, so crops lose little but a border),
  and many cheap noisy steps beat few exact ones: 3000 crop steps cost about
  7 % of the paper's 3000 full-image steps on a 256x256 image, and the cost
  does not grow with the image;
- a one-cycle schedule (warm-up, cosine decay) at a peak learning rate of
  8e-3 instead of a step schedule at 1e-3;
- the final estimate averages the 8 flips/rotations of the image (8 cheap
  forward passes; about +0.2 dB);
- random flips of the training crops are off by default: they cost about
  0.3 dB on Set12 (the tiny network then has to be rotation-invariant).

A self-supervised early stop (``patience``) watches the loss on a fixed
crop and anneals the learning rate when it stalls; it never looks at a clean
image.  On Set12 (sigma 25) it ends the fits of the 512x512 images after
2100-2800 steps and does not fire on the 256x256 ones (their loss still
improves when the schedule ends at 3000 steps).  ``channels_last`` was
slower on a CPU; ``torch.compile`` was not tried (its start-up takes about as
long as a whole fit).

The network and losses live in :mod:`.zs_n2n_net`, the fit in
:mod:`.zs_n2n_fit`; this module re-exports them and registers ``zs_n2n``.
"""

from __future__ import annotations

import numpy as np

from .registry import DenoiserSpec, Param, register
from .zs_n2n_fit import (  # noqa: F401  (constants re-exported from their old home)
    DEFAULTS,
    EVAL_CROP,
    EVAL_EVERY,
    FINAL_LR,
    PAPER_RECIPE,
    ZSN2NFit,
    fit_zs_n2n,
)
from .zs_n2n_net import ZSN2NNet, pair_downsample, zs_n2n_losses

__all__ = [
    "PAPER_RECIPE",
    "ZSN2NFit",
    "ZSN2NNet",
    "denoise_zs_n2n",
    "fit_zs_n2n",
    "pair_downsample",
    "zs_n2n_losses",
]


def denoise_zs_n2n(image: np.ndarray, *, sigma: float, seed: int = 0, **params):
    """Zero-shot Noise2Noise (Mansour & Heckel 2023) as a registry method (generator).

    ``sigma`` is not needed by the method and is ignored.
    """
    fit = yield from fit_zs_n2n(image, seed=seed, **params)
    return fit.estimate


_INT = dict(kind="int", min=0, max=100000)
_STEPS = dict(kind="int", min=1, max=100000, step=100)
register(
    DenoiserSpec(
        name="zs_n2n",
        func=denoise_zs_n2n,
        params=(
            Param("iterations", DEFAULTS["iterations"], "Max Adam steps (paper: 3000).", **_STEPS),
            Param("lr", DEFAULTS["lr"], "Peak learning rate (paper: 0.001).", min=1e-5, max=0.1),
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
    )
)
