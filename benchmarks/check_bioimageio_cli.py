"""Export small fitted models and run the standalone ``bioimageio test`` command on each package.

Usage: ``python benchmarks/check_bioimageio_cli.py [--out benchmarks/results/bioimageio_cli.txt]``

Fits Filter2Noise and Noise2Score (Gaussian) on a 64x64 crop of scikit-image's
camera with a few steps, exports each with ``napari_tweedie.export_bioimageio``
and runs ``bioimageio test PACKAGE`` (the command of ``bioimageio.core``) in a
subprocess, printing its status line and exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def _fitted(folder: Path, noisy: np.ndarray) -> dict[str, Path]:
    import napari_tweedie as nt
    from napari_tweedie.denoisers.filter2noise import fit_filter2noise
    from napari_tweedie.denoisers.noise2score import fit_noise2score

    f2n = nt.run(fit_filter2noise(noisy, iterations=2, crop=32, sigma=0.1))
    n2s = nt.run(fit_noise2score(noisy[None], noise_params={"sigma": 0.1}, steps=2, batch=1))
    paths = {"filter2noise": folder / "f2n.safetensors", "noise2score": folder / "n2s.safetensors"}
    f2n.save(paths["filter2noise"])
    n2s.save(paths["noise2score"])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    from skimage import data

    import napari_tweedie as nt

    clean = data.camera()[:64, :64] / 255.0
    noisy = (clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)).astype(np.float32)
    bioimageio = Path(sys.executable).with_name("bioimageio")
    lines = [f"$ python benchmarks/check_bioimageio_cli.py  ({bioimageio} test PACKAGE)"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind, model in _fitted(folder, noisy).items():
            package = nt.export_bioimageio(model, folder / f"{kind}.zip", sample=noisy)
            done = subprocess.run(
                [str(bioimageio), "test", str(package)], capture_output=True, text=True
            )
            status = [ln.strip() for ln in done.stdout.splitlines() if " status " in f" {ln} "]
            lines.append(f"{kind}: exit code {done.returncode}; {status[0] if status else '?'}")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
