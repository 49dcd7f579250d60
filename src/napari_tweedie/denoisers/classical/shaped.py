"""Colour and volume paths of the spatial-domain classical denoisers.

The registry's ``func`` of gaussian, bilateral, tv and nl_means.  A grey
(H, W) plane with a scalar ``sigma`` takes the original path of
:mod:`.filters` unchanged; a channel-last image (``sigma`` of shape (C,))
and a (Z, Y, X) volume (``spacing=(dz, dy, dx)``) take the joint / 3-D path
below (layouts in :mod:`.layout`).  Widths are in Y/X pixels: along Z they
span ``width * dy / dz`` slices.

Defaults of the new paths (``None`` parameters) are multiples of sigma tuned
by ``benchmarks/bench_color.py`` and ``benchmarks/bench_volume.py``.
"""

from __future__ import annotations

import numpy as np

from .filters import (
    BILATERAL_COLOR_FACTOR,
    BILATERAL_SIGMA_SPATIAL,
    NLM_H_FACTOR,
    copy32,
    denoise_bilateral,
    denoise_gaussian,
    denoise_nl_means,
    denoise_tv,
    dynamic_range,
    gaussian_sigma_spatial,
)
from .layout import Layout, axis_scales, equalise, layout

__all__ = ["bilateral", "gaussian", "nl_means", "tv"]

#: Joint bilateral: range width per channel = factor * C^(1/4) * its sigma (the range
#: distance sums C channels; 3 * 3^(1/4) = 3.9, best 4-5 on chelsea/rocket/retina).
BILATERAL_JOINT_EXPONENT = 0.25
#: 3-D bilateral: range width 4 x sigma (the ball holds ~4x the disc's neighbours;
#: best of 1.5-6 on a held-out blob volume, 3 in 2-D).
BILATERAL_VOLUME_FACTOR = 4.0
#: Vectorial TV weight = 0.7 * sqrt(C) * the channels' common sigma: the coupled
#: gradient norm of C noisy channels grows as sqrt(C) (best 1.2 for C = 3 on
#: chelsea/rocket/retina).  3-D TV weight: 1.0 x sigma (best on a held-out blob
#: volume).  Both with scikit-image's stopping rule (:mod:`.tv_nd`), which makes
#: the PSNR a bumpy function of the weight.
TV_JOINT_FACTOR = 0.7
TV_VOLUME_FACTOR = 1.0
#: NL-means h with joint colour patches (scikit-image averages the patch distance
#: over channels; best 0.6 on chelsea/rocket/retina), and with 3-D patches
#: (best 0.5 of 0.5-0.8 on a held-out blob volume).
NLM_JOINT_H_FACTOR = 0.6
NLM_VOLUME_H_FACTOR = 0.5


def _channel_last(image: np.ndarray, lay: Layout) -> np.ndarray:
    """The image as float32 (*spatial, C)."""
    array = np.asarray(image, np.float32)
    return array if lay.colour else array[..., None]


def _restore(result: np.ndarray, lay: Layout) -> np.ndarray:
    """Back from (*spatial, C) to the input's layout, float32."""
    return np.asarray(result if lay.colour else result[..., 0], dtype=np.float32)


def gaussian(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    sigma_spatial: float | None = None,
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Gaussian smoothing (linear low-pass filter) of a plane, colour image or volume.

    A linear filter is separable over channels, so colour is filtered per
    channel (each with its default width when ``sigma_spatial`` is None); the
    registry entry is ``channels="per_channel"`` for that reason, and this
    function also takes a channel-last image with a per-channel sigma.  In
    a volume the width along Z is ``sigma_spatial * dy / dz`` slices: an
    infinite ``dz`` gives no z smoothing, the slice-wise result.  The default
    width is the 2-D rule's (``nt.denoise`` resolves it once for the whole
    image); on a blob volume at sigma 0.1 the best 3-D width was about 2/3 of it.
    """
    lay = layout(np.asarray(image), sigma, spacing)
    if lay.plane:
        return denoise_gaussian(image, sigma=float(sigma), seed=seed, sigma_spatial=sigma_spatial)
    from scipy import ndimage

    data = _channel_last(image, lay)
    scales = axis_scales(lay.spacing)
    out = np.empty_like(data)
    for c in range(data.shape[-1]):
        channel = data[..., c]
        width = sigma_spatial
        if width is None:
            noise = float(lay.sigma[c])
            width = gaussian_sigma_spatial(noise, dynamic_range(channel)) if noise > 0 else 0.0
        widths = [float(width) * s for s in scales]
        out[..., c] = ndimage.gaussian_filter(channel, widths, mode="reflect", output=np.float32)
    return _restore(out, lay)


def bilateral(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    sigma_spatial: float = BILATERAL_SIGMA_SPATIAL,
    sigma_color: float | None = None,
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Bilateral filter (Tomasi & Manduchi 1998): joint colour range kernel, 3-D window.

    Colour: one range weight from the distance over all channels, each
    normalised by its range width (``sigma_color``, or ``3 C^(1/4)`` x its sigma),
    so every channel is averaged over the same neighbours.  Volumes: a ball
    window in physical units, an anti-aliased ball of radius ``1.5 * sigma_spatial`` Y pixels.
    """
    lay = layout(np.asarray(image), sigma, spacing)
    if lay.plane:
        return denoise_bilateral(
            image, sigma=float(sigma), sigma_spatial=sigma_spatial, sigma_color=sigma_color
        )
    from .bilateral_nd import bilateral_filter_nd

    factor = BILATERAL_VOLUME_FACTOR if lay.volume else BILATERAL_COLOR_FACTOR
    factor *= lay.sigma.shape[0] ** BILATERAL_JOINT_EXPONENT
    widths = factor * lay.sigma if sigma_color is None else np.full(lay.sigma.shape, sigma_color)
    data = _channel_last(image, lay)
    if not np.all(widths > 0):  # a vanishing range width: the identity
        return copy32(image)
    scales = axis_scales(lay.spacing)
    volume = data if lay.volume else data[None]
    out = bilateral_filter_nd(
        volume, float(sigma_spatial), widths, scales=(0.0,) * (not lay.volume) + scales
    )
    return _restore(out if lay.volume else out[0], lay)


