"""Public denoising API: ``denoise`` (in memory), ``denoise_steps``, ``denoise_lazy`` (tiled).

Every registered method works on one float32 (Y, X) plane; this module adds
what users need around it: any dtype and dimensionality (leading axes are
looped over), dask inputs, NaNs, noise-level estimation, non-Gaussian noise
through a variance-stabilising transform (both in :mod:`.noise.setup`), seeds,
and tiling of large arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import dask.array as da
import numpy as np

from .api_shapes import check_layout, device_params, divide_sigma, scalar_sigma, shaped_steps
from .api_tiles import _TileDenoiser, shaped_lazy
from .data.finite import fill_non_finite
from .data.tiles import map_tiles
from .denoisers import DENOISERS, DenoiserSpec
from .noise.registry import noise_model_class
from .noise.setup import NoiseSetup, finite_sample, noise_keywords, resolve_noise, sample_planes
from .specs import Param
from .steps import Step, blocking
from .validation import (
    check_count,
    check_image,
    check_noise,
    check_noise_data,
    check_value,
    intensity_scale,
    route,
)

DEFAULT_TILE = 512  # widgets, CLI and recipes alike: a replay tiles as the widget did


def get_spec(method: str) -> DenoiserSpec:
    """The registry entry of ``method``, with a clear error for unknown or unavailable ones."""
    if method not in DENOISERS:
        raise ValueError(f"unknown method {method!r}; available: {', '.join(sorted(DENOISERS))}")
    spec = DENOISERS[method]
    spec.check_available()
    return spec


def split_params(spec: DenoiserSpec, noise: str, params: dict) -> tuple[dict, dict]:
    """Split keyword arguments into method parameters and noise parameters; reject unknowns."""
    keys = noise_keywords(noise)
    noise_params = tuple(p for p in noise_model_class(noise).params if p.name in keys)
    given, noise_given = route(params, {spec.name: spec.params, f"noise {noise!r}": noise_params})
    return spec.defaults() | given, noise_given


_SIGMA = Param("sigma", None, "noise standard deviation", min=0.0)


def checked_params(spec: DenoiserSpec, noise: str, sigma, params: dict) -> tuple[dict, dict]:
    """:func:`split_params` with every value checked against its ``Param`` and noise model."""
    method_params, noise_params = split_params(spec, noise, params)
    check_noise(noise_model_class(noise), noise_params)
    check_value(_SIGMA, sigma, "noise")
    return method_params, noise_params


@dataclass(frozen=True)
class _Scaled:
    """An image of extreme magnitude divided by ``scale`` (a power of two), and its settings."""

    scale: float
    sigma: float | None
    noise_params: dict
    method_params: dict


def _rescale(spec, noise, scale, sigma, noise_params, method_params) -> _Scaled:
    """Settings in the image's units (``Param.image_units``) divided by ``scale`` like the image."""
    scale = 1.0 if spec.extra.get("fixed_units") else scale  # a model fitted in these units

    def divide(params: tuple[Param, ...], values: dict) -> dict:
        units = {p.name for p in params if p.image_units}
        return {k: v / scale if k in units and v is not None else v for k, v in values.items()}

    return _Scaled(
        scale,
        divide_sigma(sigma, scale),
        divide(noise_model_class(noise).params, noise_params),
        divide(spec.params, method_params),
    )


def _as_float_image(image) -> np.ndarray:
    if isinstance(image, da.Array):
        image = image.compute()
    array = np.asarray(image)
    check_image(array)
    return array.astype(np.float32, copy=False)


