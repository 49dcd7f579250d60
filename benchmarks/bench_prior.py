"""Set12, Gaussian sigma = 25/255: the bundled prior as a plain denoiser.

Loads ``../shared/data/set12/noisy_25.npz`` and ``clean.npz`` (keys "01".."12";
clean is uint8 / 255, noisy float32, sigma 25/255 known), denoises each image with
``load_prior()`` on [0, 1] directly, clips to [0, 1] and prints the PSNR per
image, the mean over the 12 images and over the seven 256 x 256 ones, next to
BM3D's published 29.96 dB (Noise2Score, Table 2).

python benchmarks/bench_prior.py                 # print the table
python benchmarks/bench_prior.py --update-card   # also write it into weights/MODEL_CARD.md
python benchmarks/bench_prior.py --ensemble      # also the x8 self-ensemble (8 rotations/flips)
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from napari_tweedie.benchmark import clipped_psnr as psnr  # noqa: E402
from napari_tweedie.prior import WEIGHTS_PATH, load_prior  # noqa: E402
from napari_tweedie.prior.ensemble import self_ensemble  # noqa: E402

SET12 = ROOT.parent / "shared" / "data" / "set12"
BM3D_SET12_25 = 29.96
SIGMA = 25 / 255
BEGIN, END = "<!-- set12:begin -->", "<!-- set12:end -->"


def run(
    data_dir: Path, device: str, threads: int | None, weights: Path, ensemble: bool = False
) -> tuple[dict, dict]:
    if threads:
        torch.set_num_threads(threads)
    prior = load_prior(device, weights)
    clean_npz, noisy_npz = np.load(data_dir / "clean.npz"), np.load(data_dir / "noisy_25.npz")
    rows = {}
    for key in sorted(clean_npz.files):
        clean = clean_npz[key].astype(np.float32) / 255
        noisy = torch.from_numpy(noisy_npz[key].astype(np.float32))
        start = time.perf_counter()
        with torch.inference_mode():
            estimate = prior(noisy, SIGMA).numpy()
        rows[key] = {
            "shape": clean.shape,
            "psnr": psnr(estimate, clean),
            "noisy": psnr(noisy.numpy(), clean),
            "seconds": time.perf_counter() - start,
        }
        if ensemble:
            with torch.inference_mode():
                estimate = self_ensemble(prior, noisy, SIGMA).numpy()
            rows[key]["psnr_x8"] = psnr(estimate, clean)
    small = [r["psnr"] for r in rows.values() if r["shape"] == (256, 256)]
    summary = {
        "mean12": float(np.mean([r["psnr"] for r in rows.values()])),
        "mean256": float(np.mean(small)),
        "n256": len(small),
        "step": prior.metadata.get("step", "?"),
        "hours": float(prior.metadata.get("train_seconds", "nan")) / 3600,
        "device": str(prior.device),
        "threads": torch.get_num_threads(),
    }
    if ensemble:
        summary["mean12_x8"] = float(np.mean([r["psnr_x8"] for r in rows.values()]))
    return rows, summary


def markdown(rows: dict, summary: dict) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {when} by `python benchmarks/bench_prior.py` on the weights of step "
        f"{summary['step']} ({summary['hours']:.2f} h of training):",
        "",
        "| set | prior (dB) | BM3D (dB) |",
        "|---|---|---|",
        f"| all 12 images | {summary['mean12']:.2f} | {BM3D_SET12_25:.2f} |",
        f"| the {summary['n256']} images of 256 x 256 | {summary['mean256']:.2f} | - |",
    ]
    if "mean12_x8" in summary:
        lines.append(
            f"| all 12, x8 self-ensemble (`--ensemble`) | {summary['mean12_x8']:.2f} "
            f"| {BM3D_SET12_25:.2f} |"
        )
    lines += [
        "",
        "Per image (dB): " + ", ".join(f"{k}: {r['psnr']:.2f}" for k, r in rows.items()) + ".",
    ]
    return "\n".join(lines)


def update_card(text: str, card: Path) -> None:
    old = card.read_text() if card.is_file() else ""
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + block + old[old.index(END) + len(END) :]
    else:
        new = old + f"\n## Set12, Gaussian sigma = 25/255\n\n{block}\n"
    tmp = card.with_name(card.name + ".tmp-write")
    tmp.write_text(new)
    tmp.replace(card)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SET12, help="folder with the Set12 npz files")
    parser.add_argument("--weights", type=Path, default=WEIGHTS_PATH, help="safetensors file")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--update-card", action="store_true", help="write into MODEL_CARD.md")
    parser.add_argument(
        "--ensemble", action="store_true", help="x8 self-ensemble (rotations and flips)"
    )
    args = parser.parse_args(argv)
    if not (args.data / "noisy_25.npz").is_file():
        print(f"Set12 not found in {args.data}")
        return 1
    rows, summary = run(args.data, args.device, args.threads, args.weights, args.ensemble)
    print(
        f"bundled prior, step {summary['step']} ({summary['hours']:.2f} h), "
        f"{summary['device']}, {summary['threads']} thread(s)"
    )
    print(f"{'image':>5} {'shape':>9} {'noisy':>7} {'prior':>7} {'s':>6}")
    for key, r in rows.items():
        shape = "x".join(map(str, r["shape"]))
        print(f"{key:>5} {shape:>9} {r['noisy']:7.2f} {r['psnr']:7.2f} {r['seconds']:6.2f}")
    print(f"mean over 12: {summary['mean12']:.2f} dB   (BM3D {BM3D_SET12_25:.2f} dB)")
    if args.ensemble:
        print(f"mean over 12 with the x8 self-ensemble: {summary['mean12_x8']:.2f} dB")
    print(f"mean over the {summary['n256']} images of 256x256: {summary['mean256']:.2f} dB")
    if args.update_card:
        card = args.weights.parent / "MODEL_CARD.md"
        update_card(markdown(rows, summary), card)
        print("updated", card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
