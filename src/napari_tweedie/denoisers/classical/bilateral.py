"""Compiled bilateral filters (Tomasi & Manduchi 1998) on 2-D float32 images.

Two filters:

* :func:`bilateral_filter`: the classical filter with one spatial and one range
  width, on a disc-shaped window like OpenCV's ``cv2.bilateralFilter``;
* :func:`bilateral_filter_varying`: per-pixel anisotropic spatial widths and a
  per-pixel range width on a square window, the kernel of Filter2Noise (2025).

Both use symmetric ("reflect", ``numpy.pad(mode="symmetric")``) boundaries.
This module checks and converts the inputs; the numba loops (vectorised, with
a polynomial ``exp``) live in :mod:`.bilateral_kernels`, which is imported,
and its kernels compiled, on the first call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bilateral_filter", "bilateral_filter_varying", "default_radius", "soft_disc_reach"]


def default_radius(sigma_spatial: float) -> int:
    """Window radius OpenCV uses for ``d <= 0``: ``round(1.5 * sigma_spatial)``, at least 1."""
    return max(1, int(round(1.5 * float(sigma_spatial))))


def _writable_float32(value) -> np.ndarray:
    """C-contiguous, writable float32 array: one compiled signature per kernel."""
    array = np.ascontiguousarray(value, dtype=np.float32)
    return array if array.flags.writeable else array.copy()


def _as_image(image: np.ndarray) -> np.ndarray:
    array = _writable_float32(image)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {array.shape}")
    return array


def _check_positive(name: str, value: float, *, allow_inf: bool) -> None:
    if not value > 0 or (not allow_inf and not np.isfinite(value)):
        raise ValueError(
            f"{name} must be positive{'' if allow_inf else ' and finite'}, got {value}"
        )


def _disc_offsets(radius: int, sigma_spatial: float) -> tuple[np.ndarray, ...]:
    """Offsets within a disc of ``radius`` and their spatial exponents ``r^2 / (2 s^2)``."""
    dy, dx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    inside = dy**2 + dx**2 <= radius**2
    dys = np.ascontiguousarray(dy[inside], dtype=np.int64)
    dxs = np.ascontiguousarray(dx[inside], dtype=np.int64)
    uspat = ((dys**2 + dxs**2) * (0.5 / float(sigma_spatial) ** 2)).astype(np.float32)
    return dys, dxs, uspat


def soft_disc_reach(sigma_spatial: float) -> int:
    """Reach of the soft disc (:func:`_soft_disc_offsets`), pixels: ``ceil(1.5 s + 0.5)``."""
    return max(1, int(np.ceil(1.5 * float(sigma_spatial) + 0.5)))


def _soft_disc_offsets(sigma_spatial: float) -> tuple[np.ndarray, ...]:
    """An anti-aliased disc of radius ``R = 1.5 s``: full weight within ``R - 1/2``.

    Offsets between ``R - 1/2`` and ``R + 1/2`` are weighed by ``R + 1/2 - |d|``
    (a linear ramp, added to the exponent as ``-log``), so that the filter is a
    continuous function of ``sigma_spatial``: OpenCV's disc of radius
    ``round(1.5 s)`` moves the PSNR by up to 0.9 dB where the radius steps
    (``benchmarks/results/continuity.txt``), which no risk minimiser
    (:mod:`napari_tweedie.tuning`) can follow.
    """
    from .bilateral_nd import ball_offsets

    width = float(sigma_spatial)
    _, dys, dxs, exponent = ball_offsets(1.5 * width, width, (0.0, 1.0, 1.0), soft=True)
    return dys, dxs, exponent


def bilateral_filter(
    image: np.ndarray,
    sigma_spatial: float,
    sigma_color: float,
    *,
    radius: int | None = None,
    soft: bool = False,
) -> np.ndarray:
    """Bilateral filter (Tomasi & Manduchi 1998) of a 2-D image, compiled with numba.

    ``out(p) = sum_q w(p, q) I(q) / sum_q w(p, q)`` with
    ``w = exp(-|p - q|^2 / (2 sigma_spatial^2)) * exp(-(I(p) - I(q))^2 / (2 sigma_color^2))``
    over the disc ``|p - q| <= radius`` (as ``cv2.bilateralFilter``).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        Input; converted to float32.
    sigma_spatial : float
        Spatial Gaussian width in pixels (> 0).
    sigma_color : float
        Range Gaussian width in the image's units (> 0; ``inf`` gives a
        Gaussian blur on the disc).
    radius : int, optional
        Window radius in pixels; default ``round(1.5 * sigma_spatial)``, at
        least 1 (OpenCV's choice for ``d <= 0``; ``d = 2 * radius + 1``).
    soft : bool
        With ``radius=None``: an anti-aliased disc of radius ``1.5 *
        sigma_spatial`` instead (:func:`_soft_disc_offsets`), continuous in
        ``sigma_spatial``.

    Returns
    -------
    ndarray, shape (H, W), float32
        The filtered image.  Boundaries are handled by symmetric reflection.
    """
    array = _as_image(image)
    _check_positive("sigma_spatial", sigma_spatial, allow_inf=False)
    _check_positive("sigma_color", sigma_color, allow_inf=True)
    if radius is not None and int(radius) < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    out = np.empty_like(array)
    if array.size == 0:
        return out
    if soft and radius is None:
        dys, dxs, uspat = _soft_disc_offsets(sigma_spatial)
    else:
        radius = default_radius(sigma_spatial) if radius is None else int(radius)
        dys, dxs, uspat = _disc_offsets(radius, sigma_spatial)
    crange = np.float32(0.5 / float(sigma_color) ** 2)
    from .bilateral_kernels import bilateral_kernel

    bilateral_kernel(array, dys, dxs, uspat, crange, out)
    return out


def _as_map(name: str, value: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(value, np.float32)
    if array.shape != shape:
        array = np.broadcast_to(array, shape)
    array = _writable_float32(array)
    if array.size and not np.all(array > 0):
        raise ValueError(f"{name} must be positive everywhere")
    return array


def bilateral_filter_varying(
    image: np.ndarray,
    sigma_x: np.ndarray | float,
    sigma_y: np.ndarray | float,
    sigma_r: np.ndarray | float,
    *,
    radius: int,
) -> np.ndarray:
    """Bilateral filter with per-pixel anisotropic widths (the Filter2Noise kernel).

    For each pixel ``p`` and neighbour ``q = p + (dy, dx)`` in the square
    window ``|dx|, |dy| <= radius``::

        w = exp(-(dx^2 / (2 sx(p)^2) + dy^2 / (2 sy(p)^2)))
            * exp(-(I(p) - I(q))^2 / (2 sr(p)^2))

    and ``out(p) = sum_q w I(q) / sum_q w``.  The widths belong to the centre
    pixel ``p`` (Filter2Noise predicts them per pixel).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        Input; converted to float32.
    sigma_x, sigma_y : ndarray of shape (H, W), or float
        Spatial widths along X (columns) and Y (rows), pixels, > 0.
    sigma_r : ndarray of shape (H, W), or float
        Range width in the image's units, > 0 (``inf`` allowed).
    radius : int
        Half size of the square window (>= 0).

    Returns
    -------
    ndarray, shape (H, W), float32
        The filtered image; boundaries by symmetric reflection.
    """
    array = _as_image(image)
    radius = int(radius)
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    shape = array.shape
    sx = _as_map("sigma_x", sigma_x, shape)
    sy = _as_map("sigma_y", sigma_y, shape)
    sr = _as_map("sigma_r", sigma_r, shape)
    out = np.empty_like(array)
    if array.size == 0:
        return out
    from .bilateral_kernels import bilateral_varying_kernel

    bilateral_varying_kernel(array, sx, sy, sr, radius, out)
    return out
