"""Quality and speed of every registered denoiser on Set12 and scikit-image images.

For each method in ``napari_tweedie.denoisers.DENOISERS`` (with its default
parameters and the known noise level sigma = 25/255) this prints the mean PSNR
and SSIM (``skimage.metrics``, data_range=1, estimate clipped to [0, 1]), the
mean seconds per image and the peak memory of one call, on

* Set12 with the fixed noisy realisations ``noisy_25.npz`` (location from the
  environment variable ``NT_SET12``, else ``../shared/data/set12`` next to the
  working directory or the repository; skipped with a note when absent);
  published BM3D mean: 29.96 dB;
* scikit-image's camera, moon, coins and astronaut (grayscale) with seeded
  Gaussian noise of sigma 25/255.

Peak memory is ``tracemalloc``'s peak of Python/NumPy allocations during the
call (numba's internal scratch buffers and other C allocations are not seen).

    napari-tweedie bench [--quick] [--methods tv,bm3d] [--json]
    python benchmarks/bench_denoisers.py [--quick] [--methods tv,bm3d] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from skimage import color, data
from skimage.metrics import structural_similarity

from .denoisers import DENOISERS
from .metrics import clipped_psnr
from .steps import run

SIGMA = 25.0 / 255.0
BM3D_PUBLISHED = 29.96
QUICK_SET12 = 3
QUICK_CROP = 256


def set12_dir() -> Path | None:
    """Where Set12 lies: ``$NT_SET12``, else ``../shared/data/set12`` near cwd or the source."""
    if os.environ.get("NT_SET12"):
        return Path(os.environ["NT_SET12"])
    source_root = Path(__file__).resolve().parents[2]
    for base in (Path.cwd(), source_root, source_root.parent):
        candidate = base.parent / "shared" / "data" / "set12"
        if (candidate / "clean.npz").exists():
            return candidate
    return None


def load_set12(quick: bool) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, clean, noisy) triples of Set12 with its published sigma=25 noise."""
    folder = set12_dir()
    if folder is None:
        return []
    clean = np.load(folder / "clean.npz")
    noisy = np.load(folder / "noisy_25.npz")
    keys = sorted(clean.files)[: QUICK_SET12 if quick else None]
    return [
        (key, (clean[key] / 255.0).astype(np.float32), noisy[key].astype(np.float32))
        for key in keys
    ]


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    y0 = max(0, (image.shape[0] - size) // 2)
    x0 = max(0, (image.shape[1] - size) // 2)
    return image[y0 : y0 + size, x0 : x0 + size]


def load_skimage(quick: bool, seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """camera, moon, coins, astronaut (gray) with seeded Gaussian noise of sigma 25/255."""
    images = {
        "camera": data.camera() / 255.0,
        "moon": data.moon() / 255.0,
        "coins": data.coins() / 255.0,
        "astronaut": color.rgb2gray(data.astronaut()),
    }
    triples = []
    for index, (name, image) in enumerate(images.items()):
        clean = np.asarray(image, np.float32)
        if quick:
            clean = np.ascontiguousarray(_centre_crop(clean, QUICK_CROP))
        rng = np.random.default_rng(seed + index)
        noisy = (clean + SIGMA * rng.standard_normal(clean.shape)).astype(np.float32)
        triples.append((name, clean, noisy))
    return triples


def _finish(spec, result):
    """The array of a registry call: iterative methods are run to completion."""
    return run(result) if spec.iterative else result


def denoise_once(spec, noisy: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
    """(estimate, seconds, tracemalloc peak in MiB) of one call with default parameters."""
    tracemalloc.start()
    start = time.perf_counter()
    estimate = _finish(spec, spec.func(noisy, sigma=SIGMA, seed=seed, **spec.defaults()))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return np.asarray(estimate, np.float32), seconds, peak


def evaluate(spec, dataset: str, triples, seed: int) -> dict:
    """Mean PSNR/SSIM/seconds and max peak memory of ``spec`` over ``triples``."""
    rows = []
    for name, clean, noisy in triples:
        estimate, seconds, peak = denoise_once(spec, noisy, seed)
        estimate = np.clip(estimate, 0.0, 1.0)
        rows.append(
            {
                "image": name,
                "psnr": clipped_psnr(estimate, clean),
                "ssim": float(structural_similarity(clean, estimate, data_range=1.0)),
                "seconds": seconds,
                "peak_mib": peak,
            }
        )
    return {
        "method": spec.name,
        "dataset": dataset,
        "n": len(rows),
        "psnr": float(np.mean([r["psnr"] for r in rows])),
        "ssim": float(np.mean([r["ssim"] for r in rows])),
        "seconds": float(np.mean([r["seconds"] for r in rows])),
        "peak_mib": float(np.max([r["peak_mib"] for r in rows])),
        "images": rows,
    }


def warm_up(spec, seed: int) -> None:
    """One small call so that JIT compilation and lazy imports are not timed."""
    rng = np.random.default_rng(seed)
    _finish(
        spec,
        spec.func(
            rng.random((32, 32), dtype=np.float32), sigma=SIGMA, seed=seed, **spec.defaults()
        ),
    )


def format_table(results: list[dict], skipped: dict[str, str]) -> str:
    lines = [
        f"sigma = 25/255, known to every method; PSNR/SSIM on [0, 1]; s = mean seconds per image; "
        f"peak = tracemalloc peak (Python/NumPy allocations). Published BM3D on Set12: "
        f"{BM3D_PUBLISHED} dB",
        f"{'method':<12} {'dataset':<16} {'n':>3} {'PSNR dB':>8} {'SSIM':>7} {'s/img':>8} "
        f"{'peak MiB':>9}",
    ]
    for r in results:
        lines.append(
            f"{r['method']:<12} {r['dataset']:<16} {r['n']:>3} {r['psnr']:8.2f} {r['ssim']:7.4f} "
            f"{r['seconds']:8.3f} {r['peak_mib']:9.1f}"
        )
    lines += [f"skipped {name}: {why}" for name, why in skipped.items()]
    return "\n".join(lines)


def select_methods(names: str | None) -> list[str]:
    if not names:
        return list(DENOISERS)
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in DENOISERS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; available: {sorted(DENOISERS)}")
    return chosen


def run_benchmark(
    quick: bool = False, methods: str | None = None, seed: int = 0
) -> tuple[list[dict], dict[str, str]]:
    """Evaluate the selected methods on every dataset; returns (results, skipped)."""
    datasets = {"set12": load_set12(quick), "skimage": load_skimage(quick, seed)}
    results, skipped = [], {}
    if not datasets["set12"]:
        skipped["set12"] = "not found (set NT_SET12 to the folder with clean.npz)"
    for name in select_methods(methods):
        spec = DENOISERS[name]
        try:
            spec.check_available()
        except ImportError as error:
            skipped[name] = str(error)
            continue
        warm_up(spec, seed)
        for dataset, triples in datasets.items():
            if triples:
                results.append(evaluate(spec, dataset, triples, seed))
    return results, skipped


def report(results: list[dict], skipped: dict[str, str], *, quick: bool, as_json: bool) -> str:
    """The table (or JSON) that ``napari-tweedie bench`` prints."""
    if as_json:
        payload = {"sigma": SIGMA, "quick": quick, "results": results, "skipped": skipped}
        return json.dumps(payload, indent=2)
    return format_table(results, skipped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"first {QUICK_SET12} Set12 images and {QUICK_CROP}^2 centre crops of the others",
    )
    parser.add_argument("--methods", help="comma-separated subset of the registry")
    parser.add_argument("--seed", type=int, default=0, help="noise seed of the skimage images")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    results, skipped = run_benchmark(args.quick, args.methods, args.seed)
    sys.stdout.write(report(results, skipped, quick=args.quick, as_json=args.json) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
