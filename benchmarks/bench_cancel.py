"""How quickly Cancel works in the Restore widget: GUI block, worker-thread end, preview removal.

    xvfb-run -a .venv/bin/python benchmarks/bench_cancel.py --repeats 8 [--threads 1] [--json PATH]

Builds a napari viewer (``show=False``) with a noisy 128x128 camera-man crop,
docks the Restore widget (denoise, DDS, bundled prior, 1000 steps), starts a
run, waits until at least 2 steps have been shown in the live preview layers
and clicks Cancel.  Per run it measures, from the click:

- GUI blocked: how long the Cancel click holds the GUI thread;
- worker ended: when the worker thread has ended (timestamped on that thread);
- layers gone: when the ``restore:`` preview layers have left the viewer.

Needs an X server (napari's canvas): run it under ``xvfb-run -a`` on a headless box.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import skimage.data
import torch

SIZE = 128
NOISE_SIGMA = 0.1
STEPS = 1000
MIN_STEPS_SHOWN = 2
TIMEOUT_S = 120.0
LIVE_PREFIX = "restore:"
MEASURES = ("gui_blocked_s", "worker_ended_s", "layers_gone_s")
LABELS = {
    "gui_blocked_s": "GUI blocked",
    "worker_ended_s": "worker ended",
    "layers_gone_s": "layers gone",
}


def require_display() -> None:
    """Exit 1 with a hint when there is no X server for Qt."""
    if not os.environ.get("DISPLAY"):
        print(
            "bench_cancel.py needs an X server (DISPLAY is not set) and Qt cannot start "
            "without one; run it as\n"
            "    xvfb-run -a .venv/bin/python benchmarks/bench_cancel.py --repeats 8",
            file=sys.stderr,
        )
        sys.exit(1)


def noisy_camera(seed: int = 0) -> np.ndarray:
    """128x128 camera-man crop on [0, 1] plus Gaussian noise of std ``NOISE_SIGMA``."""
    camera = skimage.data.camera().astype(np.float32) / 255
    crop = camera[64 : 64 + SIZE, 192 : 192 + SIZE]
    noise = NOISE_SIGMA * np.random.default_rng(seed).standard_normal(crop.shape)
    return (crop + noise).astype(np.float32)


def make_widget():
    """A hidden viewer with the noisy image and the Restore widget docked, set up for a long run."""
    import napari

    from napari_tweedie._widgets.restore import RestoreWidget

    viewer = napari.Viewer(show=False)
    viewer.add_image(noisy_camera(), name="noisy")
    widget = RestoreWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Restore", area="right")
    widget.operator.value, widget.sampler.value = "denoise", "dds"
    widget.steps.value, widget.sigma_y.value = STEPS, NOISE_SIGMA
    return viewer, widget


def wait_until(condition, what: str) -> None:
    """Process Qt events until ``condition()`` holds (TimeoutError after ``TIMEOUT_S``)."""
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + TIMEOUT_S
    while not condition():
        if time.perf_counter() > end:
            raise TimeoutError(f"timed out waiting until {what}")
        QApplication.processEvents()
        time.sleep(0.001)


def live_layers(viewer) -> list[str]:
    return [layer.name for layer in viewer.layers if layer.name.startswith(LIVE_PREFIX)]


def start_run(viewer, widget):
    """Start a run and return (job, list the worker thread appends its end time to)."""
    from qtpy.QtCore import Qt

    job = widget.run()
    if job is None:
        raise RuntimeError(widget.status.value)
    ended: list[float] = []
    # timestamp on the worker thread itself, not when the GUI thread hears of it
    job.worker.finished.connect(
        lambda: ended.append(time.perf_counter()), Qt.ConnectionType.DirectConnection
    )
    wait_until(
        lambda: widget.progress.value >= MIN_STEPS_SHOWN and len(live_layers(viewer)) == 2,
        f"{MIN_STEPS_SHOWN} steps are shown",
    )
    return job, ended


def cancel_once(viewer, widget) -> dict:
    """One run cancelled mid-way: the three delays in seconds, and the step it was at."""
    job, ended = start_run(viewer, widget)
    step = widget.progress.value
    start = time.perf_counter()
    widget.cancel_button.clicked.emit()
    blocked = time.perf_counter() - start
    if job.running:
        raise RuntimeError("the job still runs after Cancel")
    wait_until(lambda: job.exited and bool(ended), "the worker thread has ended")
    wait_until(lambda: not live_layers(viewer), "the preview layers are removed")
    gone = time.perf_counter() - start
    return {
        "gui_blocked_s": blocked,
        "worker_ended_s": ended[0] - start,
        "layers_gone_s": gone,
        "cancelled_at_step": int(step),
    }


def run_line(index: int, run: dict) -> str:
    delays = ", ".join(f"{LABELS[key]} {run[key]:.3f} s" for key in MEASURES)
    return f"run {index}: {delays} (cancelled at step {run['cancelled_at_step']}/{STEPS})"


def summarize(runs: list[dict]) -> dict:
    return {
        key: {
            "median": statistics.median(run[key] for run in runs),
            "max": max(run[key] for run in runs),
        }
        for key in MEASURES
    }


def summary_line(summary: dict, repeats: int) -> str:
    parts = ", ".join(
        f"{LABELS[key]} median {summary[key]['median']:.3f} s (max {summary[key]['max']:.3f})"
        for key in MEASURES
    )
    return f"cancel: {parts} over {repeats} runs"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=8, help="cancelled runs (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--json", type=Path, help="write the numbers to this JSON file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_display()
    torch.set_num_threads(args.threads)
    viewer, widget = make_widget()
    print(
        f"Restore widget, denoise/DDS, prior {widget.prior.value!r}, {SIZE}x{SIZE} image, "
        f"{STEPS} steps, torch threads {torch.get_num_threads()}"
    )
    runs = []
    try:
        for index in range(1, args.repeats + 1):
            runs.append(cancel_once(viewer, widget))
            print(run_line(index, runs[-1]), flush=True)
    finally:
        viewer.close()
    summary = summarize(runs)
    print(summary_line(summary, len(runs)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {"threads": args.threads, "size": SIZE, "steps": STEPS, "runs": runs}
        args.json.write_text(json.dumps({**record, "summary": summary}, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
