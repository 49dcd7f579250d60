"""Speed of Filter2Noise (Sun et al. 2025): this implementation against a straightforward one.

"naive" is the same maths written plainly, run in the same process: the
attention-guided bilateral filter in torch (shifted views of a padded
tensor, autograd through every offset) and global attention over all
patches.  "fast" is the library: numba forward and analytic backward for the
filter, attention in windows of 32 x 32 patches, random 128 x 128 training
crops and early stopping.  Torch and numba run on one thread (and OpenCV on
one thread for the kernel comparison); each timing is the median of
``--repeats`` runs after a warm-up.

Goals (from the issue): fit on a 256 x 256 region <= 20 s; apply a fitted
model to a 2048 x 2048 slice <= 2 s; re-render after a sigma edit at
512 x 512 <= 100 ms; the per-pixel-sigma kernel within 3x of OpenCV's
constant-sigma ``bilateralFilter`` at the same size and window.

    python benchmarks/bench_filter2noise.py [--repeats 3] [--naive-iterations 5] [--json]
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

import _report  # noqa: E402
import numba  # noqa: E402
import torch  # noqa: E402

from napari_tweedie._sample_data import load_sample  # noqa: E402
from napari_tweedie.denoisers.classical.bilateral import bilateral_filter_varying  # noqa: E402
from napari_tweedie.denoisers.filter2noise import fit_filter2noise  # noqa: E402
from napari_tweedie.denoisers.filter2noise.agbf import agbf, agbf_reference  # noqa: E402
from napari_tweedie.denoisers.filter2noise.loss import F2NLoss  # noqa: E402
from napari_tweedie.denoisers.filter2noise.net import F2NNet  # noqa: E402
from napari_tweedie.steps import run  # noqa: E402

REFERENCE_ITERATIONS = 500  # the paper's schedule


def naive_net(seed: int = 0) -> F2NNet:
    net = F2NNet(window=None, backend="torch")
    net.reset_parameters(torch.Generator().manual_seed(seed))
    return net


def training_step(net: F2NNet, loss: F2NLoss):
    """One optimisation step's work (loss, backward) on ``loss``'s image."""

    def step():
        net.zero_grad()
        value, _, _ = loss(lambda x: net(x)[0])
        value.backward()

    return step


def bench_fit(image: np.ndarray, naive_iterations: int) -> list[dict]:
    """Goal 1: fit on a 256 x 256 region."""
    lo, hi = np.percentile(image, [0.5, 99.5])
    y = torch.from_numpy(((image - lo) / (hi - lo)).astype(np.float32))
    loss = F2NLoss(y, 3.0)
    naive = naive_net()
    per_naive = _report.median_seconds(training_step(naive, loss), naive_iterations)
    fast_full = F2NNet()
    fast_full.reset_parameters(torch.Generator().manual_seed(0))
    per_fast_full = _report.median_seconds(training_step(fast_full, loss), 5)
    crop = loss.crop(64, 64, 128)
    per_fast_crop = _report.median_seconds(training_step(fast_full, crop), 10)
    run(fit_filter2noise(image[:64, :64], iterations=3))  # warm-up (numba cache, torch)
    start = time.perf_counter()
    model = run(fit_filter2noise(image))
    fit_s = time.perf_counter() - start
    iterations = len(model.history)
    return [
        {
            "what": "training step, full 256^2, global attention, torch AGBF (naive)",
            "seconds": per_naive,
        },
        {
            "what": "training step, full 256^2, windowed attention, numba AGBF",
            "seconds": per_fast_full,
        },
        {"what": "training step, 128^2 crop, numba AGBF (default)", "seconds": per_fast_crop},
        {
            "what": f"naive fit, {REFERENCE_ITERATIONS} steps (extrapolated)",
            "seconds": per_naive * REFERENCE_ITERATIONS,
        },
        {
            "what": f"fast fit, defaults ({iterations} steps, early stop, previews)",
            "seconds": fit_s,
            "goal_s": 20.0,
        },
    ]


def naive_apply(net: F2NNet, image: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(image)[None])[0][0].numpy()


def bench_apply(model, tile: np.ndarray, repeats: int) -> list[dict]:
    """Goal 2: apply a fitted model to a 2048 x 2048 slice (and the naive growth with size)."""
    rows = []
    naive = naive_net()
    naive.load_state_dict(model.net.state_dict())
    sizes = {}
    for size in (256, 512, 1024):
        image = np.tile(tile, (size // tile.shape[0], size // tile.shape[1]))
        normalised = ((image - model.offset) / model.scale).astype(np.float32)
        sizes[size] = _report.median_seconds(lambda im=normalised: naive_apply(naive, im), 1)
        rows.append(
            {"what": f"naive apply {size}^2 (global attention, torch AGBF)", "seconds": sizes[size]}
        )
    # attention is quadratic in the number of patches: fit a + b n + c n^2 through 3 points
    n = np.array([256, 512, 1024], float) ** 2
    coef = np.polyfit(n, [sizes[s] for s in (256, 512, 1024)], 2)
    rows.append(
        {
            "what": "naive apply 2048^2 (extrapolated, quadratic fit)",
            "seconds": float(np.polyval(coef, 2048.0**2)),
        }
    )
    big = np.tile(tile, (2048 // tile.shape[0], 2048 // tile.shape[1]))
    rows.append(
        {
            "what": "fast apply 2048^2 (windowed attention + numba kernel)",
            "seconds": _report.median_seconds(lambda: model.apply(big), repeats),
            "goal_s": 2.0,
        }
    )
    return rows


def bench_render(model, tile: np.ndarray, repeats: int) -> list[dict]:
    """Goal 3: re-render a 512 x 512 region after a sigma edit (maps already computed)."""
    image = np.tile(tile, (512 // tile.shape[0], 512 // tile.shape[1]))
    maps = model.sigma_maps(image)
    labels = np.zeros(image.shape, np.int32)
    labels[100:300, 150:400] = 1
    x = torch.from_numpy(((image - model.offset) / model.scale).astype(np.float32))[None]
    torch_maps = [torch.from_numpy(m)[None] for m in maps]

    def naive():
        with torch.no_grad():
            z = x
            for m in torch_maps:
                z = agbf_reference(z, m[:, 0], m[:, 1], 1.3 * m[:, 2] / model.scale, model.radius)
        return z

    return [
        {
            "what": "naive re-render 512^2 (torch AGBF, 2 stages)",
            "seconds": _report.median_seconds(naive, repeats),
        },
        {
            "what": "fast re-render 512^2, global sigma_r x1.3",
            "seconds": _report.median_seconds(
                lambda: model.render(image, maps, sigma_r=1.3), repeats
            ),
            "goal_s": 0.1,
        },
        {
            "what": "fast re-render 512^2, painted region x2",
            "seconds": _report.median_seconds(
                lambda: model.render(image, maps, labels=labels, regions={1: (2.0, 2.0, 2.0)}),
                repeats,
            ),
            "goal_s": 0.1,
        },
    ]


def bench_kernel(radius: int, repeats: int) -> list[dict]:
    """The per-pixel-sigma kernel against OpenCV's constant-sigma bilateralFilter."""
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        cv2 = None
    rows = []
    rng = np.random.default_rng(0)
    for size in (512, 2048):
        image = rng.random((size, size), dtype=np.float32)
        sx = np.full(image.shape, 1.5, np.float32)
        sr = np.full(image.shape, 0.1, np.float32)
        ours = _report.median_seconds(
            lambda im=image, s=sx, r=sr: bilateral_filter_varying(im, s, s, r, radius=radius),
            repeats,
        )
        row = {
            "what": f"kernel {size}^2, per-pixel sigma maps, window {2 * radius + 1}^2 (numba)",
            "seconds": ours,
        }
        rows.append(row)
        if cv2 is not None:
            cv = _report.median_seconds(
                lambda im=image: cv2.bilateralFilter(
                    im, 2 * radius + 1, 0.1, 1.5, borderType=cv2.BORDER_REFLECT
                ),
                repeats,
            )
            rows.append(
                {
                    "what": f"kernel {size}^2, cv2.bilateralFilter d={2 * radius + 1} "
                    "(constant sigma, disc window)",
                    "seconds": cv,
                }
            )
            row["ratio_to_cv2"] = ours / cv
    g = torch.Generator().manual_seed(0)
    shape = (1, 128, 128)
    tensors = [
        torch.rand(shape, generator=g),
        *(torch.full(shape, 1.5) for _ in range(2)),
        torch.full(shape, 0.1),
    ]

    def fwd_bwd(func):
        def go():
            ins = [t.clone().requires_grad_(True) for t in tensors]
            func(*ins, radius).sum().backward()

        return go

    rows.append(
        {
            "what": "training AGBF forward+backward 128^2, torch autograd (naive)",
            "seconds": _report.median_seconds(fwd_bwd(agbf_reference), repeats),
        }
    )
    rows.append(
        {
            "what": "training AGBF forward+backward 128^2, numba analytic backward",
            "seconds": _report.median_seconds(fwd_bwd(agbf), repeats),
        }
    )
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}\n")
    print("| measurement | seconds | goal | met |")
    print("|---|---:|---:|:---:|")
    for row in rows:
        goal = row.get("goal_s")
        extra = f" ({row['ratio_to_cv2']:.2f}x cv2)" if "ratio_to_cv2" in row else ""
        met = "" if goal is None else ("yes" if row["seconds"] <= goal else "NO")
        goal_text = "" if goal is None else f"<= {goal:g}"
        print(f"| {row['what']}{extra} | {row['seconds']:.4f} | {goal_text} | {met} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-iterations", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    ct = load_sample("ct_low_dose")["noisy"]
    results = {"fit": bench_fit(ct, args.naive_iterations)}
    model = run(fit_filter2noise(ct))
    tile = ct  # a real 256 x 256 CT slice, tiled for the larger sizes
    results["apply"] = bench_apply(model, tile, args.repeats)
    results["render"] = bench_render(model, tile, args.repeats)
    results["kernel"] = bench_kernel(model.radius, args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"torch {torch.__version__} (1 thread), numba {numba.__version__} (1 thread), "
        f"model: {model.stages} stages, radius {model.radius}, {model.n_parameters} parameters"
    )
    titles = {
        "fit": "Goal 1: fit on the 256x256 CT sample",
        "apply": "Goal 2: apply to a 2048x2048 slice (CT sample tiled)",
        "render": "Goal 3: re-render after a sigma edit, 512x512",
        "kernel": "Kernel: per-pixel-sigma bilateral vs OpenCV (1 thread each)",
    }
    for key, rows in results.items():
        print_table(titles[key], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
