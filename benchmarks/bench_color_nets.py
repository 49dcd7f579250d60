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

import argparse
import time

import numpy as np
import skimage.data
import torch

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.metrics import clipped_psnr
from napari_tweedie.steps import run as run_steps

IMAGES = ("astronaut", "immunohistochemistry", "coffee", "hubble_deep_field")
METHODS = ("prior", "zs_n2n", "filter2noise")
SIGMA = 25.0 / 255.0
CBM3D = 31.61
GOALS = {"prior": CBM3D - 0.3}
QUICK = {
    "zs_n2n": dict(iterations=600, patience=200),
    "filter2noise": dict(iterations=30, preview_every=1000),
}


def crop(name: str, side: int) -> np.ndarray:
    """Central ``side`` x ``side`` crop of a scikit-image colour image, float32 on [0, 1]."""
    image = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0
    h, w = image.shape[:2]
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(image[top : top + side, left : left + side])


def call(method: str, image: np.ndarray, sigma, params: dict) -> np.ndarray:
    spec = DENOISERS[method]
    result = spec.func(image, sigma=sigma, seed=0, **params)
    return run_steps(result) if spec.iterative else result


def run(method: str, noisy: np.ndarray, joint: bool, params: dict) -> tuple[np.ndarray, float]:
    """The method's result on ``noisy`` (jointly or per channel) and its wall time."""
    start = time.perf_counter()
    if joint:
        out = call(method, noisy, np.full(noisy.shape[-1], SIGMA, np.float32), params)
    else:
        planes = [call(method, noisy[..., c], SIGMA, params) for c in range(noisy.shape[-1])]
        out = np.stack(planes, axis=-1)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter fits (see the docstring)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--per-channel", default="prior", help="methods also run per channel")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    side = 256
    clean = {name: crop(name, side) for name in IMAGES}
    noisy = {
        name: (
            image + SIGMA * np.random.default_rng(args.seed + i).standard_normal(image.shape)
        ).astype(np.float32)
        for i, (name, image) in enumerate(clean.items())
    }
    mode = "quick (shorter fits)" if args.quick else "registry defaults"
    lines = [
        f"# Colour denoising, learned methods, Gaussian sigma 25/255, {side}x{side} central "
        f"crops, seed {args.seed}, {mode}",
        "# PSNR (dB, clipped to [0, 1]); s = mean wall seconds per image "
        "(shared 2-core machine, torch 1 thread, ~7 other jobs running)",
        "| method | mode | " + " | ".join(IMAGES) + " | mean | s |",
        "|---|---|" + "---|" * (len(IMAGES) + 2),
    ]
    noisy_psnr = [clipped_psnr(noisy[n], clean[n]) for n in IMAGES]
    lines.append(
        "| noisy | - | "
        + " | ".join(f"{p:.2f}" for p in noisy_psnr)
        + f" | {np.mean(noisy_psnr):.2f} | - |"
    )
    means = {}
    per_channel = set(args.per_channel.split(",")) if args.per_channel else set()
    for method in args.methods.split(","):
        params = QUICK.get(method, {}) if args.quick else {}
        for joint in (True, False) if method in per_channel else (True,):
            scores, seconds = [], []
            for name in IMAGES:
                out, elapsed = run(method, noisy[name], joint, params)
                assert out.shape == noisy[name].shape
                scores.append(clipped_psnr(out, clean[name]))
                seconds.append(elapsed)
            label = "joint" if joint else "per channel"
            means[method, label] = float(np.mean(scores))
            row = " | ".join(f"{s:.2f}" for s in scores)
            mean, secs = means[method, label], np.mean(seconds)
            lines.append(f"| {method} | {label} | {row} | {mean:.2f} | {secs:.1f} |")
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"reference (issue 16): CBM3D {CBM3D:.2f} dB mean, BM3D per channel 30.23")
    for method, goal in GOALS.items():
        if (method, "joint") in means:
            value = means[method, "joint"]
            verdict = "met" if value >= goal else "NOT met"
            lines.append(f"goal {method} joint >= {goal:.2f} dB: {value:.2f} ({verdict})")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
