"""Speed of the numba bilateral filters against OpenCV's ``cv2.bilateralFilter``.

Times ``bilateral_filter`` (disc window, as OpenCV) and
``bilateral_filter_varying`` (per-pixel sigma maps, square window) on random
float32 images, with OpenCV given the same diameter ``d = 2 * radius + 1``,
sigmas and (symmetric) border.  Each timing is the median of ``--repeats``
runs after a warm-up call (so numba's JIT compilation is not counted).

    python benchmarks/bench_bilateral.py [--sizes 512,2048] [--sigmas 2,3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

try:
    import napari_tweedie  # noqa: F401
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import _report  # noqa: E402
import numba  # noqa: E402

from napari_tweedie.denoisers.classical.bilateral import (  # noqa: E402
    bilateral_filter,
    bilateral_filter_varying,
    default_radius,
)


def bench_case(size: int, sigma_spatial: float, sigma_color: float, repeats: int, cv2) -> dict:
    """Time the three filters on one ``size x size`` image."""
    rng = np.random.default_rng(size)
    image = rng.random((size, size), dtype=np.float32)
    radius = default_radius(sigma_spatial)
    maps = [np.full(image.shape, s, np.float32) for s in (sigma_spatial, sigma_spatial)]
    range_map = np.full(image.shape, sigma_color, np.float32)
    row = {
        "size": size,
        "sigma_spatial": sigma_spatial,
        "sigma_color": sigma_color,
        "d": 2 * radius + 1,
        "numba_s": _report.median_seconds(
            lambda: bilateral_filter(image, sigma_spatial, sigma_color), repeats
        ),
        "varying_s": _report.median_seconds(
            lambda: bilateral_filter_varying(image, *maps, range_map, radius=radius), repeats
        ),
        "cv2_s": None,
        "max_abs_diff_cv2": None,
    }
    if cv2 is not None:

        def run_cv2():
            return cv2.bilateralFilter(
                image, 2 * radius + 1, sigma_color, sigma_spatial, borderType=cv2.BORDER_REFLECT
            )

        row["cv2_s"] = _report.median_seconds(run_cv2, repeats)
        ours = bilateral_filter(image, sigma_spatial, sigma_color)
        row["max_abs_diff_cv2"] = float(np.abs(ours - run_cv2()).max())
        row["numba_over_cv2"] = row["numba_s"] / row["cv2_s"]
        row["varying_over_cv2"] = row["varying_s"] / row["cv2_s"]
    return row


def format_table(rows: list[dict], meta: dict) -> str:
    lines = [
        f"bilateral filter, float32 random images, sigma_color={rows[0]['sigma_color']}; "
        f"numba threads: {meta['numba_threads']}, OpenCV threads: {meta['cv2_threads']}; "
        f"median of {meta['repeats']} runs",
        f"{'size':>11} {'sigma_s':>7} {'d':>3} {'numba ms':>9} {'varying ms':>10} "
        f"{'cv2 ms':>8} {'numba/cv2':>9} {'vary/cv2':>8} {'max|diff|':>9}",
    ]
    for r in rows:
        size = f"{r['size']}x{r['size']}"
        if r["cv2_s"] is None:
            cv2_cols = f"{'-':>8} {'-':>9} {'-':>8} {'-':>9}"
        else:
            cv2_cols = (
                f"{1e3 * r['cv2_s']:8.1f} {r['numba_over_cv2']:9.2f} "
                f"{r['varying_over_cv2']:8.2f} {r['max_abs_diff_cv2']:9.1e}"
            )
        lines.append(
            f"{size:>11} {r['sigma_spatial']:7.1f} {r['d']:3d} {1e3 * r['numba_s']:9.1f} "
            f"{1e3 * r['varying_s']:10.1f} {cv2_cols}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,2048", help="comma-separated image sides")
    parser.add_argument("--sigmas", default="2,3", help="comma-separated sigma_spatial values")
    parser.add_argument("--sigma-color", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    try:
        import cv2
    except ImportError:
        cv2 = None
    # Compile both kernels on a small image first.
    small = np.zeros((16, 16), np.float32)
    bilateral_filter(small, 2.0, 0.1)
    bilateral_filter_varying(small, 1.0, 1.0, 0.1, radius=2)
    meta = {
        "numba_threads": numba.get_num_threads(),
        "cv2_threads": cv2.getNumThreads() if cv2 is not None else None,
        "cv2_version": cv2.__version__ if cv2 is not None else None,
        "numba_version": numba.__version__,
        "repeats": args.repeats,
    }
    rows = [
        bench_case(int(size), float(sigma), args.sigma_color, args.repeats, cv2)
        for size in args.sizes.split(",")
        for sigma in args.sigmas.split(",")
    ]
    if args.json:
        print(json.dumps({"meta": meta, "rows": rows}, indent=2))
    else:
        print(format_table(rows, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
