"""Accuracy of the noise-parameter estimators on real images with synthetic noise.

    python benchmarks/bench_noise.py [--quick] [--json]

Clean images: scikit-image's ``camera``, ``astronaut`` (grey) and ``moon``,
and Set12 images 02, 05 and 08 (``../shared/data/set12`` or ``$NT_SET12``),
all mapped to [0.05, 0.95] (strictly positive, as Poisson and Gamma noise
need).  Noise is drawn with ``numpy.random.default_rng(seed)``.  Each row
gives the estimated / true ratio per image and the worst relative error.
A second table runs the estimators on Set12's fixed published realisations
(sigma = 25/255, Poisson zeta = 0.01, Gamma k = 100).

Note: the "clean" images carry their own noise (sensor noise, 8-bit
quantisation; about 1-2 grey levels), which the estimators cannot tell from
the added noise; at low added levels (sigma < 0.02, zeta < 0.005, k > 200)
it dominates the error.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import skimage.color
import skimage.data

from napari_tweedie.benchmark import set12_dir
from napari_tweedie.noise import (
    NOISE_MODELS,
    GammaNoise,
    GaussianNoise,
    PoissonGaussianNoise,
    PoissonNoise,
)

LEVELS = [
    GaussianNoise(0.02),
    GaussianNoise(0.05),
    GaussianNoise(0.1),
    PoissonNoise(0.01),
    PoissonNoise(0.03),
    PoissonNoise(0.1),
    PoissonGaussianNoise(0.01, 0.03),
    PoissonGaussianNoise(0.02, 0.05),
    GammaNoise(4.0),
    GammaNoise(20.0),
    GammaNoise(100.0),
]


def load_images(quick: bool) -> dict[str, np.ndarray]:
    images = {
        "camera": skimage.data.camera() / 255.0,
        "astronaut": skimage.color.rgb2gray(skimage.data.astronaut()),
        "moon": skimage.data.moon() / 255.0,
    }
    folder = set12_dir()
    if folder is not None:
        clean = np.load(folder / "clean.npz")
        images |= {f"set12-{k}": clean[k] / 255.0 for k in ("02", "05", "08")}
    if quick:
        images = dict(list(images.items())[:2])
    return {name: 0.05 + 0.9 * image.astype(np.float64) for name, image in images.items()}


def estimate(name: str, y: np.ndarray) -> tuple[float, ...]:
    """The parameters of noise model ``name`` estimated from ``y``, in ``params`` order."""
    return tuple(NOISE_MODELS[name].estimate(y).values().values())


def synthetic_rows(images: dict[str, np.ndarray], seed: int, quick: bool) -> list[dict]:
    rows = []
    levels = LEVELS[::2] if quick else LEVELS
    for model in levels:
        name = model.name
        params = model.param_names()
        true = tuple(getattr(model, p) for p in params)
        ratios: dict[str, list[float]] = {p: [] for p in params}
        for index, image in enumerate(images.values()):
            y = model.sample(image, np.random.default_rng(seed + index))
            for p, t, e in zip(params, true, estimate(name, y)):
                ratios[p].append(e / t)
        for p, t in zip(params, true):
            worst = max(abs(r - 1) for r in ratios[p])
            rows.append(dict(noise=name, param=p, true=t, ratios=ratios[p], worst=worst))
    return rows


def set12_rows() -> list[dict]:
    folder = set12_dir()
    if folder is None:
        return []
    cases = [
        ("noisy_25.npz", "gaussian", "sigma", 25 / 255),
        ("noisy_0.01.npz", "poisson", "zeta", 0.01),
        ("noisy_g_100.npz", "gamma", "k", 100.0),
    ]
    rows = []
    for file, name, param, true in cases:
        data = np.load(folder / file)
        ratios = [estimate(name, data[key].astype(np.float64))[0] / true for key in data.files]
        rows.append(
            dict(noise=name, param=param, true=true, mean=float(np.mean(ratios)),
                 min=float(min(ratios)), max=float(max(ratios)),
                 within10=int(sum(abs(r - 1) <= 0.1 for r in ratios)), n=len(ratios))
        )  # fmt: skip
    return rows


def print_tables(names: list[str], rows: list[dict], fixed: list[dict]) -> None:
    head = f"{'noise':<17}{'param':<6}{'true':>8}  " + "".join(f"{n[:11]:>12}" for n in names)
    print("estimated / true, synthetic noise\n" + head + f"{'worst err':>11}")
    for r in rows:
        ratios = "".join(f"{v:12.3f}" for v in r["ratios"])
        print(f"{r['noise']:<17}{r['param']:<6}{r['true']:8.4g}  {ratios}{100 * r['worst']:10.1f}%")
    if fixed:
        print("\nSet12 published realisations (12 images): estimated / true")
        print(f"{'noise':<10}{'param':<6}{'true':>8}{'mean':>8}{'min':>8}{'max':>8}  within 10%")
        for r in fixed:
            print(
                f"{r['noise']:<10}{r['param']:<6}{r['true']:8.4g}{r['mean']:8.3f}"
                f"{r['min']:8.3f}{r['max']:8.3f}  {r['within10']}/{r['n']}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two images, every other level")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    images = load_images(args.quick)
    rows = synthetic_rows(images, args.seed, args.quick)
    fixed = [] if args.quick else set12_rows()
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"images": list(images), "synthetic": rows, "set12": fixed,
                          "seconds": seconds}, indent=2))  # fmt: skip
    else:
        print_tables(list(images), rows, fixed)
        print(f"\n({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
