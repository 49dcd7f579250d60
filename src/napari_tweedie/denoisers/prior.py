"""Registry entry of the bundled diffusion prior as a Gaussian denoiser (``"prior"``).

The implementation, :func:`napari_tweedie.prior.denoiser.denoise_prior`,
loads torch; it is imported on the first call.
"""

from __future__ import annotations

import numpy as np

from ..specs import Param
from .registry import DenoiserSpec

__all__ = ["PRIOR_HALO", "SPECS", "denoise_prior"]

#: Tile overlap in pixels (the network's effective reach is well inside it).
PRIOR_HALO = 32


def denoise_prior(
    image: np.ndarray,
    *,
    sigma: float | np.ndarray,
    seed: int = 0,
    tile: int = 512,
    ensemble: bool = False,
    device: str = "auto",
    data_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """The bundled prior's Tweedie estimate ``E[x0 | x]`` of a plane (registry function).

    ``seed`` is unused (the network is deterministic); the other parameters
    are those of :func:`napari_tweedie.prior.denoiser.denoise_prior`, with
    tiles overlapping by :data:`PRIOR_HALO` pixels.  A channel-last (H, W, C)
    ``image`` (``channels="joint"``, ``sigma`` of shape (C,)) is denoised per
    channel of the orthonormal opponent colour space
    (:func:`napari_tweedie.prior.colour.denoise_colour`), ``data_range`` then
    holding one range per opponent channel.  Volumes are not handled in 3-D:
    the network is 2-D and runs plane by plane.  ``nt.denoise`` and
    ``denoise_lazy`` fix ``data_range`` once for the whole array (from the
    sample the noise is estimated on), so that every tile and every plane of
    a stack is scaled alike.  ``device`` is the API's ``device`` keyword
    (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``), not a
    parameter of the entry: one keyword, one picker, for every torch method.
    """
    from ..prior.denoiser import denoise_prior as denoise

    options = dict(halo=PRIOR_HALO, tile=tile, ensemble=ensemble, device=device)
    if np.ndim(image) == 3:  # channel-last colour: per channel in the opponent space
        from ..prior.colour import denoise_colour

        return denoise_colour(denoise, image, sigma=sigma, data_range=data_range, **options)
    return denoise(image, sigma=float(sigma), data_range=data_range, **options)


def _weights_missing() -> str | None:
    from ..prior.bundled import weights_missing_message

    return weights_missing_message()


def _resolve_range(sample: np.ndarray, sigma: float, params: dict) -> dict:
    """Fix the data range once for the whole image (the same scaling for every tile)."""
    if params.get("data_range") is not None:
        return params
    if np.ndim(sigma) == 1 and np.ndim(sample) >= 3 and sample.shape[-1] == np.size(sigma):
        from ..prior.colour import colour_ranges  # a colour sample: one range per channel

        return params | {"data_range": colour_ranges(sample)}
    from ..prior.denoiser import unit_range

    return params | {"data_range": unit_range(sample)}


def _jvp(image: np.ndarray, tangent: np.ndarray, **params) -> tuple[np.ndarray, np.ndarray]:
    """Output and exact Jacobian-vector product (SURE's divergence, :mod:`..tuning.jvp`)."""
    from ..tuning.jvp import prior_jvp

    return prior_jvp(image, tangent, **params)


def _radius(sigma: float, **params: object) -> int:
    return PRIOR_HALO


SPECS = (
    DenoiserSpec(
        name="prior",
        func=denoise_prior,
        params=(
            Param(
                "tile",
                512,
                "Tile size (pixels) for large planes",
                kind="int",
                min=128,
                max=4096,
                step=64,
            ),
            Param(
                "ensemble",
                False,
                "Average over 8 rotations/flips (slightly better, 8x slower)",
                kind="bool",
            ),
        ),
        summary=(
            "Bundled diffusion prior: bias-free UNet with EDM preconditioning trained on "
            "offline images (scikit-image, pydicom, stardist, matplotlib); Tweedie estimate"
        ),
        fast=True,
        radius=_radius,
        requires=_weights_missing,
        resolve=_resolve_range,
        posterior_mean=True,
        channels="joint",
        # lattice-coloured SURE probes, 2 x 2 classes in one batched pass: the probe's scatter
        # 2.6 % -> 1.0 % of the MSE at 256 px (benchmarks/results/sure_probes_prior.txt)
        extra={"jvp": _jvp, "sure_probes": 4},
    ),
)
