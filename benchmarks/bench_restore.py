"""Diffusion inverse solvers vs classical baselines on held-out real images.

    python benchmarks/bench_restore.py [--quick] [--samplers dds,diffpir] [--steps 50] [--json]

Images: Set12 (never used for training the prior), centre crops of --size
pixels, normalised to [0, 1]. Problems (seeded):
  inpaint  70 % of pixels missing, sigma_y 0.01      baseline: TV least squares (ADMM)
  superres 4x block average, sigma_y 0.01            baseline: TV least squares
  blur     Gaussian PSF sigma 2, sigma_y 0.01        baseline: TV least squares
  ct       60 views, sigma_y 0.5 (sinogram units)    baseline: FBP
  mri      4x Cartesian, sigma_y 0.01                baseline: zero-filled IFFT
For each solver: PSNR/SSIM of the posterior mean (samples=--samples), seconds,
and (samples > 1) the Pearson correlation of the std map with the absolute error.
Also times 50-step DDS on a 256x256 problem (goal <= 15 s on the 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import napari_tweedie as nt
from napari_tweedie.baselines import tv_least_squares
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.restoration import prepare, simulate_measurement

PROBLEMS = {
    "inpaint": ({"sigma_y": 0.01}, 0.7),
    "superres": ({"factor": 4, "sigma_y": 0.01}, None),
    "blur": ({"sigma_blur": 2.0, "sigma_y": 0.01}, None),
    "ct": ({"angles": 60, "sigma_y": 0.5}, None),
    "mri": ({"acceleration": 4.0, "sigma_y": 0.01}, None),
}


def images(size: int, keys: list[str]) -> dict[str, np.ndarray]:
    clean = np.load(set12_dir() / "clean.npz")
    out = {}
    for key in keys:
        image = clean[key].astype(np.float32) / 255
        y0, x0 = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
        out[key] = np.ascontiguousarray(image[y0 : y0 + size, x0 : x0 + size])
    return out


def measure(image: np.ndarray, name: str, seed: int):
    params, missing = PROBLEMS[name]
    params = dict(params)
    if missing is not None:
        rng = np.random.default_rng(seed)
        params["mask"] = (rng.random(image.shape) >= missing).astype(np.float32)
    y = simulate_measurement(image, name, seed=seed, **params)
    restore_params = {k: v for k, v in params.items() if k != "angles"}
    return y, restore_params


def score(truth: np.ndarray, estimate: np.ndarray) -> tuple[float, float]:
    estimate = np.clip(estimate, 0, 1)
    return (
        float(peak_signal_noise_ratio(truth, estimate, data_range=1.0)),
        float(structural_similarity(truth, estimate, data_range=1.0)),
    )


def baseline(name: str, y: np.ndarray, params: dict) -> np.ndarray:
    problem = prepare(y, name, torch.device("cpu"), **params)
    if name in ("ct", "mri"):
        return problem.baseline
    x = tv_least_squares(problem.op, problem.y, weight=0.01)
    return problem.to_image(x)[0]


def run(args) -> list[dict]:
    rows = []
    keys = ["02", "03"] if args.quick else ["02", "03", "05", "08"]
    for key, image in images(args.size, keys).items():
        for name in args.problems.split(","):
            y, params = measure(image, name, seed=int(key))
            start = time.perf_counter()
            base = baseline(name, y, params)
            rows.append(
                {
                    "image": key,
                    "problem": name,
                    "method": "classical",
                    **dict(zip(("psnr", "ssim"), score(image, base))),
                    "seconds": time.perf_counter() - start,
                }
            )
            for sampler in args.samplers.split(","):
                start = time.perf_counter()
                result = nt.restore(
                    y,
                    name,
                    sampler=sampler,
                    prior=args.prior,
                    steps=args.steps,
                    samples=args.samples,
                    seed=0,
                    **params,
                )
                seconds = time.perf_counter() - start
                row = {
                    "image": key,
                    "problem": name,
                    "method": sampler,
                    **dict(zip(("psnr", "ssim"), score(image, result.mean))),
                    "seconds": seconds,
                }
                if args.samples > 1:
                    error = np.abs(np.clip(result.mean, 0, 1) - image).ravel()
                    row["std_error_corr"] = float(np.corrcoef(result.std.ravel(), error)[0, 1])
                rows.append(row)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    table = {}
    for row in rows:
        table.setdefault((row["problem"], row["method"]), []).append(row)
    out = []
    for (problem, method), group in table.items():
        entry = {"problem": problem, "method": method, "n": len(group)}
        for key in ("psnr", "ssim", "seconds", "std_error_corr"):
            if key in group[0]:
                entry[key] = float(np.mean([r[key] for r in group]))
        out.append(entry)
    return out


def time_dds(prior: str) -> float:
    image = images(256, ["02"])["02"]
    y, params = measure(image, "inpaint", seed=0)
    start = time.perf_counter()
    nt.restore(y, "inpaint", sampler="dds", prior=prior, steps=50, **params)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--prior", default="default")
    parser.add_argument("--samplers", default="dds,diffpir,red_diff,dps")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    summary = summarise(run(args))
    dds_seconds = time_dds(args.prior)
    if args.json:
        print(json.dumps({"summary": summary, "dds_256_50_steps_s": dds_seconds}, indent=1))
        return
    print(
        f"Set12 centre crops {args.size}x{args.size}, {args.steps} steps, "
        f"{args.samples} samples, prior {args.prior!r}, torch threads {torch.get_num_threads()}"
    )
    print(f"{'problem':<9} {'method':<10} {'n':>2} {'PSNR':>6} {'SSIM':>6} {'s':>7} {'corr':>6}")
    for e in sorted(summary, key=lambda e: (e["problem"], e["method"] != "classical", -e["psnr"])):
        corr = f"{e['std_error_corr']:6.2f}" if "std_error_corr" in e else "     -"
        print(
            f"{e['problem']:<9} {e['method']:<10} {e['n']:>2} {e['psnr']:6.2f} "
            f"{e['ssim']:6.3f} {e['seconds']:7.1f} {corr}"
        )
    print(f"50-step DDS, 256x256 inpainting: {dds_seconds:.1f} s (goal <= 15 s)")


if __name__ == "__main__":
    main()
