"""The ``--defaults`` mode of ``bench_restore.py``: default ``nt.restore`` vs classical baselines.

For each problem the call is ``nt.restore(y, problem, prior=..., **measurement
params)`` with nothing else set (sampler, steps and samples at ``None``: the
operator's own choice, ``OPERATORS[name].default_sampler``); it is compared
with the best classical baseline of ``bench_restore.py`` (and, for inpainting,
biharmonic inpainting, scikit-image).  Then whole-layer throughput: the
default restore of a (planes, 512, 512) stack of Set12's 512 px images through
``restore_stack`` with and without tiling, in planes per minute.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import napari_tweedie as nt
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.data import open_array as nt_open
from napari_tweedie.restoration import resolve_defaults
from napari_tweedie.restoration_stack import restore_stack

DEFAULT_PROBLEMS = "inpaint,superres,ct,mri"


def biharmonic(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Biharmonic inpainting (scikit-image) of the missing pixels (mask 0)."""
    from skimage.restoration import inpaint_biharmonic

    return inpaint_biharmonic(np.where(mask > 0, y, 0), mask == 0).astype(np.float32)


def compare(args, prior, images, measure, baselines, score) -> list[dict]:
    """One row per image, problem and method: the baselines and the default restore."""
    rows = []
    for key, image in images(args.size, args.images.split(",")).items():
        for name in args.problems.split(","):
            y, params = measure(image, name, seed=int(key))
            start = time.perf_counter()
            found = baselines(name, y, params)
            if "mask" in params:
                found["biharmonic"] = biharmonic(y, params["mask"])
            seconds = time.perf_counter() - start
            for method, estimate in found.items():
                psnr, ssim = score(image, estimate)
                rows.append({"image": key, "problem": name, "method": method, "classical": True,
                             "psnr": psnr, "ssim": ssim, "seconds": seconds})  # fmt: skip
            sampler, steps, samples, _ = resolve_defaults(name, None, None, None, {})
            start = time.perf_counter()
            result = nt.restore(y, name, prior=prior, **params)
            seconds = time.perf_counter() - start
            psnr, ssim = score(image, result.mean)
            method = f"default ({sampler}, {steps} steps, {samples} sample{'s' * (samples > 1)})"
            rows.append({"image": key, "problem": name, "method": method, "classical": False,
                         "psnr": psnr, "ssim": ssim, "seconds": seconds})  # fmt: skip
            print(f"  {key} {name} {method}: {psnr:.2f} dB, {seconds:.1f} s", file=sys.stderr)
    return rows


def stack_of_planes(planes: int, size: int = 512) -> np.ndarray:
    """``planes`` clean Set12 images of ``size`` px (08-12, flipped/rotated as needed)."""
    clean = np.load(set12_dir() / "clean.npz")
    big = [clean[k].astype(np.float32) / 255 for k in sorted(clean.files)]
    big = [b[:size, :size] for b in big if min(b.shape) >= size]
    out = [np.rot90(big[k % len(big)], k // len(big)) for k in range(planes)]
    return np.ascontiguousarray(np.stack(out))


def throughput(prior, planes: int, timed: int, tiles: list[int | None]) -> list[dict]:
    """Planes per minute of the default inpainting restore of a (planes, 512, 512) stack.

    Each tile setting restores the first ``timed`` planes of the stack into a
    fresh OME-Zarr (``timed < planes``: the rate of the whole stack is
    extrapolated from them, said in the table; planes are independent).
    """
    stack = stack_of_planes(planes)
    rng = np.random.default_rng(0)
    mask = (rng.random(stack.shape[-2:]) >= 0.7).astype(np.float32)
    y = stack * mask + 0.01 * rng.standard_normal(stack.shape).astype(np.float32)
    rows = []
    for tile in tiles:
        with tempfile.TemporaryDirectory() as folder:
            start, cpu = time.perf_counter(), time.process_time()
            restore_stack(y[:timed], "inpaint", Path(folder) / "stack.zarr", prior=prior,
                          mask=mask, sigma_y=0.01, tile=tile)  # fmt: skip
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            mean = np.asarray(nt_open(Path(folder) / "stack.zarr"))
        psnr = float(np.mean([10 * np.log10(1 / np.mean((np.clip(m, 0, 1) - c) ** 2))
                              for m, c in zip(mean, stack[:timed])]))  # fmt: skip
        rows.append({"tile": tile, "planes_timed": timed, "planes": planes, "psnr": psnr,
                     "seconds": seconds,
                     "cpu_seconds": cpu, "planes_per_min": 60 * timed / seconds,
                     "planes_per_cpu_min": 60 * timed / cpu})  # fmt: skip
        print(f"  tile {tile}: {60 * timed / seconds:.2f} planes/min, {cpu:.0f} s CPU",
              file=sys.stderr)  # fmt: skip
    return rows


def report(rows: list[dict], speed: list[dict], header: str) -> str:
    """Markdown: per problem the best classical baseline and the default, then throughput."""
    lines = [header]
    if rows:
        lines += ["", "| problem | best classical | PSNR | default restore | PSNR | SSIM "
                  "| gain dB | s per image |", "|---|---|--:|---|--:|--:|--:|--:|"]  # fmt: skip
    for problem in dict.fromkeys(r["problem"] for r in rows):
        means = {}
        for r in rows:
            if r["problem"] == problem:
                means.setdefault((r["method"], r["classical"]), []).append(r)
        avg = {k: {f: float(np.mean([r[f] for r in v])) for f in ("psnr", "ssim", "seconds")}
               for k, v in means.items()}  # fmt: skip
        best = max((k for k in avg if k[1]), key=lambda k: avg[k]["psnr"])
        for key in (k for k in avg if not k[1]):
            gain = avg[key]["psnr"] - avg[best]["psnr"]
            lines.append(
                f"| {problem} | {best[0]} | {avg[best]['psnr']:.2f} | {key[0]} "
                f"| {avg[key]['psnr']:.2f} | {avg[key]['ssim']:.3f} | {gain:+.2f} "
                f"| {avg[key]['seconds']:.1f} |"
            )
        others = ", ".join(f"{k[0]} {v['psnr']:.2f}" for k, v in avg.items() if k[1])
        lines.append(f"| | (classical: {others}) | | | | | | |")
    if speed:
        lines += ["", "Whole-layer Restore (default inpainting, 70 % missing, PnP) of a "
                  f"({speed[0]['planes']}, 512, 512) stack through `restore_stack`:", "",
                  "| tiling | planes timed | PSNR | wall s | planes per minute (wall) | CPU s "
                  "| planes per CPU minute |", "|---|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
        for s in speed:
            tiling = "none (whole plane)" if s["tile"] is None else f"tile {s['tile']}, overlap 32"
            psnr = f"{s['psnr']:.2f}" if "psnr" in s else "-"
            lines.append(f"| {tiling} | {s['planes_timed']} | {psnr} | {s['seconds']:.1f} "
                         f"| {s['planes_per_min']:.2f} | {s['cpu_seconds']:.1f} "
                         f"| {s['planes_per_cpu_min']:.2f} |")  # fmt: skip
    return "\n".join(lines)
