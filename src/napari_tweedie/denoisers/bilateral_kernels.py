"""Bilateral filter kernels (Tomasi & Manduchi 1998), compiled with numba.

The loops behind :mod:`.bilateral` on 2-D float32 images, and the helpers
that the Filter2Noise training kernels (:mod:`.f2n_agbf`) share:

* :func:`_bilateral_kernel`: one spatial and one range width on a disc of
  offsets (OpenCV's ``cv2.bilateralFilter`` window);
* :func:`_bilateral_varying_kernel`: per-pixel anisotropic spatial widths and
  a per-pixel range width on a square window (the Filter2Noise kernel).

Both use symmetric ("reflect", ``numpy.pad(mode="symmetric")``) boundaries and
are compiled lazily with numba on first call (cached on disk when the package
directory, or numba's user cache directory, is writable).

Speed comes from an offset-major loop order (for each output row, every window
offset sweeps the whole row, so the inner loop is contiguous and SIMD
vectorised), and a branch-free polynomial ``exp`` that needs no vector math
library (absolute error below 5e-6 in float32 against ``numpy.exp``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__: list[str] = []  # private kernels; the public wrappers live in :mod:`.bilateral`

# Rows are split into this many independent chunks for ``prange``; each chunk
# allocates its row accumulators once.
_MAX_CHUNKS = 64


def _parallel_jit(func):
    """``njit(parallel=True, fastmath=True, cache=True)``, without cache if no cache dir works."""
    try:
        return njit(parallel=True, fastmath=True, cache=True)(func)
    except RuntimeError:  # numba found no writable cache location
        return njit(parallel=True, fastmath=True)(func)


def _inline_jit(func):
    """Small helper inlined into the kernels."""
    try:
        return njit(inline="always", fastmath=True, cache=True)(func)
    except RuntimeError:
        return njit(inline="always", fastmath=True)(func)


@_inline_jit
def _exp_neg(u):
    """``exp(-u)`` for ``u >= 0`` in float32: Taylor polynomial of ``exp(-u/64)``, squared 6x.

    Arguments are clamped at 64 (weights below 1e-27 stay tiny but positive).
    """
    v = min(u, np.float32(64.0)) * np.float32(1.0 / 64.0)
    p = np.float32(1.0) + v * (
        np.float32(-1.0)
        + v * (np.float32(0.5) + v * (np.float32(-1.0 / 6.0) + v * np.float32(1.0 / 24.0)))
    )
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@_inline_jit
def _reflect(i, n):
    """Index ``i`` reflected into ``[0, n)`` like ``numpy.pad(mode="symmetric")``."""
    period = 2 * n
    i = i % period
    if i < 0:
        i += period
    if i >= n:
        i = period - 1 - i
    return i


@_parallel_jit
def _bilateral_kernel(img, dys, dxs, uspat, crange, out):
    """Constant-width bilateral filter; ``uspat[k] = |offset k|^2 / (2 sigma_s^2)``."""
    height, width = img.shape
    n_off = dys.shape[0]
    n_chunks = min(height, _MAX_CHUNKS)
    for chunk in prange(n_chunks):
        y_start = chunk * height // n_chunks
        y_stop = (chunk + 1) * height // n_chunks
        num = np.empty(width, np.float32)
        den = np.empty(width, np.float32)
        for y in range(y_start, y_stop):
            centre = img[y]
            for x in range(width):
                num[x] = 0.0
                den[x] = 0.0
            for k in range(n_off):
                dy = dys[k]
                dx = dxs[k]
                uk = uspat[k]
                src = img[_reflect(y + dy, height)]
                x_lo = min(max(0, -dx), width)
                x_hi = max(min(width, width - dx), x_lo)
                # interior: slices, so indices start at 0 and the loop vectorises
                seg = src[x_lo + dx : x_hi + dx]
                c_seg = centre[x_lo:x_hi]
                n_seg = num[x_lo:x_hi]
                d_seg = den[x_lo:x_hi]
                for i in range(x_hi - x_lo):
                    v = seg[i]
                    d = v - c_seg[i]
                    w = _exp_neg(uk + d * d * crange)
                    n_seg[i] += w * v
                    d_seg[i] += w
                for x in range(0, x_lo):
                    v = src[_reflect(x + dx, width)]
                    d = v - centre[x]
                    w = _exp_neg(uk + d * d * crange)
                    num[x] += w * v
                    den[x] += w
                for x in range(x_hi, width):
                    v = src[_reflect(x + dx, width)]
                    d = v - centre[x]
                    w = _exp_neg(uk + d * d * crange)
                    num[x] += w * v
                    den[x] += w
            row = out[y]
            for x in range(width):
                row[x] = num[x] / den[x]


@_parallel_jit
def _bilateral_varying_kernel(img, sigma_x, sigma_y, sigma_r, radius, out):
    """Per-pixel anisotropic bilateral filter on a ``(2 radius + 1)^2`` square window."""
    height, width = img.shape
    n_chunks = min(height, _MAX_CHUNKS)
    half = np.float32(0.5)
    for chunk in prange(n_chunks):
        y_start = chunk * height // n_chunks
        y_stop = (chunk + 1) * height // n_chunks
        num = np.empty(width, np.float32)
        den = np.empty(width, np.float32)
        cx = np.empty(width, np.float32)
        cy = np.empty(width, np.float32)
        cr = np.empty(width, np.float32)
        for y in range(y_start, y_stop):
            centre = img[y]
            for x in range(width):
                num[x] = 0.0
                den[x] = 0.0
                sx = sigma_x[y, x]
                sy = sigma_y[y, x]
                sr = sigma_r[y, x]
                cx[x] = half / (sx * sx)
                cy[x] = half / (sy * sy)
                cr[x] = half / (sr * sr)
            for dy in range(-radius, radius + 1):
                src = img[_reflect(y + dy, height)]
                dy2 = np.float32(dy * dy)
                for dx in range(-radius, radius + 1):
                    dx2 = np.float32(dx * dx)
                    x_lo = min(max(0, -dx), width)
                    x_hi = max(min(width, width - dx), x_lo)
                    seg = src[x_lo + dx : x_hi + dx]
                    c_seg = centre[x_lo:x_hi]
                    cx_seg = cx[x_lo:x_hi]
                    cy_seg = cy[x_lo:x_hi]
                    cr_seg = cr[x_lo:x_hi]
                    n_seg = num[x_lo:x_hi]
                    d_seg = den[x_lo:x_hi]
                    for i in range(x_hi - x_lo):
                        v = seg[i]
                        d = v - c_seg[i]
                        w = _exp_neg(dx2 * cx_seg[i] + dy2 * cy_seg[i] + d * d * cr_seg[i])
                        n_seg[i] += w * v
                        d_seg[i] += w
                    for x in range(0, x_lo):
                        v = src[_reflect(x + dx, width)]
                        d = v - centre[x]
                        w = _exp_neg(dx2 * cx[x] + dy2 * cy[x] + d * d * cr[x])
                        num[x] += w * v
                        den[x] += w
                    for x in range(x_hi, width):
                        v = src[_reflect(x + dx, width)]
                        d = v - centre[x]
                        w = _exp_neg(dx2 * cx[x] + dy2 * cy[x] + d * d * cr[x])
                        num[x] += w * v
                        den[x] += w
            row = out[y]
            for x in range(width):
                row[x] = num[x] / den[x]
