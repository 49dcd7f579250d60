"""Bilateral filter kernel (Tomasi & Manduchi 1998) on (Z, Y, X, C) float32 arrays, numba.

One kernel covers the joint colour filter (the range distance sums over all
channels, each normalised by its own range width) and the 3-D filter (window
offsets along Z, Y and X with spatial exponents precomputed from the voxel
spacing).  Boundaries are symmetric (``numpy.pad(mode="symmetric")``).  The
polynomial ``exp`` and the compile settings are those of
:mod:`.bilateral_kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .bilateral_kernels import _reflect, exp_neg, parallel_jit

__all__ = ["bilateral_nd_kernel"]


@parallel_jit
def bilateral_nd_kernel(img, dzs, dys, dxs, uspat, crange, out):
    """Joint-range bilateral filter of ``img`` (Z, Y, X, C) on a list of window offsets.

    ``w(p, q) = exp(-(uspat[k] + sum_c crange[c] (I_c(q) - I_c(p))^2))`` for
    offset ``k`` (``uspat[k]`` the spatial exponent, ``crange[c] = 1 / (2 s_c^2)``);
    ``out(p) = sum_q w I(q) / sum_q w`` for every channel.
    """
    nz, ny, nx, nc = img.shape
    for row in prange(nz * ny):
        z = row // ny
        y = row - z * ny
        num = np.zeros((nx, nc), np.float32)
        den = np.zeros(nx, np.float32)
        centre = img[z, y]
        for k in range(dzs.shape[0]):
            src = img[_reflect(z + dzs[k], nz), _reflect(y + dys[k], ny)]
            for x in range(nx):
                xx = _reflect(x + dxs[k], nx)
                u = uspat[k]
                for c in range(nc):
                    d = src[xx, c] - centre[x, c]
                    u += d * d * crange[c]
                w = exp_neg(u)
                den[x] += w
                for c in range(nc):
                    num[x, c] += w * src[xx, c]
        for x in range(nx):
            for c in range(nc):
                out[z, y, x, c] = num[x, c] / den[x]
