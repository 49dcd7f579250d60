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

import argparse
import time

import numpy as np
import torch

from napari_tweedie._sample_data import load_sample
from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.metrics import clipped_psnr
from napari_tweedie.steps import run as run_steps

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


def volumes() -> dict[str, np.ndarray]:
    """The clean test volumes, float32 on [0, 1] (as in ``bench_volume.py``)."""
    from scipy import ndimage
    from skimage.data import binary_blobs

    nuclei = load_sample("nuclei_3d")["clean"].astype(np.float32)
    blobs = binary_blobs(48, blob_size_fraction=0.2, n_dim=3, volume_fraction=0.3, rng=1)
    blobs = ndimage.gaussian_filter(blobs.astype(np.float32), 1.0)
    return {"nuclei": nuclei, "blobs": blobs}


def _call(name: str, image: np.ndarray, **kwargs) -> np.ndarray:
    spec = DENOISERS[name]
    result = spec.func(image, seed=0, **kwargs)
    return run_steps(result) if spec.iterative else result


def run(row: str, noisy: np.ndarray, quick: bool) -> np.ndarray:
    """The row's estimate of ``noisy``."""
    zs = dict(iterations=800, patience=300, preview_every=10**6) if quick else {}
    if row == "bm3d_slices":
        return np.stack([_call("bm3d", plane, sigma=SIGMA) for plane in noisy])
    if row in ("zs_n2n_3d", "zs_n2n_25d"):
        z_layers = 2 if row == "zs_n2n_3d" else 1
        return _call("zs_n2n", noisy, sigma=None, spacing=SPACING, z_layers=z_layers, **zs)
    if row == "zs_n2n_slices":
        return np.stack([_call("zs_n2n", plane, sigma=None, **zs) for plane in noisy])
    if row == "noise2score":
        quick_params = dict(steps=100, preview_every=10**6) if quick else dict(steps=200)
        return _call("noise2score", noisy, sigma=None, spacing=SPACING, patch=32, **quick_params)
    raise ValueError(f"unknown row {row!r}; expected one of {ROWS + EXTRA_ROWS}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter fits (see the docstring)")
    parser.add_argument("--methods", default=",".join(ROWS))
    parser.add_argument("--volumes", default="nuclei,blobs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    wanted = args.volumes.split(",")
    clean, noisy = {}, {}
    for i, (name, v) in enumerate(volumes().items()):  # the seed follows the full list
        if name in wanted:
            clean[name] = v
            noise = SIGMA * np.random.default_rng(args.seed + i).standard_normal(v.shape)
            noisy[name] = (v + noise).astype(np.float32)
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
    lines.append("| noisy | " + " | ".join(f"{p:.2f}" for p in noisy_psnr) + " | - | - |")
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
        cells = " | ".join(f"{s:.2f}" for s in scores)
        lines.append(
            f"| {LABELS[row]} | {cells} | " + " | ".join(f"{s:.0f}" for s in seconds) + " |"
        )
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
            verdict = "met" if met else "NOT met"
            where = "measured here" if measured else "issue 16's figures"
            lines.append(
                f"goal {LABELS[row]} >= slice-wise BM3D ({where}: {bars}): {figures} ({verdict})"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
