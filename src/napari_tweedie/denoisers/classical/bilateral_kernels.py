"""Bilateral filter kernels (Tomasi & Manduchi 1998), compiled with numba.

The loops behind :mod:`.bilateral` on 2-D float32 images, and the helpers
that the Filter2Noise training kernels
(:mod:`napari_tweedie.denoisers.filter2noise.agbf`) share
(:func:`parallel_jit`, :func:`exp_neg`, :data:`MAX_CHUNKS`):

* :func:`bilateral_kernel`: one spatial and one range width on a disc of
  offsets (OpenCV's ``cv2.bilateralFilter`` window);
* :func:`bilateral_varying_kernel`: per-pixel anisotropic spatial widths and
  a per-pixel range width on a square window (the Filter2Noise kernel).

Both sweep their window with :func:`_add_offset` (one offset over a row; its
coefficients are per-pixel rows or scalars, chosen when compiling, so each
kernel gets its own specialised loop), use symmetric ("reflect",
``numpy.pad(mode="symmetric")``) boundaries and are compiled lazily with numba
on first call (cached on disk when the package directory, or numba's user
cache directory, is writable).

Speed comes from an offset-major loop order (for each output row, every window
offset sweeps the whole row, so the inner loop is contiguous and SIMD
vectorised), and a branch-free polynomial ``exp`` that needs no vector math
library (absolute error below 5e-6 in float32 against ``numpy.exp``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

__all__ = ["MAX_CHUNKS", "bilateral_kernel", "bilateral_varying_kernel", "exp_neg", "parallel_jit"]

#: LLVM fast-math flags of the kernels: no contraction into FMA and no reassociation, so
#: that the vectorised loop and its scalar remainder (which depends on the arrays'
#: alignment in memory) round alike and a result is the same bits in any thread.
FASTMATH = {"nnan", "ninf", "nsz"}

#: Rows are split into this many independent chunks for ``prange``; each chunk
#: allocates its row accumulators once.
MAX_CHUNKS = 64


def parallel_jit(func):
    """``njit(parallel=True, fastmath=FASTMATH, cache=True)``; no cache if no cache dir works."""
    try:
        return njit(parallel=True, fastmath=FASTMATH, cache=True)(func)
    except RuntimeError:  # numba found no writable cache location
        return njit(parallel=True, fastmath=FASTMATH)(func)


def _inline_jit(func):
    """Small helper inlined into the kernels."""
    try:
        return njit(inline="always", fastmath=FASTMATH, cache=True)(func)
    except RuntimeError:
        return njit(inline="always", fastmath=FASTMATH)(func)


@_inline_jit
def exp_neg(u):
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


def _at(value, i):
    """Per-pixel coefficient ``value[i]`` of a row, or ``value`` itself if it is a scalar."""
    return value[i] if np.ndim(value) else value


def _part(value, lo, hi):
    """Slice ``value[lo:hi]`` of a row, or ``value`` itself if it is a scalar."""
    return value[lo:hi] if np.ndim(value) else value


@overload(_at, inline="always")
def _at_compiled(value, i):
    if isinstance(value, types.Array):
        return lambda value, i: value[i]
    return lambda value, i: value


@overload(_part, inline="always")
def _part_compiled(value, lo, hi):
    if isinstance(value, types.Array):
        return lambda value, lo, hi: value[lo:hi]
    return lambda value, lo, hi: value


@_inline_jit
def _add_offset(src, centre, dx, dx2, cx, dy2, cy, cr, num, den):
    """Bilateral (Tomasi & Manduchi 1998) sums of one window offset over a row.

    Adds ``w * src[x + dx]`` to ``num[x]`` and ``w`` to ``den[x]`` with
    ``w = exp(-(dx2 cx + dy2 cy + d^2 cr))``, ``d = src[x + dx] - centre[x]``;
    ``cx``, ``cy``, ``cr`` are per-pixel rows or scalars (resolved when compiling).
    """
    width = centre.shape[0]
    x_lo = min(max(0, -dx), width)
    x_hi = max(min(width, width - dx), x_lo)
    # interior: slices, so indices start at 0 and the loop vectorises
    seg = src[x_lo + dx : x_hi + dx]
    c_seg = centre[x_lo:x_hi]
    cx_seg = _part(cx, x_lo, x_hi)
    cy_seg = _part(cy, x_lo, x_hi)
    cr_seg = _part(cr, x_lo, x_hi)
    n_seg = num[x_lo:x_hi]
    d_seg = den[x_lo:x_hi]
    for i in range(x_hi - x_lo):
        v = seg[i]
        d = v - c_seg[i]
        w = exp_neg(dx2 * _at(cx_seg, i) + dy2 * _at(cy_seg, i) + d * d * _at(cr_seg, i))
        n_seg[i] += w * v
        d_seg[i] += w
    for x in range(0, x_lo):
        _add_edge(src, centre, x, dx, dx2, cx, dy2, cy, cr, num, den)
    for x in range(x_hi, width):
        _add_edge(src, centre, x, dx, dx2, cx, dy2, cy, cr, num, den)


@_inline_jit
def _add_edge(src, centre, x, dx, dx2, cx, dy2, cy, cr, num, den):
    """One border pixel of :func:`_add_offset` (its neighbour reflected into the row)."""
    v = src[_reflect(x + dx, centre.shape[0])]
    d = v - centre[x]
    w = exp_neg(dx2 * _at(cx, x) + dy2 * _at(cy, x) + d * d * _at(cr, x))
    num[x] += w * v
    den[x] += w


@parallel_jit
def bilateral_kernel(img, dys, dxs, uspat, crange, out):
    """Constant-width bilateral filter; ``uspat[k] = |offset k|^2 / (2 sigma_s^2)``."""
    height, width = img.shape
    n_chunks = min(height, MAX_CHUNKS)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for chunk in prange(n_chunks):
        num = np.empty(width, np.float32)
        den = np.empty(width, np.float32)
        for y in range(chunk * height // n_chunks, (chunk + 1) * height // n_chunks):
            num[:] = 0.0
            den[:] = 0.0
            for k in range(dys.shape[0]):
                src = img[_reflect(y + dys[k], height)]
                # spatial exponent precomputed per offset: uspat[k] * 1 + 0 * 0 (folded)
                _add_offset(src, img[y], dxs[k], uspat[k], one, zero, zero, crange, num, den)
            _divide(num, den, out[y])


@parallel_jit
def bilateral_varying_kernel(img, sigma_x, sigma_y, sigma_r, radius, out):
    """Per-pixel anisotropic bilateral filter on a ``(2 radius + 1)^2`` square window."""
    height, width = img.shape
    n_chunks = min(height, MAX_CHUNKS)
    for chunk in prange(n_chunks):
        num = np.empty(width, np.float32)
        den = np.empty(width, np.float32)
        cx = np.empty(width, np.float32)
        cy = np.empty(width, np.float32)
        cr = np.empty(width, np.float32)
        for y in range(chunk * height // n_chunks, (chunk + 1) * height // n_chunks):
            num[:] = 0.0
            den[:] = 0.0
            _half_inverse_square(sigma_x[y], cx)
            _half_inverse_square(sigma_y[y], cy)
            _half_inverse_square(sigma_r[y], cr)
            for dy in range(-radius, radius + 1):
                src = img[_reflect(y + dy, height)]
                dy2 = np.float32(dy * dy)
                for dx in range(-radius, radius + 1):
                    _add_offset(src, img[y], dx, np.float32(dx * dx), cx, dy2, cy, cr, num, den)
            _divide(num, den, out[y])


@_inline_jit
def _half_inverse_square(sigma, out):
    """``out = 1 / (2 sigma^2)`` elementwise (a width's Gaussian coefficient)."""
    for x in range(sigma.shape[0]):
        out[x] = np.float32(0.5) / (sigma[x] * sigma[x])


@_inline_jit
def _divide(num, den, out):
    """``out = num / den`` elementwise (the normalised weighted mean)."""
    for x in range(out.shape[0]):
        out[x] = num[x] / den[x]
