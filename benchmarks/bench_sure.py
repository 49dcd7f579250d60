"""SURE/PURE accuracy, auto-tune quality and cost, and calibration of the one-pass uncertainty.

    python benchmarks/bench_sure.py [--quick | --medium | --full] [--dds] [--dds-side 128]
        [--methods tv,gaussian,...] [--sections accuracy,bias,tune,uncertainty]
        [--images 01,08,camera] [--noise 15,25,50,pg] [--risk-draws 4]
        [--probes 4] [--default-only] [--per-image] [--draws 8] [--out NAME]

Images: Set12 (held out from the prior's training; ``../shared/data/set12`` or
``$NT_SET12``) and the scikit-image images of the README's benchmark (camera,
moon, coins, astronaut), central crops (whole with ``--full``); noise drawn
with ``default_rng(seed)``.

1. Accuracy: ``|nt.sure - true MSE| / true MSE`` (median and worst over images)
   per method, at the defaults and at an off-default setting, for Gaussian
   sigma 15/25/50 (/255) and Poisson-Gaussian (zeta 0.01, sigma 0.02; PURE).
   Column ``floor``: the median over images of ``|mean(n^2) - E mean(n^2)| / MSE``,
   this draw's noise energy against its expectation, which no estimate of the
   divergence sees: even with the exact divergence a one-draw SURE scatters by
   about ``sigma^2 sqrt(2 / pixels) / MSE`` around the true MSE.  With
   ``--risk-draws R`` (R > 1) also ``vs risk``: the median of
   ``|SURE - risk| / risk``, the risk (what SURE is unbiased for) estimated
   by the MSE averaged over R draws (this one and R - 1 more, denoised only).
1b. Bias (``--sections bias``, not run by default): the same against the MSE
   averaged over ``--draws`` noise draws per image, Gaussian sigma 25, with
   the one-draw error of the same runs: what is left is scatter, not bias.
2. Auto-tune: PSNR of ``nt.tune``'s values against the best of a fine grid of
   the same parameter(s) (which needs the clean image: 25 points on one axis,
   ``--grid2`` x ``--grid2`` on two, default 7) and the defaults, with the
   number of denoiser calls.
3. Uncertainty: ``nt.uncertainty(y, "prior")`` against the prior's actual
   error: in 10 quantile bins of the predicted std, RMS error / RMS predicted
   std, and how many bins are within +-25 %; prior calls and time; rows for
   the former estimator (plain 4 x 4 cell mean of the probed diagonal), the
   adaptive cell mean alone and the default (plus SURE's model error), all
   from the same probe pass.  With
   ``--dds`` also the std of ``nt.restore(y, "denoise", sampler="dds",
   samples=8)`` (slow on a CPU).

``--medium`` (about 15 minutes on a quiet 2-core machine): six 256-pixel
crops (Set12 01 02 05 08, skimage coins and astronaut), all noise settings,
bm3d and the prior at their defaults only, auto-tune on 128-pixel crops,
uncertainty on the six 256-pixel crops; with ``--dds`` the side-by-side DDS
comparison on one ``--dds-side`` crop.  Results in
``benchmarks/results/sure_medium.txt`` (``--out``: another name).  Without a
size flag: all twelve Set12 images and the four skimage images, 256-pixel
crops (``sure.txt``).

``--per-image`` adds each image's error and floor under a row.

``--full``: the whole images (Set12 01-07 are 256 x 256, 08-12 are
512 x 512; camera, moon, coins 303 x 384, astronaut 512 x 512): the floor
halves at 512 pixels.  ``--images`` picks some of the subset's images (a
documented subset for the slow methods), ``--noise`` the noise settings
(sigmas in /255, ``pg``: Poisson-Gaussian), ``--default-only`` skips the
off-default column, ``--probes`` sets SURE's lattice probe classes for
every method (default: each method's own, ``spec.extra["sure_probes"]``).
Results in ``sure_full.txt``; a risk column (4 draws) unless ``--risk-draws``.

``--quick``: three 256-pixel crops for the accuracy (at 128 pixels the
estimate's own scatter, about 1/sqrt(pixels), hides a 3 % target), the slow
methods (bm3d, prior: its off-default is the 8x ensemble) at their defaults
only; Gaussian sigma 25 and Poisson-Gaussian; auto-tune on 128-pixel crops;
uncertainty on one 256-pixel crop.  Results go to ``benchmarks/results/sure_quick.txt``
(``sure.txt`` for the full run), the command line at the top.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import napari_tweedie as nt
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.steps import run
from napari_tweedie.tuning.sure import risk_problem, sure_and_output
from napari_tweedie.tuning.tune import Axis, tunable_params, tune_steps

# off-default settings: intensity parameters as multiples of the noise level
OFF_DEFAULT = {
    "gaussian": lambda s: {"sigma_spatial": 2.0},
    "tv": lambda s: {"weight": 1.6 * s},
    "nl_means": lambda s: {"h": 1.2 * s},
    "bilateral": lambda s: {"sigma_spatial": 2.0, "sigma_color": 1.5 * s},
    "wavelet": lambda s: {"mode": "hard"},
    "bm3d": lambda s: {"stage": "hard"},
    "prior": lambda s: {"ensemble": True},
}
METHODS = ("gaussian", "tv", "nl_means", "bilateral", "wavelet", "bm3d", "prior")
PG = {"zeta": 0.01, "sigma": 0.02}
GRID = 25  # fine-grid points per axis (7 x 7 for two parameters)
QUICK_DEFAULT_ONLY = ("bm3d", "prior")  # --quick: no off-default column (time)


SUBSETS = {
    "quick": ("01", "02", "05"),
    "medium": ("01", "02", "05", "08", "coins", "astronaut"),
    "full": ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
             "camera", "moon", "coins", "astronaut"),
}  # fmt: skip


def skimage_images() -> dict[str, np.ndarray]:
    """The scikit-image test images of the README's benchmark (gray, [0, 1])."""
    from skimage import color, data

    return {
        "camera": data.camera() / 255.0, "moon": data.moon() / 255.0,
        "coins": data.coins() / 255.0, "astronaut": color.rgb2gray(data.astronaut()),
    }  # fmt: skip


