"""Self-supervised 3-D denoising (ZS-N2N 3-D / 2.5-D, Noise2Score) vs slice-wise BM3D on volumes.

    python benchmarks/bench_volume_nets.py [--quick] [--methods ...] [--out FILE]

The volumes and noise of ``benchmarks/bench_volume.py`` (issue 16): the
clean reference of the ``nuclei_3d`` sample (31 x 61 x 57) and a synthetic
blob volume (``skimage.data.binary_blobs`` length 48, 3-D, blob size
fraction 0.2, volume fraction 0.3, ``rng=1``, smoothed by a Gaussian of 1
voxel), values on [0, 1]; i.i.d. Gaussian noise of sigma 0.1 from
``numpy.random.default_rng(seed + volume index)``.

Rows (each a registry ``func`` on the whole (Z, Y, X) volume unless said):

- ``bm3d slices (sigma given)``: BM3D plane by plane with the true sigma,
  the reference to beat;
- ``zs_n2n 3-D`` / ``zs_n2n 2.5-D``: zero-shot Noise2Noise with the volume
  network (``z_layers=2``: both 3x3 convolutions span 3 slices; ``1``: only
  the first, i.e. the neighbouring slices as input channels), no sigma;
- ``zs_n2n slices`` (only with ``--methods``: one fit per plane is slow):
  the 2-D network fitted plane by plane, no sigma;
- ``noise2score``: its ``volumetric`` path (one model for all slices of the
  volume, 2-D score network started from the bundled prior), sigma estimated
  from the data (not given).

PSNR of the result clipped to [0, 1]; ``cpu s`` is the process CPU time of
the row (torch on 1 thread), which on a machine shared with other jobs is a
fairer cost than wall time.  ``--quick``: ZS-N2N at most 800 steps (early
stop patience 300), Noise2Score 100 steps, no previews.  ``--volumes``
picks volumes, so that cells can run in separate processes.

Issue 16's reference figures (nuclei / blobs): slice-wise BM3D 30.51 /
33.30, BM4D 33.26 / 36.50.  Goal: a self-supervised 3-D method with no
sigma given >= slice-wise BM3D given sigma on both volumes.
"""

from __future__ import annotations

import time

import _report
import numpy as np
import torch
from _cases import add_noise, denoise, volumes

from napari_tweedie.metrics import clipped_psnr

SIGMA = 0.1
SPACING = (1.0, 1.0, 1.0)
ROWS = ("bm3d_slices", "zs_n2n_3d", "zs_n2n_25d", "noise2score")
EXTRA_ROWS = ("zs_n2n_slices",)  # slow: one fit per plane (--methods)
LABELS = {
    "bm3d_slices": "bm3d slices (sigma given)",
    "zs_n2n_3d": "zs_n2n 3-D",
    "zs_n2n_25d": "zs_n2n 2.5-D",
    "zs_n2n_slices": "zs_n2n slices",
    "noise2score": "noise2score (volume dataset)",
}
REFERENCE = {"bm3d slices": (30.51, 33.30), "bm4d": (33.26, 36.50)}


def run(row: str, noisy: np.ndarray, quick: bool) -> np.ndarray:
    """The row's estimate of ``noisy``."""
    zs = dict(iterations=800, patience=300, preview_every=10**6) if quick else {}
    if row == "bm3d_slices":
        return np.stack([denoise("bm3d", plane, sigma=SIGMA) for plane in noisy])
    if row in ("zs_n2n_3d", "zs_n2n_25d"):
        z_layers = 2 if row == "zs_n2n_3d" else 1
        return denoise("zs_n2n", noisy, sigma=None, spacing=SPACING, z_layers=z_layers, **zs)
    if row == "zs_n2n_slices":
        return np.stack([denoise("zs_n2n", plane, sigma=None, **zs) for plane in noisy])
    if row == "noise2score":
        quick_params = dict(steps=100, preview_every=10**6) if quick else dict(steps=200)
        return denoise("noise2score", noisy, sigma=None, spacing=SPACING, patch=32, **quick_params)
    raise ValueError(f"unknown row {row!r}; expected one of {ROWS + EXTRA_ROWS}")


def main(argv: list[str] | None = None) -> None:
    quick_help = "shorter fits (see the docstring)"
    extra = {"--volumes": dict(default="nuclei,blobs")}
    args = _report.parser(__doc__, quick_help, ROWS, extra).parse_args(argv)
    torch.set_num_threads(1)
    wanted = args.volumes.split(",")
    every = volumes()  # the seed follows the full list
    clean = {name: v for name, v in every.items() if name in wanted}
    noisy = add_noise(every, SIGMA, args.seed, only=wanted)
    shapes = ", ".join(f"{n} {v.shape}" for n, v in clean.items())
    mode = "quick (shorter fits)" if args.quick else "registry defaults"
    lines = [
        f"# Volumes, Gaussian sigma 0.1, {shapes}, seed {args.seed}, {mode}",
        "# PSNR (dB, clipped to [0, 1]); cpu s = process CPU seconds per volume "
        "(torch 1 thread; shared 2-core machine, ~7 other jobs running)",
        "| method | " + " | ".join(clean) + " | cpu s " + " | cpu s ".join(clean) + " |",
        "|---|" + "---|" * (2 * len(clean)),
    ]
    noisy_psnr = [clipped_psnr(noisy[n], clean[n]) for n in clean]
    lines.append(_report.row("noisy", _report.figures(noisy_psnr), "-", "-"))
    results = {}
    for row in args.methods.split(","):
        scores, seconds = [], []
        for name in clean:
            start = time.process_time()
            out = run(row, noisy[name], args.quick)
            seconds.append(time.process_time() - start)
            assert out.shape == noisy[name].shape
            scores.append(clipped_psnr(out, clean[name]))
            print(f"# {row} {name}: {scores[-1]:.2f} dB, {seconds[-1]:.0f} cpu s", flush=True)
        results[row] = scores
        cells = (_report.figures(scores), _report.figures(seconds, ".0f"))
        lines.append(_report.row(LABELS[row], *cells))
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(
        "reference (issue 16, nuclei / blobs): slice-wise BM3D given sigma 30.51 / 33.30, "
        "BM4D 33.26 / 36.50"
    )
    measured = "bm3d_slices" in results  # else the figures (its blob volume differs)
    bar = results.get("bm3d_slices", list(REFERENCE["bm3d slices"]))[: len(clean)]
    for row in ("zs_n2n_3d", "zs_n2n_25d", "noise2score"):
        if row in results:
            met = all(s >= b for s, b in zip(results[row], bar))
            figures = " / ".join(f"{s:.2f}" for s in results[row])
            bars = " / ".join(f"{b:.2f}" for b in bar)
            verdict = _report.verdict(met)
            where = "measured here" if measured else "issue 16's figures"
            lines.append(
                f"goal {LABELS[row]} >= slice-wise BM3D ({where}: {bars}): {figures} ({verdict})"
            )
    _report.finish(lines, args.out)


if __name__ == "__main__":
    main()
