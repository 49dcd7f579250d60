"""Noise2Score (Kim & Ye, NeurIPS 2021) on Set12 with the paper's noise: PSNR/SSIM, time, memory.

For each noise model (Gaussian sigma 25/255, Poisson zeta 0.01, Gamma k 100;
the fixed noisy images published with the paper, see
``../shared/data/set12/README.md``) ONE Noise2Score model is trained on the
twelve noisy images (``--minutes`` each; noise parameters *estimated* from
the noisy images, since ``sigma_eff`` in the score parametrisation uses them)
and evaluated with Tweedie's formula twice: with the known parameters and with
the estimated ones (the network does not depend on them; only the inversion
does).  References on the same images: BM3D (Anscombe/log VST for Poisson and
Gamma) and the bundled prior through the same VST.  PSNR on [0, 1] after
clipping (data_range 1), SSIM likewise, averaged over the images.  Peak memory
is the process's maximum resident set size (``resource.getrusage``), so it
includes everything before it.

    python benchmarks/bench_noise2score.py [--noise all|gaussian|poisson|gamma]
        [--minutes 30] [--init prior|scratch] [--threads 1] [--quick] [--json out.json]

``--quick``: 1 minute per noise model on the first 3 images.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import napari_tweedie as nt
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.denoisers.noise2score import fit_noise2score
from napari_tweedie.noise import make_noise_model
from napari_tweedie.steps import run

NOISES = {
    "gaussian": ("noisy_25.npz", {"sigma": 25 / 255}),
    "poisson": ("noisy_0.01.npz", {"zeta": 0.01}),
    "gamma": ("noisy_g_100.npz", {"k": 100.0}),
}
#: Set12 PSNR from the Noise2Score paper (Table 2): Noise2Score and BM3D (Anscombe for Poisson).
PUBLISHED = {"gaussian": (30.13, 29.96), "poisson": (31.58, 31.20), "gamma": (33.01, None)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(noise: str, count: int | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    folder = set12_dir()
    if folder is None:
        raise SystemExit("Set12 not found: set NT_SET12 to the folder with clean.npz")
    clean = np.load(folder / "clean.npz")
    noisy = np.load(folder / NOISES[noise][0])
    keys = sorted(clean.files)[:count]
    return [clean[k] / 255.0 for k in keys], [noisy[k].astype(np.float32) for k in keys]


def scores(clean: list[np.ndarray], estimates: list[np.ndarray]) -> tuple[float, float]:
    pairs = [(c, np.clip(np.asarray(e, np.float64), 0, 1)) for c, e in zip(clean, estimates)]
    psnr = np.mean([peak_signal_noise_ratio(c, e, data_range=1.0) for c, e in pairs])
    ssim = np.mean([structural_similarity(c, e, data_range=1.0) for c, e in pairs])
    return float(psnr), float(ssim)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_noise(noise: str, args) -> list[dict]:
    clean, noisy = load(noise, 3 if args.quick else None)
    known = NOISES[noise][1]
    log(f"[{noise}] training Noise2Score on {len(noisy)} images for {args.minutes} min")

    def progress(step) -> None:
        info = step.info
        log(f"[{noise}] step {step.i} loss {info['loss']:.4f} sigma_a {info['sigma_a']:.4f} "
            f"{info['seconds']:.0f} s")  # fmt: skip

    start = time.perf_counter()
    gen = fit_noise2score(noisy, noise=noise, minutes=args.minutes, steps=args.steps,
                          init=args.init, seed=args.seed, device=args.device,
                          preview_every=args.preview_every,
                          coordinates=args.coordinates)  # fmt: skip
    model = run(gen, progress)
    train_seconds = time.perf_counter() - start
    estimated = {k: float(getattr(model.noise_model, k)) for k in known}
    log(f"[{noise}] {model.step} steps in {train_seconds:.0f} s; estimated {estimated}")
    common = dict(noise=noise, n=len(noisy), train_s=train_seconds, steps=model.step,
                  init=args.init, published=PUBLISHED[noise][0])  # fmt: skip
    rows = []
    for label, noise_model in (
        ("known", make_noise_model(noise, **known)),
        ("estimated", model.noise_model),
    ):
        start = time.perf_counter()
        estimates = [model.denoise(y, noise_model) for y in noisy]
        psnr, ssim = scores(clean, estimates)
        used = {k: float(getattr(noise_model, k)) for k in known}
        rows.append(common | dict(method="noise2score", params=label, psnr=psnr, ssim=ssim,
                                  apply_s=time.perf_counter() - start, peak_mib=peak_mib(),
                                  noise_params=used))  # fmt: skip
        log(f"[{noise}] noise2score ({label}): {psnr:.2f} dB")
    for method in ("bm3d", "prior"):
        start = time.perf_counter()
        estimates = [nt.denoise(y, method, noise=noise, **known) for y in noisy]
        psnr, ssim = scores(clean, estimates)
        published = PUBLISHED[noise][1] if method == "bm3d" else None
        rows.append(dict(noise=noise, n=len(noisy), method=method, params="known", psnr=psnr,
                         ssim=ssim, apply_s=time.perf_counter() - start, train_s=0.0,
                         peak_mib=peak_mib(), published=published))  # fmt: skip
        log(f"[{noise}] {method} (VST if not Gaussian): {psnr:.2f} dB")
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| noise | method | params | n | PSNR dB | SSIM | published PSNR | train s | steps | "
        "apply s | peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        published = "-" if r.get("published") is None else f"{r['published']:.2f}"
        lines.append(
            f"| {r['noise']} | {r['method']} | {r['params']} | {r['n']} | {r['psnr']:.2f} | "
            f"{r['ssim']:.4f} | {published} | {r['train_s']:.0f} | {r.get('steps', '-')} | "
            f"{r['apply_s']:.1f} | {r['peak_mib']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--noise", default="all", choices=["all", *NOISES])
    parser.add_argument("--minutes", type=float, default=None, help="training budget per noise")
    parser.add_argument("--steps", type=int, default=100000, help="step cap per noise")
    parser.add_argument("--init", default="prior", choices=["prior", "scratch"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--coordinates",
        default="auto",
        choices=["auto", "identity", "anscombe", "log"],
        help="where the score network works (auto: stabilised for Poisson/Gamma)",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preview-every", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="1 minute per noise, 3 images")
    parser.add_argument("--json", default=None, help="write the results to this path")
    args = parser.parse_args(argv)
    if args.minutes is None:
        args.minutes = 1.0 if args.quick else 30.0
    torch.set_num_threads(args.threads)
    noises = list(NOISES) if args.noise == "all" else [args.noise]
    rows = [row for noise in noises for row in bench_noise(noise, args)]
    print(f"Noise2Score on Set12 (init={args.init}, {args.minutes} min per noise, "
          f"{args.threads} thread(s), torch {torch.__version__}); published = the paper's "
          f"Set12 means over all 12 images (Table 2)\n")  # fmt: skip
    print(table(rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