class Lines(list):
    """The results' lines, each also printed as it comes (long runs show progress)."""

    def append(self, line: str) -> None:
        super().append(line)
        print(line, flush=True)


def crops(subset: str | bool, side: int | None = 256, names=None) -> list[tuple[str, np.ndarray]]:
    """Central ``side``-pixel crops (``None``: whole) of the subset's images (or of ``names``)."""
    folder = set12_dir()
    if folder is None:
        raise SystemExit("Set12 not found: set $NT_SET12")
    clean = np.load(folder / "clean.npz")
    subset = "quick" if subset is True else subset
    names, others = names or SUBSETS[subset], skimage_images()
    out = []
    for name in names:
        image = others[name] if name in others else clean[name] / 255.0
        image = np.asarray(image, np.float32)
        if side is None:
            out.append((name, np.ascontiguousarray(image)))
            continue
        y0, x0 = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        out.append((name, np.ascontiguousarray(image[y0 : y0 + side, x0 : x0 + side])))
    return out


def noisy(clean, noise: str, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if noise == "gaussian":
        return (clean + level * rng.standard_normal(clean.shape)).astype(np.float32)
    counts = PG["zeta"] * rng.poisson(np.clip(clean, 0, None) / PG["zeta"])
    return (counts + PG["sigma"] * rng.standard_normal(clean.shape)).astype(np.float32)


def noise_energy_gap(y, clean, noise: str, level: float) -> float:
    """``|mean(n^2) - E mean(n^2)|`` of this draw (the part of SURE's error no divergence sees)."""
    energy = float(np.mean((np.asarray(y, np.float64) - clean) ** 2))
    if noise == "gaussian":
        return abs(energy - level**2)
    return abs(energy - float(np.mean(PG["zeta"] * np.clip(clean, 0, None) + PG["sigma"] ** 2)))


def psnr(estimate, clean) -> float:
    return float(10 * np.log10(1 / np.mean((np.clip(estimate, 0, 1) - clean) ** 2)))


def risk_of(clean, method, noise, level, kwargs, params, first_mse, draws, index) -> float:
    """The risk ``E MSE``: the MSE of this draw averaged with ``draws - 1`` more (denoised only)."""
    mses = [first_mse]
    for draw in range(1, draws):
        y = noisy(clean, noise, level, 10_000 * draw + index)
        out = nt.denoise(y, method, noise=noise, seed=index, **kwargs, **params)
        mses.append(float(np.mean((out - clean) ** 2)))
    return float(np.mean(mses))


def accuracy_cell(images, method, noise, level, kwargs, params, draws, options):
    """Errors vs the MSE, vs the risk (``draws > 1``) and floors over images, in %."""
    errors, vs_risk, floors = [], [], []
    for index, (_, clean) in enumerate(images):
        y = noisy(clean, noise, level, index)
        est, out = sure_and_output(y, method, noise=noise, seed=index,
                                   **kwargs, **params, **options)  # fmt: skip
        true = float(np.mean((out - clean) ** 2))
        errors.append(abs(est - true) / true * 100)
        floors.append(noise_energy_gap(y, clean, noise, level) / true * 100)
        if draws > 1:
            risk = risk_of(clean, method, noise, level, kwargs, params, true, draws, index)
            vs_risk.append(abs(est - risk) / risk * 100)
    return errors, vs_risk, floors


def accuracy(images, methods, settings, lines, default_only=(), draws=1, options=None,
             per_image=False):  # fmt: skip
    lines.append("## 1. accuracy: |SURE - MSE| / MSE, median (worst) over images, in %; "
                 f"vs risk: |SURE - risk| / risk, risk = mean MSE over {draws} draws "
                 "(median); floor: |mean(n^2) - E mean(n^2)| / MSE (median)")  # fmt: skip
    head = f"{'vs MSE (worst)':>14} {'risk':>5} {'floor':>5}"
    lines.append(f"{'noise':>12} {'method':>10}  default: {head}  off-default: {head}  s/img")
    for noise, level in settings:
        kwargs = {"sigma": level} if noise == "gaussian" else dict(PG)
        scale = level if noise == "gaussian" else 1.0  # Gaussian-only methods: Anscombe units
        for method in methods:
            row, start, details = [], time.perf_counter(), []
            skip = method in default_only
            for params in ({},) if skip else ({}, OFF_DEFAULT[method](scale)):
                errors, vs_risk, floors = accuracy_cell(
                    images, method, noise, level, kwargs, params, draws, options or {}
                )
                cells = zip(images, errors, floors)
                details.append(" ".join(f"{n} {e:.1f}/{f:.1f}" for (n, _), e, f in cells))
                risk = f"{np.median(vs_risk):5.1f}" if vs_risk else "-"
                row.append(f"{np.median(errors):6.1f} ({max(errors):5.1f}) {risk:>5} "
                           f"{np.median(floors):5.1f}")  # fmt: skip
            seconds = (time.perf_counter() - start) / (len(row) * len(images))
            row += ["-"] * (2 - len(row))
            label = f"{noise[:8]} {level * 255:.0f}" if noise == "gaussian" else "pois-gauss"
            lines.append(f"{label:>12} {method:>10}  {row[0]:>35}  {row[1]:>39}  {seconds:6.2f}")
            for name, text in zip(("default", "off-default"), details if per_image else ()):
                lines.append(f"{'':>12} {name:>11}, per image (error/floor): {text}")


def bias(images, methods, level, draws, lines):
    """SURE against the MSE averaged over ``draws`` noise draws per image: its bias, not scatter."""
    lines.append("")
    lines.append(f"## 1b. bias, Gaussian sigma {level * 255:.0f}: |mean SURE - mean MSE| / MSE "
                 f"over {draws} draws per image, median (worst) over images, in %; "
                 "one-draw error for comparison")  # fmt: skip
    lines.append(f"{'method':>10} {'bias':>14} {'one draw':>14}")
    for method in methods:
        biases, singles = [], []
        for index, (_, clean) in enumerate(images):
            estimates, truths = [], []
            for draw in range(draws):
                seed = 1000 * (index + 1) + draw
                y = noisy(clean, "gaussian", level, seed)
                est, out = sure_and_output(y, method, sigma=level, seed=seed)
                estimates.append(est)
                truths.append(float(np.mean((out - clean) ** 2)))
            estimates, truths = np.array(estimates), np.array(truths)
            biases.append(abs(estimates.mean() - truths.mean()) / truths.mean() * 100)
            singles += list(np.abs(estimates - truths) / truths * 100)
        lines.append(f"{method:>10} {np.median(biases):6.1f} ({max(biases):5.1f}) "
                     f"{np.median(singles):6.1f} ({max(singles):5.1f})")  # fmt: skip


def grid_values(method, y, level, side2=7):
    problem = risk_problem(y, method, sigma=level)
    spec = nt.DENOISERS[method]
    axes = [Axis.of(p, problem.params.get(p.name), problem.method_sigma)
            for p in tunable_params(spec)]  # fmt: skip
    count = GRID if len(axes) == 1 else side2
    points = [[a.value(u) for u in np.linspace(0, 1, count)] for a in axes]
    mesh = np.meshgrid(*points, indexing="ij")
    return [dict(zip([a.name for a in axes], values)) for values in zip(*(m.ravel() for m in mesh))]


def autotune(images, methods, level, lines, side2=7, per_image=False):
    lines.append("")
    lines.append(f"## 2. auto-tune, Gaussian sigma {level * 255:.0f}: PSNR (dB), mean over images")
    lines.append(f"{'method':>10} {'tune':>7} {'grid best':>9} {'gap':>6} {'default':>7} "
                 f"{'calls':>5} {'grid pts':>8}   worst gap  below default  "
                 "worst vs default")  # fmt: skip
    for method in methods:
        try:
            tunable_params(nt.DENOISERS[method])
        except ValueError as error:
            lines.append(f"{method:>10}   skipped: {error}")
            continue
        tuned_p, best_p, default_p, calls, gaps, details = [], [], [], [], [], []
        for index, (_, clean) in enumerate(images):
            y = noisy(clean, "gaussian", level, index)
            steps = []
            values = run(tune_steps(y, method, sigma=level, seed=index), steps.append)
            calls.append(max(s.i for s in steps))
            tuned_p.append(psnr(nt.denoise(y, method, sigma=level, **values), clean))
            grid = grid_values(method, y, level, side2)
            best_p.append(max(psnr(nt.denoise(y, method, sigma=level, **g), clean) for g in grid))
            default_p.append(psnr(nt.denoise(y, method, sigma=level), clean))
            gaps.append(best_p[-1] - tuned_p[-1])
            shown = ",".join(f"{k}={v:.4g}" for k, v in values.items())
            details.append(f"{images[index][0]} {tuned_p[-1]:.2f}/{best_p[-1]:.2f}/"
                           f"{default_p[-1]:.2f} ({shown})")  # fmt: skip
        lines.append(
            f"{method:>10} {np.mean(tuned_p):7.2f} {np.mean(best_p):9.2f} {np.mean(gaps):6.2f} "
            f"{np.mean(default_p):7.2f} {max(calls):5d} {len(grid):8d}   {max(gaps):9.2f}  "
            f"{sum(t < d for t, d in zip(tuned_p, default_p))}/{len(images)}"
            f"  {min(t - d for t, d in zip(tuned_p, default_p)):+15.3f}"
        )
        if per_image:
            lines.append(f"{'':>10} per image (tune/grid best/default): " + "; ".join(details))


def calibration(std, error, lines, label, seconds, calls):
    edges = np.quantile(std, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, std, side="right") - 1, 0, 9)
    ratios = []
    for b in range(10):
        mask = bins == b
        ratios.append(np.sqrt(np.mean(error[mask] ** 2)) / np.sqrt(np.mean(std[mask] ** 2)))
    within = sum(0.75 <= r <= 1.25 for r in ratios)
    text = " ".join(f"{r:4.2f}" for r in ratios)
    lines.append(f"{label:>12} {within:>2}/10  {seconds:6.1f} s {calls:>6}   {text}")