def denoise_steps(
    image,
    method: str,
    *,
    noise: str = "gaussian",
    sigma=None,
    seed: int = 0,
    channel_axis: int | None = None,
    volumetric: bool = False,
    spacing=None,
    device: str = "auto",
    **params,
) -> Generator[Step, None, np.ndarray]:
    """Denoise an image with a registered method (see ``napari_tweedie.DENOISERS``).

    ``denoise_steps`` yields a :class:`Step` after each plane (cancel by closing
    it; napari's ``worker.quit()`` does) and returns the result; ``denoise`` is
    its blocking form.

    Parameters
    ----------
    image : array-like (numpy or dask), at least 2-D
        The last two axes are Y, X; leading axes (Z, T, ...) are processed
        plane by plane, except by dataset-level methods (``"noise2score"``),
        which fit one model on all planes and denoise them all.  Any real
        dtype; NaNs are kept where they were.
    method : str
        A key of ``DENOISERS``: ``"gaussian"``, ``"bilateral"``, ``"tv"``,
        ``"nl_means"``, ``"wavelet"``, ``"bm3d"``, ...
    noise : str
        A key of ``NOISE_MODELS``: ``"gaussian"``, ``"poisson"``,
        ``"poisson_gaussian"``, ``"gamma"``.  Gaussian denoisers handle the
        others through the model's variance-stabilising transform
        (generalised Anscombe, log for Gamma).
    sigma : float or sequence of float, optional
        Gaussian noise standard deviation in the image's units; ``None``
        estimates it (Immerkaer's estimator on textureless 8x8 blocks), per
        channel with ``channel_axis``.  With ``noise="poisson_gaussian"`` the
        Gaussian part's standard deviation.  One value per channel with
        ``channel_axis``.
    seed : int
        Seed of any randomness (plane ``i`` uses ``seed + i``).
    channel_axis : int, optional
        The axis holding colour or channels (as in scikit-image): noise is
        estimated and modelled per channel; methods with
        ``spec.channels == "joint"`` see all channels at once, the others run
        per channel (see :mod:`napari_tweedie.api_shapes`).
    volumetric : bool
        The last three non-channel axes are Z, Y, X and the method works in
        3-D (methods with ``spec.volumetric``; others raise ValueError).
    spacing : sequence of float, optional
        Voxel size (dz, dy, dx) (or (dy, dx) for planes; default 1): with
        ``volumetric``, widths are in Y/X pixels and the Z reach is scaled.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``: passed to
        methods whose function takes a ``device`` (others run where they run).
    **params
        Method parameters (``DENOISERS[method].params``) and noise parameters:
        ``zeta`` (poisson, poisson_gaussian) and ``k`` (gamma); missing noise
        parameters are estimated from the image.

    Returns
    -------
    numpy.ndarray
        float32 array of the input's shape and axis order (the generator's return value).
    """
    spec = get_spec(method)
    method_params, noise_params = checked_params(spec, noise, scalar_sigma(sigma), params)
    method_params |= device_params(spec, device)
    data = _as_float_image(image)
    layout = check_layout(spec, data.ndim, channel_axis, volumetric, spacing, sigma)
    sample = sample_planes(data)
    scaled = _rescale(spec, noise, intensity_scale(sample), sigma, noise_params, method_params)
    if scaled.scale != 1:
        data, sample = data / np.float32(scaled.scale), sample / np.float32(scaled.scale)
    if layout.shaped:
        values = (scaled.sigma, seed, scaled.noise_params, scaled.method_params)
        result = yield from shaped_steps(spec, data, layout, noise, *values)
    else:
        result = yield from _denoise_planes(spec, data, sample, noise, scaled, seed)
    return result * np.float32(scaled.scale) if scaled.scale != 1 else result


def _denoise_planes(spec, data, sample, noise, scaled: _Scaled, seed) -> Generator:
    """:func:`denoise_steps` on ``data`` of unit-order magnitude."""
    sigma, noise_params, method_params = scaled.sigma, scaled.noise_params, scaled.method_params
    check_noise_data(noise_model_class(noise), sample)
    if spec.extra.get("dataset"):
        return (
            yield from _dataset_steps(spec, data, noise, sigma, seed, noise_params, method_params)
        )
    setup, method_params = _noise_setup(spec, sample, noise, sigma, noise_params, method_params)
    planes = data.reshape((-1,) + data.shape[-2:])
    out = np.empty_like(planes)
    for index, plane in enumerate(planes):
        filled, bad = fill_non_finite(plane)
        out[index] = yield from setup.apply_steps(spec, filled, seed + index, method_params)
        if bad is not None:
            out[index][bad] = np.nan
        yield Step(index + 1, len(planes), setup.sigma, x=plane, x0_hat=out[index])
    return out.reshape(data.shape)


def _noise_setup(
    spec: DenoiserSpec, sample, noise: str, sigma, noise_params: dict, method_params: dict
) -> tuple[NoiseSetup, dict]:
    """The noise set-up and ``method_params`` with data-dependent defaults filled.

    Both come from one sample of the planes (:func:`sample_planes`), so that
    every plane or tile uses the same.
    """
    setup = resolve_noise(sample, noise, sigma, noise_params)
    return setup, setup.resolve(spec, finite_sample(sample), method_params)


