"""Registry entries of the classical (training-free) denoisers (:data:`SPECS`).

The methods live in :mod:`.filters` (Gaussian, bilateral, total variation,
non-local means) and :mod:`.transform_domain` (wavelet, BM3D) for grey planes;
their colour (``channels="joint"``) and volume (``volumetric=True``) paths,
and BM4D, in :mod:`.shaped` and :mod:`.shaped_transform`.
"""

from __future__ import annotations

import math

import numpy as np

from ...specs import Param
from ..registry import DenoiserSpec
from .bilateral import soft_disc_reach
from .filters import (
    BILATERAL_COLOR_FACTOR,
    BILATERAL_SIGMA_SPATIAL,
    GAUSSIAN_LIMITS,
    NLM_H_FACTOR,
    TV_HALO,
    TV_WEIGHT_FACTOR,
    dynamic_range,
    gaussian_divergence,
    gaussian_sigma_spatial,
)
from .shaped import bilateral, gaussian, nl_means, tv
from .shaped_transform import bm3d, bm4d, bm4d_missing, wavelet
from .transform_domain import BM3D_HALO, WAVELET_HALO, bm3d_missing

# --- radii (tile overlap) ---------------------------------------------------


def _gaussian_radius(sigma: float, sigma_spatial: float | None = None, **_: object) -> int:
    width = GAUSSIAN_LIMITS[1] if sigma_spatial is None else float(sigma_spatial)
    return int(math.ceil(4.0 * width))


def _bilateral_radius(
    sigma: float, sigma_spatial: float = BILATERAL_SIGMA_SPATIAL, **_: object
) -> int:
    return soft_disc_reach(sigma_spatial)  # >= the colour/3-D disc's round(1.5 s)


def _nl_means_radius(
    sigma: float, patch_size: int = 5, patch_distance: int = 6, **_: object
) -> int:
    return int(patch_distance) + int(patch_size)


def _resolve_gaussian(sample: np.ndarray, sigma: float, params: dict) -> dict:
    """Fix the data-dependent default width once for the whole image (same for every tile)."""
    if params.get("sigma_spatial") is not None:
        return params
    # per-channel sigma (channels="joint"): one width from the mean level
    noise = float(np.mean(sigma))
    return params | {"sigma_spatial": gaussian_sigma_spatial(noise, dynamic_range(sample))}


def _fixed_radius(halo: int):
    def radius(sigma: float, **_: object) -> int:
        return halo

    return radius


BM4D_HALO = 32

# --- registry entries -------------------------------------------------------

_SIGMA_SPATIAL_TIP = "Gaussian width in pixels"

#: BM3D's and BM4D's two stages (the same in both packages)
_STAGE = Param(
    "stage",
    "all",
    "all: hard thresholding then Wiener filtering; hard: first stage only (faster).",
    kind="choice",
    choices=("all", "hard"),
)


def _profile(package: str, choices: tuple[str, ...]) -> Param:
    """The ``profile`` parameter of the ``bm3d`` or ``bm4d`` package."""
    return Param(
        "profile", "np", f"Parameter profile of the {package} package (np: normal).",
        kind="choice", choices=choices,
    )  # fmt: skip


