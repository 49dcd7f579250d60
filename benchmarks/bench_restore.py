"""Diffusion inverse solvers vs classical baselines on held-out real images.

    python benchmarks/bench_restore.py [--quick] [--images 02,03] [--size 128]
        [--samplers dds,diffpir] [--steps 50] [--samples 4] [--threads 1]
        [--json results.json] [--time-dds | --only-time-dds]
        [--weights PRIOR.safetensors] [--set zeta=6 ...]
    python benchmarks/bench_restore.py --defaults [--quick] [--images ...] [--size 128]
        [--stack-planes 16] [--timed-planes 16] [--output results.md]

Images: Set12 (never used for training the prior), centre crops of --size
pixels, normalised to [0, 1].  Images 01 and 04 were used to choose the
samplers' defaults and the TV weights below, so the default report set
(02, 03, 05, 08) is held out from that choice too.  Problems (seeded):

  inpaint  70 % of pixels missing, sigma_y 0.01      baselines: TV least squares (ADMM)
  superres 4x block average, sigma_y 0.01            baselines: bicubic, TV least squares
  blur     Gaussian PSF sigma 2, sigma_y 0.01        baselines: TV least squares
  ct       60 views, sigma_y 0.5 (sinogram units)    baselines: FBP
  mri      4x Cartesian, sigma_y 0.007 per part      baselines: zero-filled IFFT, TV
           (real and imaginary parts each: the noise power of complex noise
           of rms 0.01, the convention of results before 2026-11-27)

For each solver: PSNR/SSIM of the posterior mean (samples=--samples), seconds,
and (samples > 1) the Pearson correlation of the per-pixel std map with the
absolute error of the mean, averaged over images.  ``--defaults``: the default
``nt.restore`` (no sampler, steps or samples given) against the best classical
baseline per problem (inpainting also against biharmonic inpainting), and the
whole-layer throughput of a (16, 512, 512) stack with and without tiling
(``benchmarks/restore_defaults.py``).  "gain" is the PSNR gain
over the best classical baseline of that problem.  ``--time-dds`` also times
50-step DDS on a 256x256 inpainting problem (goal <= 15 s on the 2-core CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import napari_tweedie as nt
from napari_tweedie.baselines import tv_least_squares
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.cli_args import parse_settings
from napari_tweedie.prior import load_prior
from napari_tweedie.prior.ensemble import SelfEnsemble
from napari_tweedie.prior.select import BUNDLED_PRIORS
from napari_tweedie.restoration import prepare, simulate_measurement

PROBLEMS = {
    "inpaint": ({"sigma_y": 0.01}, 0.7),
    "superres": ({"factor": 4, "sigma_y": 0.01}, None),
    "blur": ({"sigma_blur": 2.0, "sigma_y": 0.01}, None),
    "ct": ({"angles": 60, "sigma_y": 0.5}, None),
    "mri": ({"acceleration": 4.0, "sigma_y": 0.007}, None),
}
#: TV weights (ADMM, 200 iterations) picked by a grid over 3e-4 .. 0.1 on Set12 01 and 04
#: (128 px crops), best PSNR; CT's TV is left out (its CG on the Radon transform is slow).
TV_WEIGHTS = {"inpaint": 0.01, "superres": 0.001, "blur": 0.0003, "mri": 0.003}
OWN_BASELINE = {"superres": "bicubic", "ct": "fbp", "mri": "zero-filled"}


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


def baselines(name: str, y: np.ndarray, params: dict) -> dict[str, np.ndarray]:
    """The classical reconstructions of problem ``name``: method -> image."""
    problem = prepare(y, name, torch.device("cpu"), **params)
    out = {OWN_BASELINE[name]: problem.baseline} if name in OWN_BASELINE else {}
    if name in TV_WEIGHTS:
        x = tv_least_squares(problem.op, problem.y, weight=TV_WEIGHTS[name], iterations=200)
        out["tv"] = problem.to_image(x)[0]
    return out


def run(args, prior) -> list[dict]:
    rows = []
    for key, image in images(args.size, args.images.split(",")).items():
        for name in args.problems.split(","):
            y, params = measure(image, name, seed=int(key))
            start = time.perf_counter()
            for method, estimate in baselines(name, y, params).items():
                psnr, ssim = score(image, estimate)
                rows.append(
                    {"image": key, "problem": name, "method": method, "classical": True}
                    | {"psnr": psnr, "ssim": ssim, "seconds": time.perf_counter() - start}
                )
                start = time.perf_counter()
            for sampler in args.samplers.split(","):
                start = time.perf_counter()
                result = nt.restore(
                    y,
                    name,
                    sampler=sampler,
                    prior=prior,
                    steps=args.steps,
                    samples=args.samples if nt.SAMPLERS[sampler].stochastic else 1,
                    seed=0,
                    **params,
                    **args.settings,
                )
                seconds = time.perf_counter() - start
                psnr, ssim = score(image, result.mean)
                row = {"image": key, "problem": name, "method": sampler, "classical": False}
                row |= {"psnr": psnr, "ssim": ssim, "seconds": seconds}
                if args.samples > 1 and result.std.any():  # deterministic solvers: no spread
                    error = np.abs(np.clip(result.mean, 0, 1) - image).ravel()
                    row["std_error_corr"] = float(np.corrcoef(result.std.ravel(), error)[0, 1])
                rows.append(row)
                print(f"  {key} {name} {sampler}: {psnr:.2f} dB, {seconds:.1f} s", file=sys.stderr)
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Mean over images per (problem, method), with the gain over the best classical method."""
    table: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        table.setdefault((row["problem"], row["method"]), []).append(row)
    out = []
    for (problem, method), group in table.items():
        entry = {"problem": problem, "method": method, "classical": group[0]["classical"]}
        entry["n"] = len(group)
        for key in ("psnr", "ssim", "seconds", "std_error_corr"):
            if key in group[0]:
                entry[key] = float(np.mean([r[key] for r in group]))
        out.append(entry)
    for entry in out:
        best = max(
            (e["psnr"] for e in out if e["problem"] == entry["problem"] and e["classical"]),
            default=None,
        )
        if best is not None and not entry["classical"]:
            entry["gain_db"] = entry["psnr"] - best
    return sorted(out, key=lambda e: (e["problem"], not e["classical"], -e["psnr"]))


