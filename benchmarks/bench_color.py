"""Joint colour vs per-channel classical denoisers on scikit-image's colour images (issue 16).

    python benchmarks/bench_color.py [--quick] [--methods bm3d,nl_means] [--out FILE]

Clean images: central 256 x 256 crops of scikit-image's ``astronaut``,
``immunohistochemistry``, ``coffee`` and ``hubble_deep_field``, on [0, 1].
Noise: i.i.d. Gaussian, sigma = 25/255 per channel, drawn with
``numpy.random.default_rng(seed + image index)``; the true sigma is given.
Each method's registry ``func`` is called twice: once on the (H, W, 3) image
with a per-channel sigma (its ``channels="joint"`` path: CBM3D, joint patch
distances, joint range kernel, vectorial TV, opponent-colour wavelet), and
once per channel on (H, W) planes.  PSNR of the result clipped to [0, 1];
seconds are wall time on a machine shared with other jobs (``--quick``:
128 x 128 crops).

Issue 16's reference figures (mean PSNR): CBM3D 31.61 dB vs BM3D per channel
30.23; joint NL-means 29.72 vs 28.90.  Goals: bm3d joint >= 31.51, nl_means
joint >= 29.52.
"""

from __future__ import annotations

from functools import partial

import _report
import numpy as np
from _cases import COLOUR_IMAGES as IMAGES
from _cases import add_noise, crop, denoise

from napari_tweedie.metrics import clipped_psnr

METHODS = ("bm3d", "nl_means", "bilateral", "tv", "wavelet")
SIGMA = 25.0 / 255.0
GOALS = {"bm3d": 31.61 - 0.1, "nl_means": 29.72 - 0.2}


def run(method: str, noisy: np.ndarray, joint: bool) -> np.ndarray:
    """The method's result on ``noisy``, jointly or per channel."""
    if joint:
        return denoise(method, noisy, sigma=np.full(noisy.shape[-1], SIGMA, np.float32))
    planes = [denoise(method, noisy[..., c], sigma=SIGMA) for c in range(noisy.shape[-1])]
    return np.stack(planes, axis=-1)


def main(argv: list[str] | None = None) -> None:
    args = _report.parser(__doc__, "128 x 128 crops", METHODS).parse_args(argv)
    side = 128 if args.quick else 256
    clean = {name: crop(name, side) for name in IMAGES}
    noisy = add_noise(clean, SIGMA, args.seed)
    noisy_psnr = [clipped_psnr(noisy[n], clean[n]) for n in IMAGES]
    lines = [
        f"# Colour denoising, Gaussian sigma 25/255, {side}x{side} central crops, seed {args.seed}",
        "# PSNR (dB, clipped to [0, 1]); s = mean seconds per image (shared 2-core machine)",
        *_report.header("method", "mode", *IMAGES, "mean", "s"),
        _report.row("noisy", "-", _report.figures(noisy_psnr), f"{np.mean(noisy_psnr):.2f}", "-"),
    ]
    means = {}
    for method in args.methods.split(","):
        for joint in (True, False):
            scores, seconds = _report.psnrs(partial(run, method, joint=joint), clean, noisy)
            mode = "joint" if joint else "per channel"
            means[method, mode] = float(np.mean(scores))
            lines.append(_report.mean_row(method, mode, scores, seconds))
            print(lines[-1], flush=True)
    lines.append("")
    for method, goal in GOALS.items():
        if (method, "joint") in means:
            lines.append(_report.goal_line(f"{method} joint", goal, means[method, "joint"]))
    _report.finish(lines, args.out)


if __name__ == "__main__":
    main()
