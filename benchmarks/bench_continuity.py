"""TV and bilateral before and after making them continuous in their parameters: PSNR, jumps, time.

Usage::

    python benchmarks/bench_continuity.py [--out continuity.txt]

On the 16 whole images of ``bench_sure.py --full`` (Set12 and four skimage
images) with Gaussian noise sigma 15, 25 and 50 (/255), side by side in one
process:

* ``tv skimage``: ``skimage.restoration.denoise_tv_chambolle`` (energy-change
  stopping rule, eps 2e-4), what ``tv`` ran before; ``tv fixed``: 100 Chambolle
  iterations (what it runs now);
* ``bilateral disc``: OpenCV's disc of radius ``round(1.5 s)`` (before);
  ``bilateral soft``: the anti-aliased disc of radius ``1.5 s`` (now).

Columns: mean PSNR at the method's default; "jump": the largest change of
PSNR between neighbouring settings 1 % apart (weights 0.5-1.5 sigma, spatial
widths 1-3 px, 21 values), the worst over images: a continuous method moves
by a few hundredths of a dB; and the mean seconds per call (one thread).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from bench_sure import crops, noisy, psnr  # noqa: E402

from napari_tweedie.denoisers.classical.bilateral import bilateral_filter  # noqa: E402
from napari_tweedie.denoisers.classical.filters import denoise_tv  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def _skimage_tv(y, level, weight):
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(y, weight=weight)


VARIANTS = {
    "tv skimage": (_skimage_tv, 0.8, "weight"),
    "tv fixed": (lambda y, level, w: denoise_tv(y, sigma=level, weight=w), 0.8, "weight"),
    "bilateral disc": (lambda y, level, s: bilateral_filter(y, s, 3 * level), 2.0, "spatial"),
    "bilateral soft": (lambda y, level, s: bilateral_filter(y, s, 3 * level, soft=True), 2.0,
                       "spatial"),
}  # fmt: skip


def sweep(kind: str, level: float) -> np.ndarray:
    base = np.linspace(0.5, 1.5, 21) * level if kind == "weight" else np.linspace(1.0, 3.0, 21)
    return base


def row(name, images, level):
    func, default, kind = VARIANTS[name]
    value = default * level if kind == "weight" else default
    scores, jumps, seconds = [], [], []
    for index, (_, clean) in enumerate(images):
        y = noisy(clean, "gaussian", level, index)
        start = time.perf_counter()
        scores.append(psnr(func(y, level, value), clean))
        seconds.append(time.perf_counter() - start)
        for v in sweep(kind, level):
            moved = psnr(func(y, level, v * 1.01), clean)
            jumps.append(abs(moved - psnr(func(y, level, v), clean)))
    return np.mean(scores), max(jumps), np.mean(seconds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="continuity.txt")
    args = parser.parse_args(argv)
    images = crops("full", None)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    header = f"{'sigma':>5} {'variant':>15} {'PSNR dB':>8} {'jump dB':>8} {'s/call':>7}"
    lines = [f"Command: `python benchmarks/bench_continuity.py {command}`", "", header]
    for level in (15 / 255, 25 / 255, 50 / 255):
        for name in VARIANTS:
            score, jump, seconds = row(name, images, level)
            lines.append(f"{level * 255:5.0f} {name:>15} {score:8.2f} {jump:8.2f} {seconds:7.3f}")
            sys.stdout.write(lines[-1] + "\n")
            sys.stdout.flush()
    (RESULTS / args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
