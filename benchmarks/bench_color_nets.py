"""Joint colour vs per-channel learned denoisers (prior, Filter2Noise, ZS-N2N) on colour images.

    python benchmarks/bench_color_nets.py [--quick] [--methods prior,zs_n2n,filter2noise]
        [--per-channel prior] [--out FILE]

The images and noise of ``benchmarks/bench_color.py`` (issue 16): central
256 x 256 crops of scikit-image's ``astronaut``, ``immunohistochemistry``,
``coffee`` and ``hubble_deep_field`` on [0, 1], i.i.d. Gaussian noise of
sigma 25/255 per channel from ``numpy.random.default_rng(seed + image
index)``; the true sigma is given.  Each method's registry ``func`` runs on
the (H, W, 3) image with a per-channel sigma (its ``channels="joint"`` path:
the prior per channel of the opponent colour space, Filter2Noise with one
sigma map per pixel and a joint colour range kernel, ZS-N2N with a
3-channel network) and, for the methods in ``--per-channel``, once per
channel on (H, W) planes.  PSNR of the result clipped to [0, 1]; seconds are
wall time on a machine shared with other jobs.  ``--quick`` keeps the crops
but shortens the fits (ZS-N2N 600 steps, Filter2Noise 30) so that the
run fits in minutes on a shared 2-core machine; the defaults are the
registry's (ZS-N2N up to 3000 steps with early stop, Filter2Noise 400).

Issue 16's reference: CBM3D 31.61 dB mean (BM3D per channel 30.23); goal:
the prior with a channel axis >= CBM3D - 0.3 dB = 31.31 dB.
"""

from __future__ import annotations

from functools import partial

import _report
import numpy as np
import torch
from _cases import COLOUR_IMAGES as IMAGES
from _cases import add_noise, crop, denoise

from napari_tweedie.metrics import clipped_psnr

METHODS = ("prior", "zs_n2n", "filter2noise")
SIGMA = 25.0 / 255.0
CBM3D = 31.61
GOALS = {"prior": CBM3D - 0.3}
QUICK = {
    "zs_n2n": dict(iterations=600, patience=200),
    "filter2noise": dict(iterations=30, preview_every=1000),
}
EXTRA = {"--per-channel": dict(default="prior", help="methods also run per channel")}


def run(method: str, noisy: np.ndarray, joint: bool, params: dict) -> np.ndarray:
    """The method's result on ``noisy``, jointly or per channel."""
    if joint:
        sigma = np.full(noisy.shape[-1], SIGMA, np.float32)
        return denoise(method, noisy, sigma=sigma, **params)
    planes = [denoise(method, noisy[..., c], sigma=SIGMA, **params) for c in range(noisy.shape[-1])]
    return np.stack(planes, axis=-1)


def main(argv: list[str] | None = None) -> None:
    quick_help = "shorter fits (see the docstring)"
    args = _report.parser(__doc__, quick_help, METHODS, EXTRA).parse_args(argv)
    torch.set_num_threads(1)
    side = 256
    clean = {name: crop(name, side) for name in IMAGES}
    noisy = add_noise(clean, SIGMA, args.seed)
    mode = "quick (shorter fits)" if args.quick else "registry defaults"
    noisy_psnr = [clipped_psnr(noisy[n], clean[n]) for n in IMAGES]
    lines = [
        f"# Colour denoising, learned methods, Gaussian sigma 25/255, {side}x{side} central "
        f"crops, seed {args.seed}, {mode}",
        "# PSNR (dB, clipped to [0, 1]); s = mean wall seconds per image "
        "(shared 2-core machine, torch 1 thread, ~7 other jobs running)",
        *_report.header("method", "mode", *IMAGES, "mean", "s"),
        _report.row("noisy", "-", _report.figures(noisy_psnr), f"{np.mean(noisy_psnr):.2f}", "-"),
    ]
    means = {}
    per_channel = set(args.per_channel.split(",")) if args.per_channel else set()
    for method in args.methods.split(","):
        params = QUICK.get(method, {}) if args.quick else {}
        for joint in (True, False) if method in per_channel else (True,):
            one = partial(run, method, joint=joint, params=params)
            scores, seconds = _report.psnrs(one, clean, noisy)
            label = "joint" if joint else "per channel"
            means[method, label] = float(np.mean(scores))
            lines.append(_report.mean_row(method, label, scores, seconds))
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"reference (issue 16): CBM3D {CBM3D:.2f} dB mean, BM3D per channel 30.23")
    for method, goal in GOALS.items():
        if (method, "joint") in means:
            lines.append(_report.goal_line(f"{method} joint", goal, means[method, "joint"]))
    _report.finish(lines, args.out)


if __name__ == "__main__":
    main()
