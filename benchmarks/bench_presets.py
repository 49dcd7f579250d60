"""Restore presets as a user runs them: time at the default scope and quality (issue 15).

    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/bench_presets.py [--out NAME]

Each preset runs in a real napari window on its sample (the noisy layer, the
widget's default scope "Current view", the preset's settings untouched) and
prints the wall time of the run (goal: about a minute on a 2-core laptop) and
the PSNR of the result against the sample's clean layer, beside the PSNR of
the input where it is on the same grid (denoising); simulated operators are
compared with the clean image they were simulated from.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import napari
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from journeys import wait_until  # noqa: E402

RUN_TIMEOUT_S = 900.0  # a run that takes longer is a failure

#: preset -> the sample it is made for
SAMPLES = {
    "microscopy (denoise)": "nuclei_2d",
    "CT (60 views, simulated)": "ct_low_dose",
    "MRI (4x, simulated)": "mri_slice",
    "astronomy (2x super-resolution)": "hubble",
}


def psnr(estimate: np.ndarray, clean: np.ndarray, peak: float) -> float:
    error = np.mean((np.asarray(estimate, np.float64) - clean) ** 2)
    return float(10 * np.log10(peak**2 / error))


def run_preset(preset: str) -> str:
    viewer = napari.Viewer(title=preset)
    viewer.window._qt_window.resize(1280, 800)  # "Current view": what this window shows
    layers = viewer.open_sample("napari-tweedie", SAMPLES[preset])
    noisy = next(layer for layer in layers if layer.metadata.get("role") == "noisy")
    clean = next(layer for layer in layers if layer.metadata.get("role") == "clean")
    _, tools = viewer.window.add_plugin_dock_widget("napari-tweedie", "All tools")
    widget = tools.tool("Restore")
    widget.layer.value, widget.preset.value = noisy.name, preset
    wait_until(lambda: True, 1)
    start = time.perf_counter()
    job = widget.run()
    if job is None:
        raise RuntimeError(widget.status.value)
    wait_until(lambda: job.exited, RUN_TIMEOUT_S)
    seconds = time.perf_counter() - start
    mean = next(layer for layer in viewer.layers if layer.name.endswith(" mean"))
    data = np.squeeze(np.asarray(mean.data, np.float64))
    plane = np.squeeze(np.asarray(clean.data, np.float64))
    low, high = (float(v) for v in clean.contrast_limits)
    offset = np.round((np.asarray(mean.translate[-2:]) - np.asarray(clean.translate[-2:]))
                      / np.asarray(clean.scale[-2:])).astype(int)  # fmt: skip
    region = tuple(slice(o, o + n) for o, n in zip(offset, data.shape))
    truth = plane[region]
    line = f"{preset:<34} {SAMPLES[preset]:<12} {seconds:8.1f} {str(data.shape):>12}"
    if truth.shape == data.shape:
        line += f" {psnr(data, truth, high - low):9.2f}"
        if "denoise" in preset:
            noisy_plane = np.squeeze(np.asarray(noisy.data, np.float64))[region]
            line += f" {psnr(noisy_plane, truth, high - low):9.2f}"
    viewer.close()
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(SAMPLES))
    parser.add_argument("--out", default=None, help="results file (benchmarks/results/NAME)")
    args = parser.parse_args()
    lines = [f"{'preset':<34} {'sample':<12} {'seconds':>8} {'result':>12} {'PSNR dB':>9} "
             f"{'input dB':>9}"]  # fmt: skip
    print(lines[0], flush=True)
    for preset in args.only:
        lines.append(run_preset(preset))
        print(lines[-1], flush=True)
    if args.out:
        path = Path(__file__).parent / "results" / args.out
        path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