def jacobian_row(name, y, clean, level, seed, lines, variants=True):
    """The one-pass std (one probe pass, 17 prior calls); with ``variants`` also its parts.

    Rows: ``cell4`` the former estimator (``sigma sqrt(diag)``, plain 4 x 4 cell
    mean), ``adaptive`` the adaptive cell mean alone (``model_error=False``),
    ``jacobian`` the default of ``nt.uncertainty`` (adaptive + model error).
    """
    from scipy import ndimage

    from napari_tweedie.tuning.uncertainty import uncertainty_parts

    start = time.perf_counter()
    parts = uncertainty_parts(y, "prior", sigma=level, seed=seed)
    std = np.sqrt(parts.variance + parts.model_error)
    seconds = time.perf_counter() - start
    error = parts.output - clean  # D(y): what nt.denoise(y, "prior") returns
    if variants:
        cell = ndimage.uniform_filter(parts.diagonal, 4, mode="reflect")
        plain = level * np.sqrt(np.clip(cell, 0, None))
        calibration(plain, error, lines, f"{name} cell4", seconds, 17)
        calibration(np.sqrt(parts.variance), error, lines, f"{name} adaptive", seconds, 17)
    calibration(std, error, lines, f"{name} jacobian", seconds, 17)


def uncertainty(images, level, dds, lines, dds_side=128):
    lines.append("")
    lines.append(f"## 3. uncertainty, prior, Gaussian sigma {level * 255:.0f}: RMS error / RMS "
                 "predicted std in 10 quantile bins of the predicted std")  # fmt: skip
    lines.append(f"{'method':>12} {'in25%':>6} {'time':>8} {'calls':>6}   ratio per bin")
    for index, (name, clean) in enumerate(images):
        jacobian_row(name, noisy(clean, "gaussian", level, index), clean, level, index, lines)
    if not dds:
        return
    # side by side on one central crop (DDS: 8 samples x 50 prior calls, slow on a CPU)
    name, clean = images[0]
    y0 = (clean.shape[0] - dds_side) // 2
    clean = np.ascontiguousarray(clean[y0 : y0 + dds_side, y0 : y0 + dds_side])
    y = noisy(clean, "gaussian", level, 0)
    lines.append(f"side by side on a {dds_side}-px crop of {name}:")
    jacobian_row(name, y, clean, level, 0, lines, variants=False)
    start = time.perf_counter()
    result = nt.restore(y, "denoise", sampler="dds", samples=8, sigma_y=level, seed=0)
    seconds = time.perf_counter() - start
    error = np.asarray(result.mean) - clean
    calibration(np.asarray(result.std), error, lines, f"{name} dds x8", seconds, "8x50")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--medium", action="store_true", help="6 images, about 15 min")
    size.add_argument("--full", action="store_true", help="the 16 whole images (slow)")
    parser.add_argument("--dds", action="store_true", help="also the DDS 8-sample std (slow)")
    parser.add_argument("--dds-side", type=int, default=128, help="crop side of the DDS run")
    parser.add_argument("--methods", default=None, help="comma-separated subset")
    parser.add_argument("--images", default=None, help="comma-separated: 01..12, camera, ...")
    parser.add_argument("--noise", default=None, help="comma-separated: 15, 25, 50 (/255), pg")
    parser.add_argument("--risk-draws", type=int, default=None,
                        help="draws of the risk column (4 with --full, else 1: none)")  # fmt: skip
    parser.add_argument("--probes", type=int, default=None, help="SURE's lattice probe classes")
    parser.add_argument("--default-only", action="store_true", help="no off-default column")
    parser.add_argument("--per-image", action="store_true", help="also each image's error/floor")
    parser.add_argument("--out", default=None, help="results file name (in benchmarks/results)")
    parser.add_argument("--sections", default="accuracy,tune,uncertainty",
                        help="comma-separated: accuracy, bias, tune, uncertainty")  # fmt: skip
    parser.add_argument("--draws", type=int, default=8, help="noise draws per image (bias)")
    parser.add_argument("--grid2", type=int, default=7, help="auto-tune: 2-D grid points per axis")
    return parser.parse_args(argv)