def markdown(summary: list[dict]) -> str:
    lines = [
        "| problem | method | n | PSNR | SSIM | gain dB | s | std-err corr |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for e in summary:
        gain = f"{e['gain_db']:+.2f}" if "gain_db" in e else "-"
        corr = f"{e['std_error_corr']:.2f}" if "std_error_corr" in e else "-"
        lines.append(
            f"| {e['problem']} | {e['method']} | {e['n']} | {e['psnr']:.2f} | {e['ssim']:.3f} "
            f"| {gain} | {e['seconds']:.1f} | {corr} |"
        )
    return "\n".join(lines)


def time_dds(prior, steps: int = 50) -> float:
    """Seconds of ``steps``-step DDS (one sample) on a 256x256 inpainting problem."""
    image = images(256, ["02"])["02"]
    y, params = measure(image, "inpaint", seed=0)
    start = time.perf_counter()
    nt.restore(y, "inpaint", sampler="dds", prior=prior, steps=steps, **params)
    return time.perf_counter() - start


def defaults_mode(args, prior) -> None:
    """``--defaults``: default ``nt.restore`` per problem, then whole-layer throughput."""
    import restore_defaults as rd

    if args.quick:  # two held-out images, 2 planes of the stack timed
        args.images, args.size, args.timed_planes = "02,05", 128, min(args.timed_planes, 2)
    if args.problems == ",".join(PROBLEMS):
        args.problems = rd.DEFAULT_PROBLEMS
    rows = (
        []
        if args.problems == "none"
        else rd.compare(args, prior, images, measure, baselines, score)
    )
    tiles = [None, 256]
    speed = (
        rd.throughput(prior, args.stack_planes, args.timed_planes, tiles)
        if args.timed_planes
        else []
    )
    header = (
        f"Command: `python benchmarks/bench_restore.py {' '.join(sys.argv[1:])}`\n\n"
        f"Set12 {args.images} (held out: never used to train the prior, nor to choose the "
        f"defaults) centre crops {args.size}x{args.size}; prior {args.prior!r} (step "
        f"{getattr(prior, 'metadata', {}).get('step', '-')}); torch threads "
        f"{torch.get_num_threads()}; a 2-core machine shared with other agents' jobs, so the "
        "seconds are upper bounds."
    )
    text = rd.report(rows, speed, header)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": rows, "speed": speed}, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 64 px image, 20 steps, 2 samples")
    parser.add_argument("--images", default="02,03,05,08")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--prior", default="default")
    parser.add_argument("--weights", type=Path, default=None, help="prior weights (safetensors)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sampler parameter for every sampler run (repeatable), e.g. --set zeta=6",
    )
    parser.add_argument(
        "--samplers",
        default="dds,diffpir,red_diff,dps",
        help=f"comma-separated, of {','.join(nt.SAMPLERS)}",
    )
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--time-dds", action="store_true", help="also time 50-step DDS, 256x256")
    parser.add_argument("--only-time-dds", action="store_true", help="only time DDS")
    parser.add_argument("--defaults", action="store_true", help="default restore vs baselines")
    parser.add_argument("--stack-planes", type=int, default=16, help="--defaults: stack depth")
    parser.add_argument("--timed-planes", type=int, default=16, help="--defaults: planes run")
    parser.add_argument("--output", type=Path, default=None, help="--defaults: markdown here")
    args = parser.parse_args()
    args.settings = parse_settings(args.set)
    if args.quick:
        args.images, args.size, args.steps, args.samples = "02", 64, 20, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    prior = args.prior
    if prior in BUNDLED_PRIORS:
        network = load_prior("cpu", args.weights)
        prior = network if prior == "default" else SelfEnsemble(network)
        prior.metadata = network.metadata
    if args.defaults:
        return defaults_mode(args, prior)
    payload: dict = {"threads": torch.get_num_threads(), "args": vars(args)}
    if not args.only_time_dds:
        rows = run(args, prior)
        payload |= {"rows": rows, "summary": summarise(rows)}
        print(
            f"Set12 {args.images} centre crops {args.size}x{args.size}, {args.steps} steps, "
            f"{args.samples} samples (pnp: 1), prior {args.prior!r} "
            f"(step {getattr(prior, 'metadata', {}).get('step', '-')}), torch threads "
            f"{torch.get_num_threads()}\n"
        )
        print(markdown(payload["summary"]))
    if args.time_dds or args.only_time_dds:
        payload["dds_256_50_steps_s"] = time_dds(prior)
        print(
            f"\n50-step DDS, 256x256 inpainting, 1 sample: {payload['dds_256_50_steps_s']:.1f} s "
            f"with {torch.get_num_threads()} torch thread(s) (goal <= 15 s on 2 threads)"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(payload, indent=1, default=str))


if __name__ == "__main__":
    main()