def tv(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    weight: float | None = None,
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Rudin-Osher-Fatemi total variation: vectorial for colour, anisotropic 3-D for volumes.

    Colour channels are scaled to a common noise level and share one
    gradient norm per pixel (:func:`.tv_nd.tv_denoise_nd`); in a volume the
    z differences are weighed by ``dy / dz``.  ``weight`` in image units
    (of the common level for colour); ``None``: a multiple of sigma.
    """
    lay = layout(np.asarray(image), sigma, spacing)
    if lay.plane:
        return denoise_tv(image, sigma=float(sigma), weight=weight)
    from .tv_nd import tv_denoise_nd

    data, common, factors = equalise(_channel_last(image, lay), lay.sigma)
    factor = TV_JOINT_FACTOR * np.sqrt(data.shape[-1]) if lay.colour else TV_VOLUME_FACTOR
    value = factor * common if weight is None else float(weight)
    out = tv_denoise_nd(data, value, axis_scales(lay.spacing)) / factors
    return _restore(out, lay)


def nl_means(
    image: np.ndarray,
    *,
    sigma,
    seed: int = 0,
    patch_size: int = 5,
    patch_distance: int = 6,
    h: float | None = None,
    spacing: tuple[float, ...] | None = None,
) -> np.ndarray:
    """Non-local means (Buades, Coll & Morel 2005) with joint colour patches and 3-D patches.

    scikit-image's fast mode: colour patches compare all channels at once
    (channels first scaled to a common noise level); volumes use cubic
    patches and search windows in voxels.  scikit-image has no anisotropic
    patches, so ``spacing`` only decides whether z is searched at all: when
    the z reach ``patch_distance * dy / dz`` is under one slice, the volume
    is filtered slice by slice.
    """
    lay = layout(np.asarray(image), sigma, spacing)
    if lay.plane:
        return denoise_nl_means(
            image, sigma=float(sigma), patch_size=patch_size, patch_distance=patch_distance, h=h
        )
    data, common, factors = equalise(_channel_last(image, lay), lay.sigma)
    if common <= 0 and h is None:
        return copy32(image)
    slice_wise = lay.volume and patch_distance * axis_scales(lay.spacing)[0] < 1.0
    factor = NLM_VOLUME_H_FACTOR if lay.volume and not slice_wise else NLM_H_FACTOR
    value = (NLM_JOINT_H_FACTOR if lay.colour else factor) * common if h is None else float(h)
    if slice_wise:
        ones = np.full(data.shape[-1], common)
        slices = [
            nl_means(
                plane, sigma=ones, h=value, patch_size=patch_size, patch_distance=patch_distance
            )
            for plane in data
        ]
        return _restore(np.stack(slices) / factors, lay)
    pad = int(patch_distance) + int(patch_size)
    widths = [(pad, pad)] * (data.ndim - 1) + [(0, 0)]
    padded = np.pad(data, widths, mode="symmetric")
    from skimage import restoration

    result = restoration.denoise_nl_means(
        padded,
        patch_size=int(patch_size),
        patch_distance=int(patch_distance),
        h=value,
        fast_mode=True,
        sigma=max(common, 0.0),
        preserve_range=True,
        channel_axis=-1,
    )
    inner = tuple(slice(pad, -pad) for _ in range(data.ndim - 1))
    result = np.asarray(result, np.float32).reshape(padded.shape)  # a single channel is squeezed
    return _restore(result[inner] / factors, lay)