def _dataset_steps(
    spec: DenoiserSpec, data: np.ndarray, noise, sigma, seed, noise_params, method_params
) -> Generator[Step, None, np.ndarray]:
    """A dataset-level method (``spec.extra["dataset"]``): all planes of ``data`` at once.

    Such methods (Noise2Score) fit one model on all planes as one dataset and
    denoise them all; they take the noise model and its known parameters
    themselves (``func(stack, sigma=..., seed=..., noise=..., **noise_params,
    **params)``) and handle NaNs.
    """
    stack = data.reshape((-1,) + data.shape[-2:])
    if not np.isfinite(stack).any():
        raise ValueError("the image has no finite values")
    result = spec.func(stack, sigma=sigma, seed=seed, noise=noise, **noise_params, **method_params)
    if spec.iterative:
        result = yield from result
    return np.asarray(result, dtype=np.float32).reshape(data.shape)


denoise = blocking(denoise_steps)


def denoise_lazy(
    image,
    method: str,
    *,
    noise: str = "gaussian",
    sigma=None,
    seed: int = 0,
    channel_axis: int | None = None,
    volumetric: bool = False,
    spacing=None,
    device: str = "auto",
    tile: int = DEFAULT_TILE,
    overlap: int | None = None,
    cancelled: Callable[[], bool] | None = None,
    **params,
) -> da.Array:
    """Tiled, lazy :func:`denoise` for arrays larger than memory (dask in, dask out).

    Noise parameters are estimated once from a sample of the array; each tile
    (with ``overlap`` pixels of context, default the method's radius) is
    denoised with them and borders are blended linearly (see
    :func:`~napari_tweedie.data.map_tiles`).

    ``cancelled``, a function polled from the worker threads (a GUI's Cancel
    flag), is checked before each tile's plane and, for the methods that fit
    (Filter2Noise, zero-shot Noise2Noise), at every training step: once it
    returns True the computation raises :class:`~napari_tweedie.data.Cancelled`
    within a step rather than after the tile.  Methods with their own lazy path
    (Noise2Score) ignore it.  ``channel_axis``, ``volumetric`` and ``spacing``
    as in :func:`denoise`: volumes are tiled in 3-D blocks whose Z overlap is
    the overlap times dy / dz (rounded up); every tile keeps all channels.
    ``device`` as in :func:`denoise`.
    """
    spec = get_spec(method)
    method_params, noise_params = checked_params(spec, noise, scalar_sigma(sigma), params)
    method_params |= device_params(spec, device)
    tile = check_count("tile", tile, minimum=8, owner="denoise_lazy")
    overlap = None if overlap is None else check_count("overlap", overlap, 0, owner="denoise_lazy")
    check_image(image if hasattr(image, "dtype") else np.asarray(image))
    array = da.asarray(image)
    layout = check_layout(spec, array.ndim, channel_axis, volumetric, spacing, sigma)
    sample = sample_planes(array)
    scaled = _rescale(spec, noise, intensity_scale(sample), sigma, noise_params, method_params)
    if scaled.scale != 1:
        array = array.astype(np.float32) / np.float32(scaled.scale)
        sample = sample / np.float32(scaled.scale)
    check_noise_data(noise_model_class(noise), sample)
    sigma, noise_params, method_params = scaled.sigma, scaled.noise_params, scaled.method_params
    if layout.shaped:
        values = (sigma, seed, noise_params, method_params)
        tiling = {"tile": tile, "overlap": overlap, "cancelled": cancelled}
        result = shaped_lazy(spec, array, layout, noise, *values, **tiling)
    elif spec.extra.get("lazy"):
        result = spec.extra["lazy"](
            array, noise=noise, sigma=sigma, seed=seed, tile=tile, overlap=overlap,
            **noise_params, **method_params,
        )  # fmt: skip
    else:
        setup, method_params = _noise_setup(spec, sample, noise, sigma, noise_params, method_params)
        if overlap is None:
            overlap = spec.radius(setup.sigma, **method_params) if spec.radius else 32
        denoiser = _TileDenoiser(spec, setup, method_params, cancelled)
        result = map_tiles(denoiser, array.astype(np.float32), tile, int(overlap), seed=seed)
    return result * np.float32(scaled.scale) if scaled.scale != 1 else result
