"""Every torch method on every device here: seconds and PSNR (issue 19, "devices everywhere").

    python benchmarks/bench_devices.py [--quick] [--out benchmarks/results/devices_cpu.txt]

Runs zero-shot Noise2Noise, Filter2Noise, Noise2Score, the bundled prior (when
its weights exist) and a diffusion restoration (inpainting) through the public
API (``nt.denoise(..., device=D)``, ``nt.restore(..., device=D)``) on each
device of :func:`napari_tweedie.devices.available_devices` (on a machine
without an accelerator: CPU only; run it again where a GPU is lent).  The
image is scikit-image's camera man (``--quick``: 128 x 128, else 256 x 256)
with Gaussian noise of sigma 0.1 on [0, 1]; PSNR against the clean image.
A small warm-up run per method and device comes first (numba compilation,
CUDA context), so the seconds are those of a second run.  On a GPU,
Filter2Noise uses the torch AGBF (the numba kernels are the CPU path).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import skimage
import torch

import napari_tweedie as nt
from napari_tweedie.devices import available_devices

SIGMA = 0.1
#: (full, quick) settings per method: enough steps to denoise, few enough for minutes
SETTINGS = {
    "zs_n2n": (dict(iterations=400), dict(iterations=100)),
    "filter2noise": (dict(iterations=200), dict(iterations=40)),
    "noise2score": (dict(steps=300, batch=8, patch=64), dict(steps=40, batch=4, patch=32)),
    "prior": ({}, {}),
}


def psnr(x: np.ndarray, clean: np.ndarray) -> float:
    mse = float(np.mean((np.clip(x, 0, 1) - clean) ** 2))
    return 10 * np.log10(1.0 / mse)


def timed(run) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = np.asarray(run())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def cases(clean: np.ndarray, noisy: np.ndarray, quick: bool):
    """``(name, run(device), warm(device))`` per torch method."""
    for method, (full, small) in SETTINGS.items():
        spec = nt.DENOISERS[method]
        if spec.requires is not None and spec.requires():
            continue  # e.g. the prior's weights are not trained
        params = small if quick else full

        def run(device, method=method, params=params, image=noisy):
            return nt.denoise(image, method, sigma=SIGMA, seed=0, device=device, **params)

        yield method, run, lambda device, run=run: run(device, image=noisy[:64, :64])
    mask = np.random.default_rng(1).random(noisy.shape) < 0.5
    steps = 10 if quick else 50
    if nt.DENOISERS["prior"].requires() is None:

        def restore(device, steps=steps):
            y = np.where(mask, clean, 0).astype(np.float32)
            return nt.restore(y, "inpaint", mask=mask, steps=steps, device=device).mean

        yield f"restore inpaint ({steps} steps)", restore, lambda d: restore(d, steps=2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 x 128, few steps")
    parser.add_argument("--out", default=None, help="also write the table here")
    args = parser.parse_args(argv)
    size = 128 if args.quick else 256
    camera = skimage.data.camera().astype(np.float32) / 255
    clean = skimage.transform.resize(camera, (size, size), anti_aliasing=True).astype(np.float32)
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    devices = available_devices()
    lines = [
        f"# bench_devices.py{' --quick' if args.quick else ''}: camera {size}x{size}, "
        f"Gaussian sigma {SIGMA}, noisy PSNR {psnr(noisy, clean):.2f} dB",
        f"# torch {torch.__version__}, {platform.machine()}, devices: {', '.join(devices)}; "
        f"torch threads {torch.get_num_threads()}",
        f"{'method':32s} {'device':8s} {'seconds':>8s} {'PSNR dB':>8s}",
    ]
    for line in lines:
        print(line, flush=True)
    for name, run, warm in cases(clean, noisy, args.quick):
        for device in devices:
            warm(device)  # numba compilation, CUDA context: not timed
            seconds, out = timed(lambda run=run, device=device: run(device))
            line = f"{name:32s} {device:8s} {seconds:8.2f} {psnr(out, clean):8.2f}"
            lines.append(line)
            print(line, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
