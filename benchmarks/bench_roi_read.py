"""Open a large zarr volume lazily and read one 512x512 ROI: time and memory growth.

Usage: python benchmarks/bench_roi_read.py [large_volume.zarr] [--make]
(--make writes the 64x4096x4096 volume first with make_large_volume.py).
Prints: open time, ROI read time (cold and warm), resident memory growth vs ROI size.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

from napari_tweedie.data import ROI, open_array


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default="large_volume.zarr")
    parser.add_argument("--make", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    path = Path(args.path)
    if args.make or not path.exists():
        script = Path(__file__).with_name("make_large_volume.py")
        subprocess.run([sys.executable, str(script), str(path)], check=True)
    start = time.perf_counter()
    volume = open_array(path)
    opened = time.perf_counter() - start
    start = time.perf_counter()
    ROI((slice(0, 1), slice(0, 64), slice(0, 64))).read(volume)  # one-time codec/thread setup
    setup = time.perf_counter() - start
    before = rss_mb()
    roi = ROI((slice(32, 33), slice(1000, 1512), slice(2000, 2512)))  # spans 4 chunks
    start = time.perf_counter()
    block = roi.read(volume)
    cold = time.perf_counter() - start
    growth = rss_mb() - before
    start = time.perf_counter()
    roi.read(volume)
    warm = time.perf_counter() - start
    result = {
        "volume": list(volume.shape),
        "dtype": str(volume.dtype),
        "volume_gb": volume.nbytes / 1e9,
        "open_ms": opened * 1e3,
        "first_read_setup_ms": setup * 1e3,
        "roi": list(block.shape),
        "roi_mb": block.nbytes / 2**20,
        "read_cold_ms": cold * 1e3,
        "read_warm_ms": warm * 1e3,
        "rss_growth_mb": growth,
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"volume {result['volume']} {result['dtype']} ({result['volume_gb']:.2f} GB)")
    print(
        f"open: {result['open_ms']:.1f} ms; first tiny read (one-time setup): {setup * 1e3:.0f} ms"
    )
    print(
        f"ROI {result['roi']} ({result['roi_mb']:.2f} MB): read {result['read_cold_ms']:.1f} ms "
        f"first time, {result['read_warm_ms']:.1f} ms again"
    )
    print(f"resident memory growth during the ROI read: {growth:.1f} MB")


if __name__ == "__main__":
    main()
