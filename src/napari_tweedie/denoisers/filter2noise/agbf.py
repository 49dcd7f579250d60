"""Attention-guided bilateral filter of Filter2Noise (Sun et al. 2025): numba forward and backward.

The AGBF of one stage filters an image ``I`` with per-pixel widths::

    out(p) = sum_q w(p, q) I(q) / sum_q w(p, q),
    w(p, q) = exp(-(dx^2 / (2 sx(p)^2) + dy^2 / (2 sy(p)^2) + (I(p) - I(q))^2 / (2 sr(p)^2)))

over the square window ``|dx|, |dy| <= radius`` with symmetric borders, the
same definition as
:func:`~napari_tweedie.denoisers.classical.bilateral.bilateral_filter_varying` (the
inference kernel).  For training, :func:`agbf` is a ``torch.autograd.Function``
whose forward and analytic backward (gradients for the image and the three
sigma maps) are compiled numba kernels: no ``(2r+1)^2`` intermediate tensors
are stored.  :func:`agbf_reference` is the plain torch version of the same
maths (shifted views of a padded tensor), used as the baseline and in tests.
The sigma maps come from :mod:`.net`.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
import torch
from numba import prange

from ..classical.bilateral_kernels import MAX_CHUNKS, exp_neg, parallel_jit

__all__ = ["PARALLEL_WORK", "agbf", "agbf_reference", "symmetric_pad"]

#: (pixel, offset) pairs from which the training kernels use all numba threads.
PARALLEL_WORK = 1 << 23


# --- compiled kernels on padded (B, H + 2r, W + 2r) float32 images ------------------------


@parallel_jit
def _agbf_forward(padded, a, b, c, radius, out, den):
    """AGBF of a symmetric-padded batch; ``a, b, c = 1 / (2 sx^2), 1 / (2 sy^2), 1 / (2 sr^2)``."""
    n_img, height, width = out.shape
    rows = n_img * height
    n_chunks = min(rows, MAX_CHUNKS)
    for chunk in prange(n_chunks):
        num = np.empty(width, np.float32)
        acc = np.empty(width, np.float32)
        for k in range(chunk * rows // n_chunks, (chunk + 1) * rows // n_chunks):
            i, y = k // height, k % height
            centre = padded[i, y + radius, radius : radius + width]
            ay, by, cy = a[i, y], b[i, y], c[i, y]
            num[:] = 0.0
            acc[:] = 0.0
            for dy in range(-radius, radius + 1):
                src = padded[i, y + radius + dy]
                dy2 = np.float32(dy * dy)
                for dx in range(-radius, radius + 1):
                    dx2 = np.float32(dx * dx)
                    seg = src[radius + dx : radius + dx + width]
                    for x in range(width):
                        d = seg[x] - centre[x]
                        w = exp_neg(dx2 * ay[x] + dy2 * by[x] + d * d * cy[x])
                        num[x] += w * seg[x]
                        acc[x] += w
            for x in range(width):
                out[i, y, x] = num[x] / acc[x]
                den[i, y, x] = acc[x]


@parallel_jit
def _agbf_backward(padded, a, b, c, radius, out, u, starts, buf, ga, gb, gc):
    """Analytic backward of :func:`_agbf_forward` in one pass over (pixel, offset) pairs.

    With ``u = dL/dout / den``, ``d = I(q) - I(p)`` and ``t = u (I(q) - out) w``:
    ``dL/da = -sum dx^2 t``, ``dL/db = -sum dy^2 t``, ``dL/dc = -sum d^2 t``,
    ``dL/dI(p) += sum 2 c d t`` and ``dL/dI(q) += u w - 2 c d t``.  Rows are cut
    into chunks (``starts``, per image); chunk ``k`` scatters its image
    gradients into its own slab ``buf[k]`` (its rows plus ``2 radius``), so the
    chunks run in parallel without races and the caller sums the slabs.
    """
    n_img, height, width = out.shape
    n_split = starts.shape[0] - 1
    for chunk in prange(n_img * n_split):
        i, part = chunk // n_split, chunk % n_split
        y0, y1 = starts[part], starts[part + 1]
        slab = buf[chunk]
        slab[:] = 0.0
        s_a = np.empty(width, np.float32)
        s_b = np.empty(width, np.float32)
        s_c = np.empty(width, np.float32)
        s_i = np.empty(width, np.float32)
        for y in range(y0, y1):
            centre = padded[i, y + radius, radius : radius + width]
            ay, by, cy, uy, oy = a[i, y], b[i, y], c[i, y], u[i, y], out[i, y]
            s_a[:] = 0.0
            s_b[:] = 0.0
            s_c[:] = 0.0
            s_i[:] = 0.0
            for dy in range(-radius, radius + 1):
                src = padded[i, y + radius + dy]
                row = slab[y - y0 + radius + dy]
                dy2 = np.float32(dy * dy)
                for dx in range(-radius, radius + 1):
                    dx2 = np.float32(dx * dx)
                    seg = src[radius + dx : radius + dx + width]
                    dst = row[radius + dx : radius + dx + width]
                    for x in range(width):
                        v = seg[x]
                        d = v - centre[x]
                        w = exp_neg(dx2 * ay[x] + dy2 * by[x] + d * d * cy[x])
                        uw = uy[x] * w
                        t = uw * (v - oy[x])
                        s_a[x] -= dx2 * t
                        s_b[x] -= dy2 * t
                        s_c[x] -= d * d * t
                        ct = 2.0 * cy[x] * d * t
                        s_i[x] += ct
                        dst[x] += uw - ct
            centre_row = slab[y - y0 + radius, radius : radius + width]
            for x in range(width):
                ga[i, y, x] = s_a[x]
                gb[i, y, x] = s_b[x]
                gc[i, y, x] = s_c[x]
                centre_row[x] += s_i[x]


# --- torch wrappers -----------------------------------------------------------------------


def _reflect_index(n: int, radius_before: int, radius_after: int) -> np.ndarray:
    """Indices of ``numpy.pad(mode="symmetric")`` along an axis of length ``n``."""
    index = np.arange(-radius_before, n + radius_after) % (2 * n)
    return np.where(index >= n, 2 * n - 1 - index, index)


def symmetric_pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """Pad the last two axes like ``numpy.pad(mode="symmetric")`` (differentiable)."""
    rows = torch.from_numpy(_reflect_index(x.shape[-2], top, bottom)).to(x.device)
    cols = torch.from_numpy(_reflect_index(x.shape[-1], left, right)).to(x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def _coefficients(sx, sy, sr):
    return 0.5 / sx.square(), 0.5 / sy.square(), 0.5 / sr.square()


def _numpy(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy(), dtype=np.float32)


@contextlib.contextmanager
def _kernel_threads(work: int):
    """numba threads for ``work`` (pixel, offset) pairs: one below :data:`PARALLEL_WORK`.

    Training crops are small; a parallel region there saves little and, on a
    busy machine, waits for its slowest thread.  ``numba.set_num_threads`` is
    thread-local, so this never affects other threads.
    """
    previous = numba.get_num_threads()
    threads = previous if work >= PARALLEL_WORK else 1
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)


class _AGBFunction(torch.autograd.Function):
    """AGBF on a padded batch with numba forward and analytic numba backward."""

    @staticmethod
    def forward(ctx, padded, sx, sy, sr, radius):
        a, b, c = (_numpy(t) for t in _coefficients(sx, sy, sr))
        p = _numpy(padded)
        out = np.empty(a.shape, np.float32)
        den = np.empty(a.shape, np.float32)
        with _kernel_threads(a.size * (2 * radius + 1) ** 2):
            _agbf_forward(p, a, b, c, radius, out, den)
        ctx.radius = radius
        ctx.arrays = (p, a, b, c, out, den)
        ctx.save_for_backward(sx, sy, sr)
        return torch.from_numpy(out)

    @staticmethod
    def backward(ctx, grad_out):
        p, a, b, c, out, den = ctx.arrays
        sx, sy, sr = ctx.saved_tensors
        r = ctx.radius
        n_img, height, width = out.shape
        u = _numpy(grad_out) / den
        ga, gb, gc = (np.empty_like(a) for _ in range(3))
        with _kernel_threads(3 * a.size * (2 * r + 1) ** 2) as threads:
            n_split = max(1, min(height, threads))
            starts = np.array([k * height // n_split for k in range(n_split + 1)], np.int64)
            slab = int(np.diff(starts).max()) + 2 * r
            buf = np.empty((n_img * n_split, slab, p.shape[2]), np.float32)
            _agbf_backward(p, a, b, c, r, out, u, starts, buf, ga, gb, gc)
        grad = np.zeros_like(p)
        for chunk in range(n_img * n_split):
            i, part = divmod(chunk, n_split)
            y0, y1 = starts[part], starts[part + 1]
            grad[i, y0 : y1 + 2 * r] += buf[chunk, : y1 - y0 + 2 * r]
        # a = 1 / (2 s^2)  =>  da/ds = -1 / s^3
        grads = [
            torch.from_numpy(g) * (-1.0 / s.detach() ** 3)
            for g, s in zip((ga, gb, gc), (sx, sy, sr))
        ]
        return torch.from_numpy(grad), *grads, None


def agbf(
    image: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, sr: torch.Tensor, radius: int
) -> torch.Tensor:
    """Attention-guided bilateral filter (Filter2Noise) of a batch, numba forward and backward.

    Parameters
    ----------
    image, sx, sy, sr : Tensor, shape (B, H, W), float32
        Image and per-pixel widths (pixels along X and Y; range width in the
        image's units), all > 0.
    radius : int
        Half size of the square window.

    Returns
    -------
    Tensor, shape (B, H, W)
        Filtered image; differentiable with respect to all four inputs.
    """
    padded = symmetric_pad(image.float(), radius, radius, radius, radius)
    return _AGBFunction.apply(padded, sx.float(), sy.float(), sr.float(), int(radius))


def agbf_reference(
    image: torch.Tensor, sx: torch.Tensor, sy: torch.Tensor, sr: torch.Tensor, radius: int
) -> torch.Tensor:
    """The AGBF in plain torch (shifted views of the padded image); same maths as :func:`agbf`."""
    a, b, c = _coefficients(sx, sy, sr)
    padded = symmetric_pad(image, radius, radius, radius, radius)
    height, width = image.shape[-2:]
    num = torch.zeros_like(image)
    den = torch.zeros_like(image)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            v = padded[..., radius + dy : radius + dy + height, radius + dx : radius + dx + width]
            w = torch.exp(-(dx * dx * a + dy * dy * b + (v - image).square() * c))
            num = num + w * v
            den = den + w
    return num / den
