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

import argparse
import time

import numpy as np
import skimage.data

from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.metrics import clipped_psnr

IMAGES = ("astronaut", "immunohistochemistry", "coffee", "hubble_deep_field")
METHODS = ("bm3d", "nl_means", "bilateral", "tv", "wavelet")
SIGMA = 25.0 / 255.0
GOALS = {"bm3d": 31.61 - 0.1, "nl_means": 29.72 - 0.2}


def crop(name: str, side: int) -> np.ndarray:
    """Central ``side`` x ``side`` crop of a scikit-image colour image, float32 on [0, 1]."""
    image = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0
    h, w = image.shape[:2]
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(image[top : top + side, left : left + side])


def run(method: str, noisy: np.ndarray, joint: bool) -> tuple[np.ndarray, float]:
    """The method's result on ``noisy`` (jointly or per channel) and its wall time."""
    func = DENOISERS[method].func
    start = time.perf_counter()
    if joint:
        out = func(noisy, sigma=np.full(noisy.shape[-1], SIGMA, np.float32), seed=0)
    else:
        planes = [func(noisy[..., c], sigma=SIGMA, seed=0) for c in range(noisy.shape[-1])]
        out = np.stack(planes, axis=-1)
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 x 128 crops")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    side = 128 if args.quick else 256
    clean = {name: crop(name, side) for name in IMAGES}
    noisy = {
        name: (
            image + SIGMA * np.random.default_rng(args.seed + i).standard_normal(image.shape)
        ).astype(np.float32)
        for i, (name, image) in enumerate(clean.items())
    }
    lines = [
        f"# Colour denoising, Gaussian sigma 25/255, {side}x{side} central crops, seed {args.seed}",
        "# PSNR (dB, clipped to [0, 1]); s = mean seconds per image (shared 2-core machine)",
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
    for method in args.methods.split(","):
        for joint in (True, False):
            scores, seconds = [], []
            for name in IMAGES:
                out, elapsed = run(method, noisy[name], joint)
                assert out.shape == noisy[name].shape
                scores.append(clipped_psnr(out, clean[name]))
                seconds.append(elapsed)
            mode = "joint" if joint else "per channel"
            means[method, mode] = float(np.mean(scores))
            row = " | ".join(f"{s:.2f}" for s in scores)
            mean, secs = means[method, mode], np.mean(seconds)
            lines.append(f"| {method} | {mode} | {row} | {mean:.2f} | {secs:.1f} |")
            print(lines[-1], flush=True)
    lines.append("")
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