def noise_settings(args) -> list[tuple[str, float]]:
    default = "25,pg" if args.quick else "15,25,50,pg"
    names = (args.noise or default).split(",")
    return [("poisson_gaussian", PG["sigma"]) if n == "pg" else ("gaussian", float(n) / 255)
            for n in names]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    subset = "quick" if args.quick else "medium" if args.medium else "full"
    methods = args.methods.split(",") if args.methods else list(METHODS)
    methods = [m for m in methods if nt.DENOISERS[m].requires is None
               or not nt.DENOISERS[m].requires()]  # fmt: skip
    names = args.images.split(",") if args.images else None
    images = crops(subset, None if args.full else 256, names)
    tune_images = images if subset == "full" else crops(subset, 128, names)
    settings = noise_settings(args)
    default_only = METHODS if args.default_only else QUICK_DEFAULT_ONLY if subset != "full" else ()
    draws = args.risk_draws or (4 if args.full else 1)
    options = {} if args.probes is None else {"probes": args.probes}
    command = " ".join(sys.argv[1:] if argv is None else argv)
    lines = Lines([f"Command: `python benchmarks/bench_sure.py {command}`", ""])
    sizes = sorted({"x".join(map(str, image.shape)) for _, image in images})
    lines.append(f"images {[n for n, _ in images]}, {', '.join(sizes)} px "
                 f"(auto-tune: {tune_images[0][1].shape[0]} px); methods {methods}")  # fmt: skip
    start = time.perf_counter()
    sections = args.sections.split(",")
    if "accuracy" in sections:
        accuracy(images, methods, settings, lines, default_only, draws, options, args.per_image)
    if "bias" in sections:
        bias(images, methods, 25 / 255, args.draws, lines)
    if "tune" in sections:
        autotune(tune_images, methods, 25 / 255, lines, args.grid2, args.per_image)
    if "uncertainty" in sections and "prior" in methods:
        count = {"quick": 1}.get(subset, len(images))
        uncertainty(images[:count], 25 / 255, args.dds, lines, args.dds_side)
    lines.append("")
    lines.append(f"total {time.perf_counter() - start:.0f} s (on a 2-core machine shared with "
                 "other jobs: times are inflated)")  # fmt: skip
    text = "\n".join(lines) + "\n"
    name = args.out or ("sure_full.txt" if args.full else f"sure_{subset}.txt".replace("_full", ""))
    (Path(__file__).parent / "results" / name).write_text(text)
    print(f"written to benchmarks/results/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
