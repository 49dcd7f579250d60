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

from functools import partial

import _report
import numpy as np
from _cases import add_noise, denoise, volumes

from napari_tweedie.metrics import clipped_psnr

METHODS = ("bm4d", "nl_means", "tv", "bilateral", "gaussian", "wavelet")
SLICE_WISE = {"bm4d": "bm3d"}  # a volumetric method's 2-D counterpart, when not itself
SIGMA = 0.1
REFERENCE = {"bm4d": (33.26, 36.50), "nl_means": (28.79, 34.22), "tv": (30.28, 31.38)}


def run(method: str, noisy: np.ndarray, volumetric: bool) -> np.ndarray:
    """The method's result on ``noisy``, in 3-D or slice by slice."""
    if volumetric:
        return denoise(method, noisy, sigma=SIGMA, spacing=(1.0, 1.0, 1.0))
    slice_wise = SLICE_WISE.get(method, method)
    return np.stack([denoise(slice_wise, plane, sigma=SIGMA) for plane in noisy])


def main(argv: list[str] | None = None) -> None:
    args = _report.parser(__doc__, "16 x 32 x 32 crops", METHODS).parse_args(argv)
    clean = volumes()
    if args.quick:
        clean = {name: np.ascontiguousarray(v[:16, :32, :32]) for name, v in clean.items()}
    noisy = add_noise(clean, SIGMA, args.seed)
    shapes = ", ".join(f"{n} {v.shape}" for n, v in clean.items())
    lines = [
        f"# Volume denoising, Gaussian sigma {SIGMA}, {shapes}, seed {args.seed}",
        "# PSNR (dB, clipped to [0, 1]); s = seconds per volume (shared 2-core machine)",
        *_report.header("method", "mode", *clean, "s"),
        _report.row(
            "noisy", "-", _report.figures(clipped_psnr(noisy[n], clean[n]) for n in clean), "-"
        ),
    ]
    print("\n".join(lines), flush=True)
    found = {}
    for method in args.methods.split(","):
        for volumetric in (True, False):
            one = partial(run, method, volumetric=volumetric)
            scores, seconds = _report.psnrs(one, clean, noisy)
            found[method, volumetric] = scores
            mode = "3-D" if volumetric else f"slice-wise {SLICE_WISE.get(method, method)}"
            lines.append(
                _report.row(method, mode, _report.figures(scores), f"{np.mean(seconds):.1f}")
            )
            print(lines[-1], flush=True)
    lines.append("")
    for method, reference in REFERENCE.items():
        if (method, True) in found:
            for name, value, ref in zip(clean, found[method, True], reference, strict=True):
                lines.append(_report.goal_line(f"{method} 3-D {name}", ref - 0.2, value))
    _report.finish(lines, args.out)


if __name__ == "__main__":
    main()
