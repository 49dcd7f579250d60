"""Zero-shot Noise2Noise on Set12 (sigma 25): the published recipe against the fast default.

    python benchmarks/bench_zs_n2n.py [--quick] [--reference 01,02,03] [--keys 01,...]
                                      [--threads 1] [--json [PATH]]

For every image of ``--keys`` (default all twelve) the fast default recipe
(``napari_tweedie.denoisers.zs_n2n.fit_zs_n2n`` with its defaults, as
``nt.denoise(image, "zs_n2n")`` runs it) is timed; for the images of
``--reference`` the published recipe (:data:`PAPER_RECIPE`: full image,
3000 Adam steps at lr 1e-3 halved after 1500, no early stop) runs in the same
process right before it, so that the two timings share the machine's
conditions.  PSNR on [0, 1] after clipping (the Set12 README's convention);
seconds are wall time of the fit and the final estimate, with
``torch.set_num_threads(--threads)``; the CPU time of each fit is recorded
too (``cpu x``: the paper's CPU time over the fast recipe's), as it depends
far less on other processes sharing the machine.  ``--quick``: the fast recipe on
three images, no reference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from napari_tweedie.benchmark import clipped_psnr as psnr
from napari_tweedie.benchmark import set12_dir
from napari_tweedie.denoisers.zs_n2n import PAPER_RECIPE, fit_zs_n2n
from napari_tweedie.steps import run

QUICK_KEYS = ("01", "02", "03")
DEFAULT_REFERENCE = ("01", "02", "03")


def timed_fit(noisy: np.ndarray, seed: int, **recipe) -> tuple[np.ndarray, float, float, int]:
    """(estimate, wall seconds, CPU seconds, iterations) of one fit, previews off.

    CPU time (``time.process_time``) is what the fit itself consumed: on a
    shared machine it varies much less with other processes' load than wall time.
    """
    start, cpu = time.perf_counter(), time.process_time()
    fit = run(fit_zs_n2n(noisy, seed=seed, preview_every=10**9, **recipe))
    return fit.estimate, time.perf_counter() - start, time.process_time() - cpu, fit.iterations


def bench_image(key: str, clean, noisy, reference: bool, seed: int) -> dict:
    row: dict = {"image": key, "size": f"{noisy.shape[0]}x{noisy.shape[1]}"}
    if reference:
        estimate, seconds, cpu, _ = timed_fit(noisy, seed, **PAPER_RECIPE)
        row |= {"paper_psnr": psnr(estimate, clean), "paper_s": seconds, "paper_cpu_s": cpu}
    estimate, seconds, cpu, iterations = timed_fit(noisy, seed)
    row |= {"fast_psnr": psnr(estimate, clean), "fast_s": seconds, "fast_cpu_s": cpu}
    row["fast_its"] = iterations
    if reference:
        row |= {
            "speedup": row["paper_s"] / seconds,
            "cpu_speedup": row["paper_cpu_s"] / cpu,
            "delta_db": row["fast_psnr"] - row["paper_psnr"],
        }
    print(f"  done {key}: {row}", file=sys.stderr, flush=True)
    return row


def _cell(row: dict, key: str, fmt: str) -> str:
    return format(row[key], fmt) if key in row else "-"


def print_table(rows: list[dict], summary: dict) -> None:
    print(f"{'image':<6}{'size':>8}{'paper dB':>10}{'paper s':>9}{'fast dB':>9}{'fast s':>8}"
          f"{'its':>6}{'speed-up':>10}{'cpu x':>7}{'delta dB':>10}")  # fmt: skip
    for r in rows:
        print(
            f"{r['image']:<6}{r['size']:>8}{_cell(r, 'paper_psnr', '.2f'):>10}"
            f"{_cell(r, 'paper_s', '.0f'):>9}{r['fast_psnr']:9.2f}{r['fast_s']:8.1f}"
            f"{r['fast_its']:6d}{_cell(r, 'speedup', '.1f'):>10}{_cell(r, 'cpu_speedup', '.1f'):>7}"
            f"{_cell(r, 'delta_db', '+.2f'):>10}"
        )
    print(f"\nfast recipe, mean over {summary['n']} images: {summary['fast_psnr']:.2f} dB, "
          f"{summary['fast_s']:.1f} s per image")  # fmt: skip
    if "paper_psnr" in summary:
        print(
            f"on the {summary['n_ref']} reference images: paper {summary['paper_psnr']:.2f} dB in "
            f"{summary['paper_s']:.0f} s, fast {summary['fast_ref_psnr']:.2f} dB in "
            f"{summary['fast_ref_s']:.1f} s: {summary['delta_db']:+.2f} dB at "
            f"{summary['speedup']:.1f}x the speed (total time ratio; CPU time ratio "
            f"{summary['cpu_speedup']:.1f}x)"
        )


def summarize(rows: list[dict]) -> dict:
    summary = {
        "n": len(rows),
        "fast_psnr": float(np.mean([r["fast_psnr"] for r in rows])),
        "fast_s": float(np.mean([r["fast_s"] for r in rows])),
    }
    ref = [r for r in rows if "paper_psnr" in r]
    if ref:
        summary |= {
            "n_ref": len(ref),
            "paper_psnr": float(np.mean([r["paper_psnr"] for r in ref])),
            "paper_s": float(np.mean([r["paper_s"] for r in ref])),
            "fast_ref_psnr": float(np.mean([r["fast_psnr"] for r in ref])),
            "fast_ref_s": float(np.mean([r["fast_s"] for r in ref])),
        }
        summary["delta_db"] = summary["fast_ref_psnr"] - summary["paper_psnr"]
        summary["speedup"] = summary["paper_s"] / summary["fast_ref_s"]
        cpu = [(r["paper_cpu_s"], r["fast_cpu_s"]) for r in ref]
        summary["cpu_speedup"] = sum(p for p, _ in cpu) / sum(f for _, f in cpu)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 images, no reference")
    parser.add_argument("--keys", default=None, help="comma-separated Set12 keys (default all)")
    parser.add_argument("--reference", default=None, help="keys also run with the paper recipe")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="print JSON instead of a table; with PATH, write JSON there and print the table",
    )
    args = parser.parse_args(argv)
    folder = set12_dir()
    if folder is None:
        print("Set12 not found (set NT_SET12 to the folder with clean.npz)", file=sys.stderr)
        return 1
    torch.set_num_threads(args.threads)
    clean, noisy = np.load(folder / "clean.npz"), np.load(folder / "noisy_25.npz")
    keys = args.keys.split(",") if args.keys else list(QUICK_KEYS if args.quick else clean.files)
    default_ref = () if args.quick else DEFAULT_REFERENCE
    reference = set(args.reference.split(",")) if args.reference is not None else set(default_ref)
    reference.discard("")
    rows = [
        bench_image(k, clean[k] / 255.0, noisy[k].astype(np.float32), k in reference, args.seed)
        for k in sorted(set(keys) | reference)
    ]
    summary = summarize(rows)
    meta = {"threads": args.threads, "torch": torch.__version__, "seed": args.seed}
    text = json.dumps({"meta": meta, "rows": rows, "summary": summary}, indent=2)
    if args.json == "-":
        print(text)
    else:
        if args.json is not None:
            Path(args.json).write_text(text + "\n")
        print_table(rows, summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
