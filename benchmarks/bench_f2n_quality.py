"""Quality of Filter2Noise (Sun et al. 2025) against zero-shot Noise2Noise, BM3D and NL-means.

Datasets:

* ``ct``: the low-dose CT sample (256 x 256, HU; Poisson transmission noise
  reconstructed by FBP, so the noise is spatially correlated).  PSNR/SSIM
  with ``data_range = clean.max() - clean.min()`` (2065 HU, as the sample
  README).
* ``set12``: Set12 with the fixed Gaussian sigma = 25/255 realisations
  (``../shared/data/set12/noisy_25.npz``); estimates clipped to [0, 1],
  ``data_range = 1``; the mean over the 12 images.
* ``nuclei``: the 2-D fluorescence sample (512 x 512, Poisson-Gaussian),
  ``data_range = 1``.

Filter2Noise and ZS-N2N are blind single-image methods (they see only the
noisy image).  BM3D and NL-means get the noise model and level: the true
sigma for Set12 and the sample's ``suggested`` noise parameters for CT and
nuclei (from ``samples.json``).  Times are wall seconds per image with torch
and numba on one thread (BM3D and NL-means as their libraries run).

    python benchmarks/bench_f2n_quality.py [--datasets ct,set12,nuclei] [--methods ...]
                                           [--set12 01,02] [--json]

``--methods`` defaults to filter2noise,zs_n2n,bm3d,nl_means; ``zs_n2n_paper``
adds ZS-N2N with its published recipe (3000 full-image Adam steps).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

try:
    import napari_tweedie  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numba  # noqa: E402
import torch  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402

import napari_tweedie as nt  # noqa: E402
from napari_tweedie._sample_data import load_sample  # noqa: E402
from napari_tweedie.denoisers import DENOISERS  # noqa: E402
from napari_tweedie.denoisers.filter2noise import fit_filter2noise  # noqa: E402
from napari_tweedie.steps import run  # noqa: E402

SET12 = Path(__file__).resolve().parents[2] / "shared" / "data" / "set12"
METHODS = ("filter2noise", "zs_n2n", "bm3d", "nl_means")
#: Also accepted by ``--methods``: ZS-N2N with its published recipe (3000 full-image steps).
EXTRA_METHODS = ("zs_n2n_paper",)


def load_cases(datasets: list[str], set12_keys: list[str] | None) -> list[dict]:
    """(name, noisy, clean, data_range, clip, noise kwargs) for each image."""
    cases = []
    for name, key in (("ct", "ct_low_dose"), ("nuclei", "nuclei_2d")):
        if name in datasets:
            sample = load_sample(key)
            clean = sample["clean"].astype(np.float32)
            cases.append(
                {
                    "dataset": name,
                    "image": key,
                    "noisy": sample["noisy"],
                    "clean": clean,
                    "range": float(clean.max() - clean.min()),
                    "clip": None,
                    "noise": dict(sample["metadata"]["suggested"]),
                }
            )
    if "set12" in datasets:
        noisy_all = np.load(SET12 / "noisy_25.npz")
        clean_all = np.load(SET12 / "clean.npz")
        for key in set12_keys or sorted(noisy_all.files):
            cases.append(
                {
                    "dataset": "set12",
                    "image": key,
                    "noisy": noisy_all[key].astype(np.float32),
                    "clean": clean_all[key].astype(np.float32) / 255,
                    "range": 1.0,
                    "clip": (0.0, 1.0),
                    "noise": {"noise": "gaussian", "sigma": 25 / 255},
                }
            )
    return cases


def denoise(method: str, case: dict) -> np.ndarray:
    noisy = case["noisy"]
    if method == "filter2noise":
        model = run(fit_filter2noise(noisy, seed=0))
        return model.apply(noisy)
    if method == "zs_n2n":
        return nt.denoise(noisy, "zs_n2n", seed=0)
    if method == "zs_n2n_paper":
        from napari_tweedie.denoisers.zs_n2n import PAPER_RECIPE, fit_zs_n2n

        return run(fit_zs_n2n(noisy, seed=0, **PAPER_RECIPE)).estimate
    noise = dict(case["noise"])
    return nt.denoise(noisy, method, noise=noise.pop("noise"), **noise)


def score(case: dict, estimate: np.ndarray) -> tuple[float, float]:
    clean = case["clean"]
    if case["clip"] is not None:
        estimate = np.clip(estimate, *case["clip"])
    psnr = peak_signal_noise_ratio(clean, estimate, data_range=case["range"])
    ssim = structural_similarity(clean, estimate.astype(np.float32), data_range=case["range"])
    return float(psnr), float(ssim)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ct,set12,nuclei")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--set12", default=None, help="comma-separated Set12 keys (default all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    available = set(DENOISERS) | ({"zs_n2n_paper"} if "zs_n2n" in DENOISERS else set())
    methods = [m for m in args.methods.split(",") if m in available]
    skipped = sorted(set(args.methods.split(",")) - set(methods))
    cases = load_cases(args.datasets.split(","), args.set12.split(",") if args.set12 else None)
    rows = []
    for case in cases:
        psnr, ssim = score(case, case["noisy"])
        rows.append(
            {
                "dataset": case["dataset"],
                "image": case["image"],
                "method": "noisy",
                "psnr": psnr,
                "ssim": ssim,
                "seconds": 0.0,
            }
        )
        for method in methods:
            start = time.perf_counter()
            estimate = denoise(method, case)
            seconds = time.perf_counter() - start
            psnr, ssim = score(case, estimate)
            rows.append(
                {
                    "dataset": case["dataset"],
                    "image": case["image"],
                    "method": method,
                    "psnr": psnr,
                    "ssim": ssim,
                    "seconds": seconds,
                }
            )
            print(
                f"# {case['dataset']} {case['image']} {method}: {psnr:.2f} dB, SSIM {ssim:.4f}, "
                f"{seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"torch {torch.__version__} and numba {numba.__version__} on 1 thread"
        + (f"; not registered, skipped: {', '.join(skipped)}" if skipped else "")
    )
    print("\n| dataset | method | PSNR (dB) | SSIM | seconds / image |")
    print("|---|---|---:|---:|---:|")
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for method in ["noisy", *methods]:
            sel = [r for r in rows if r["dataset"] == dataset and r["method"] == method]
            label = f"{dataset} (mean of {len(sel)})" if len(sel) > 1 else dataset
            print(
                f"| {label} | {method} | {np.mean([r['psnr'] for r in sel]):.2f} | "
                f"{np.mean([r['ssim'] for r in sel]):.4f} | "
                f"{np.mean([r['seconds'] for r in sel]):.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