SPECS = (
    DenoiserSpec(
        name="gaussian",
        func=gaussian,
        params=(
            Param(
                "sigma_spatial",
                None,
                f"{_SIGMA_SPATIAL_TIP}. Empty: 0.2 + 10 x noise sigma / dynamic range, "
                "clipped to [0.5, 4].",
                min=0.1,
                max=50.0,
                step=0.1,
            ),
        ),
        summary="Gaussian smoothing (linear low-pass baseline).",
        radius=_gaussian_radius,
        resolve=_resolve_gaussian,
        divergence=gaussian_divergence,
        # linear and separable: per channel (each with its own default width) is
        # already the joint result; func also takes (H, W, C) with a sigma array
        volumetric=True,
    ),
    DenoiserSpec(
        name="bilateral",
        func=bilateral,
        params=(
            Param(
                "sigma_spatial",
                BILATERAL_SIGMA_SPATIAL,
                f"{_SIGMA_SPATIAL_TIP} of the spatial weight; window radius 1.5x this.",
                min=0.5,
                max=20.0,
                step=0.1,
            ),
            Param(
                "sigma_color",
                None,
                "Range (intensity) width in image units: larger mixes more across edges. "
                "Empty: 3 x noise sigma.",
                min=0.0,
                image_units=True,
                per_sigma=BILATERAL_COLOR_FACTOR,
            ),
        ),
        summary="Bilateral filter (Tomasi & Manduchi 1998), compiled with numba.",
        radius=_bilateral_radius,
        channels="joint",
        volumetric=True,
    ),
    DenoiserSpec(
        name="tv",
        func=tv,
        params=(
            Param(
                "weight",
                None,
                "Total variation weight in image units: larger gives flatter regions. "
                "Empty: 0.8 x noise sigma.",
                min=0.0,
                image_units=True,
                per_sigma=TV_WEIGHT_FACTOR,
            ),
        ),
        summary="Rudin-Osher-Fatemi total variation (Chambolle's projection algorithm).",
        # nt.sure's 2 x 2 lattice probes (5 calls; tune and the live rating keep one probe):
        # median error at sigma 50 3.2 -> 2.2 % on 16 whole images (sure_full_tv_probes4.txt)
        extra={"sure_probes": 4},
        radius=_fixed_radius(TV_HALO),
        channels="joint",
        volumetric=True,
    ),
    DenoiserSpec(
        name="nl_means",
        func=nl_means,
        params=(
            Param(
                "patch_size",
                5,
                "Side of the compared patches, pixels.",
                kind="int",
                min=3,
                max=15,
                step=2,
            ),
            Param(
                "patch_distance",
                6,
                "Search distance, pixels: larger finds more similar patches but is slower.",
                kind="int",
                min=1,
                max=30,
                step=1,
            ),
            Param(
                "h",
                None,
                "Patch-weight cut-off in image units: larger smooths more. "
                "Empty: 0.7 x noise sigma.",
                min=0.0,
                image_units=True,
                per_sigma=NLM_H_FACTOR,
            ),
        ),
        summary="Non-local means (Buades, Coll & Morel 2005), scikit-image fast mode.",
        radius=_nl_means_radius,
        channels="joint",
        volumetric=True,
    ),
    DenoiserSpec(
        name="wavelet",
        func=wavelet,
        params=(
            Param(
                "wavelet",
                "sym4",
                "Orthogonal wavelet family (PyWavelets name).",
                kind="choice",
                choices=("db1", "db2", "db4", "db8", "sym4", "sym8", "coif1", "coif3"),
            ),
            Param(
                "mode",
                "soft",
                "Thresholding rule: soft shrinks, hard keeps or kills coefficients.",
                kind="choice",
                choices=("soft", "hard"),
            ),
            Param(
                "shifts",
                2,
                "Cycle spinning: average over all shifts up to this many pixels "
                "((shifts + 1)^2 transforms); 0 turns it off.",
                kind="int",
                min=0,
                max=4,
                step=1,
            ),
        ),
        summary="Wavelet shrinkage, BayesShrink thresholds (Chang, Yu & Vetterli 2000).",
        # hard thresholds jump: a step of 0.03 sigma keeps SURE's finite difference steady;
        # nt.sure's 2 x 2 lattice probes (5 calls, 1 in the widget's live rating): median error
        # at sigma 50 3.5 -> 2.8 % on 16 whole images (benchmarks/results/sure_full_wavelet.txt)
        extra={"sure_epsilon": 0.03, "sure_probes": 4},
        radius=_fixed_radius(WAVELET_HALO),
        channels="joint",
        volumetric=True,
    ),
    DenoiserSpec(
        name="bm3d",
        func=bm3d,
        params=(
            _STAGE,
            _profile("bm3d", ("np", "refilter", "vn", "high", "deb")),
        ),
        summary="BM3D block matching and 3-D filtering (Dabov et al. 2007); optional extra.",
        fast=False,
        # block matching makes f piecewise: SURE's finite difference needs a wider step;
        # 2 x 2 lattice probes (5 calls; bm3d is no live method): median error at sigma 50
        # 3.6 -> 1.8 % on Set12 08-12 (benchmarks/results/sure_full_bm3d_s50_probes4.txt)
        extra={"sure_epsilon": 0.1, "sure_probes": 4},
        radius=_fixed_radius(BM3D_HALO),
        requires=bm3d_missing,
        channels="joint",
    ),
    DenoiserSpec(
        name="bm4d",
        func=bm4d,
        params=(
            _STAGE,
            _profile("bm4d", ("np", "refilter")),
        ),
        summary="BM4D block matching and 4-D filtering of volumes (Maggioni et al. 2013); "
        "optional extra. Planes run as 1-slice volumes: use bm3d for them.",
        fast=False,
        radius=_fixed_radius(BM4D_HALO),
        requires=bm4d_missing,
        volumetric=True,
    ),
)
