"""Registry entry of Filter2Noise (Sun et al. 2025): ``nt.denoise(image, "filter2noise")``."""

from __future__ import annotations

from ...specs import Param
from ..registry import DenoiserSpec
from .fit import denoise_filter2noise

SPECS = (
    DenoiserSpec(
        name="filter2noise",
        func=denoise_filter2noise,
        params=(
            Param(
                "iterations",
                400,
                "Maximum training steps (stops early on a loss plateau).",
                kind="int",
                min=1,
                max=20000,
                step=50,
            ),
            Param(
                "learning_rate",
                0.01,
                "Peak learning rate of the one-cycle AdamW schedule.",
                min=1e-5,
                max=1.0,
                step=0.001,
            ),
            Param(
                "stages",
                2,
                "Chained bilateral stages (2 = F2N-S2, about 3.6k parameters).",
                kind="int",
                min=1,
                max=4,
            ),
            Param(
                "radius",
                4,
                "Filter window half size in pixels; spatial sigmas <= radius / 2.",
                kind="int",
                min=1,
                max=10,
            ),
            Param(
                "edge_weight",
                3.0,
                "Weight of the difference-of-Gaussians edge term: "
                "larger keeps more detail (and noise).",
                min=0.0,
                max=1000.0,
                step=0.5,
            ),
            Param(
                "crop",
                128,
                "Side of the random training window per step (cost per step).",
                kind="int",
                min=32,
                max=1024,
                step=32,
            ),
        ),
        summary="Filter2Noise (Sun et al. 2025): attention-guided bilateral filter "
        "trained self-supervised on the image itself",
        fast=False,
        iterative=True,
        gaussian_only=False,
        channels="joint",
    ),
)
