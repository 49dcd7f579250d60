"""3-D (volumetric) vs slice-wise classical denoisers on two volumes (issue 16).

    python benchmarks/bench_volume.py [--quick] [--methods bm4d,nl_means,tv] [--out FILE]

Volumes (values on [0, 1]): the clean reference of the ``nuclei_3d`` sample
(stardist ``img3d``, 31 x 61 x 57, ``load_sample("nuclei_3d")["clean"]``)
and a synthetic blob volume (``skimage.data.binary_blobs`` length 48, 3-D,
blob size fraction 0.2, volume fraction 0.3, ``rng=1``, smoothed by a
Gaussian of 1 voxel).  Noise: i.i.d. Gaussian, sigma 0.1, drawn with
``numpy.random.default_rng(seed + volume index)``; the true sigma is given.
Each method's registry ``func`` runs once on the whole (Z, Y, X) volume
(its ``volumetric=True`` path, isotropic spacing) and once slice by slice;
BM4D's slice-wise counterpart is BM3D.  PSNR of the result clipped to
[0, 1]; seconds are wall time on a machine shared with other jobs
(``--quick``: the volumes cropped to 16 x 32 x 32 voxels).

Issue 16's reference figures (nuclei / blobs; its blob volume is not
specified, so the blob column is not the same volume): BM4D 33.26 / 36.50 vs
slice-wise BM3D 30.51 / 33.30; 3-D NL-means 28.79 / 34.22 vs 28.21 / 31.82;
3-D TV 30.28 / 31.38 vs 28.68 / 29.78.  Goal: each volumetric method >= its
3-D figure - 0.2 dB.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from napari_tweedie._sample_data import load_sample
from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.metrics import clipped_psnr

METHODS = ("bm4d", "nl_means", "tv", "bilateral", "gaussian", "wavelet")
SLICE_WISE = {"bm4d": "bm3d"}  # a volumetric method's 2-D counterpart, when not itself
SIGMA = 0.1
REFERENCE = {"bm4d": (33.26, 36.50), "nl_means": (28.79, 34.22), "tv": (30.28, 31.38)}


def volumes(quick: bool) -> dict[str, np.ndarray]:
    """The clean test volumes, float32 on [0, 1]."""
    from scipy import ndimage
    from skimage.data import binary_blobs

    nuclei = load_sample("nuclei_3d")["clean"].astype(np.float32)
    blobs = binary_blobs(48, blob_size_fraction=0.2, n_dim=3, volume_fraction=0.3, rng=1)
    blobs = ndimage.gaussian_filter(blobs.astype(np.float32), 1.0)
    out = {"nuclei": nuclei, "blobs": blobs}
    if quick:
        out = {name: np.ascontiguousarray(v[:16, :32, :32]) for name, v in out.items()}
    return out


def run(method: str, noisy: np.ndarray, volumetric: bool) -> tuple[np.ndarray, float]:
    """The method's result on ``noisy`` (in 3-D or slice by slice) and its wall time."""
    start = time.perf_counter()
    if volumetric:
        out = DENOISERS[method].func(noisy, sigma=SIGMA, seed=0, spacing=(1.0, 1.0, 1.0))
    else:
        func = DENOISERS[SLICE_WISE.get(method, method)].func
        out = np.stack([func(plane, sigma=SIGMA, seed=0) for plane in noisy])
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 x 32 x 32 crops")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    clean = volumes(args.quick)
    noisy = {
        name: (v + SIGMA * np.random.default_rng(args.seed + i).standard_normal(v.shape)).astype(
            np.float32
        )
        for i, (name, v) in enumerate(clean.items())
    }
    shapes = ", ".join(f"{n} {v.shape}" for n, v in clean.items())
    lines = [
        f"# Volume denoising, Gaussian sigma {SIGMA}, {shapes}, seed {args.seed}",
        "# PSNR (dB, clipped to [0, 1]); s = seconds per volume (shared 2-core machine)",
        "| method | mode | " + " | ".join(clean) + " | s |",
        "|---|---|" + "---|" * (len(clean) + 1),
        "| noisy | - | "
        + " | ".join(f"{clipped_psnr(noisy[n], clean[n]):.2f}" for n in clean)
        + " | - |",
    ]
    print("\n".join(lines), flush=True)
    found = {}
    for method in args.methods.split(","):
        for volumetric in (True, False):
            scores, seconds = [], []
            for name in clean:
                out, elapsed = run(method, noisy[name], volumetric)
                assert out.shape == noisy[name].shape
                scores.append(clipped_psnr(out, clean[name]))
                seconds.append(elapsed)
            found[method, volumetric] = scores
            mode = "3-D" if volumetric else f"slice-wise {SLICE_WISE.get(method, method)}"
            row = " | ".join(f"{s:.2f}" for s in scores)
            lines.append(f"| {method} | {mode} | {row} | {np.mean(seconds):.1f} |")
            print(lines[-1], flush=True)
    lines.append("")
    for method, reference in REFERENCE.items():
        if (method, True) in found:
            for name, value, ref in zip(clean, found[method, True], reference, strict=True):
                verdict = "met" if value >= ref - 0.2 else "NOT met"
                lines.append(
                    f"goal {method} 3-D {name} >= {ref - 0.2:.2f} dB: {value:.2f} ({verdict})"
                )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
