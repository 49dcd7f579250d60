"""Write a large synthetic uint16 volume (default 64x4096x4096, chunks 1x512x512) as zarr v3.

Usage: python benchmarks/make_large_volume.py OUT.zarr [--shape 64 4096 4096]
Plane by plane, so memory stays at one plane.  Not committed: about 2 GB.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import zarr


def plane(index: int, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Smooth blobs plus Poisson-like noise, different on every plane."""
    y = np.linspace(0, 1, shape[0], dtype=np.float32)[:, None]
    x = np.linspace(0, 1, shape[1], dtype=np.float32)[None, :]
    signal = 2000 + 1500 * np.sin(20 * x + index * 0.1) * np.cos(17 * y - index * 0.05)
    noisy = signal + 40 * rng.standard_normal(shape, dtype=np.float32)
    return np.clip(noisy, 0, 65535).astype(np.uint16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 4096, 4096))
    parser.add_argument("--chunk", type=int, default=512)
    args = parser.parse_args()
    shape = tuple(args.shape)
    array = zarr.create_array(
        args.out, shape=shape, chunks=(1, args.chunk, args.chunk), dtype="uint16", overwrite=True
    )
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for index in range(shape[0]):
        array[index] = plane(index, shape[1:], rng)
    print(f"wrote {args.out} {shape} uint16 in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
