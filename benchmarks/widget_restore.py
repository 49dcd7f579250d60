"""Restore widget: a screenshot mid-run and the cost of the live preview.

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/widget_restore.py \
        [--screenshot docs/restore_midrun.png] [--prior default] [--steps 50]

Runs the CT preset (60 simulated views, DDS) on the low-dose CT sample:
1. with the live preview on, saves a screenshot of the whole window when the
   run is about 40 % done, then lets it finish;
2. times the same run (same seed) with and without the live preview and
   prints the overhead in percent (goal: <= 10 %).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import napari

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from journeys import wait_until  # noqa: E402

RUN_TIMEOUT_S = 600.0  # a run that takes longer is a failure


def timed_run(widget, live: bool) -> float:
    widget.show_live.value = live
    start = time.perf_counter()
    job = widget.run()
    if job is None:
        raise RuntimeError(widget.status.value)
    wait_until(lambda: not job.running, RUN_TIMEOUT_S)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, default=Path("docs/restore_midrun.png"))
    parser.add_argument("--prior", default="default")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    viewer = napari.Viewer(title="napari-tweedie: Restore")
    viewer.window._qt_window.resize(1500, 950)
    viewer.open_sample("napari-tweedie", "ct_low_dose")
    _, widget = viewer.window.add_plugin_dock_widget("napari-tweedie", "Restore (diffusion prior)")
    widget.layer.value = viewer.layers[0].name
    widget.preset.value = "CT (60 views, simulated)"
    widget.prior.value, widget.steps.value = args.prior, args.steps
    widget.sigma_y.value = 0.5
    job = widget.run()
    if job is None:
        raise RuntimeError(widget.status.value)
    wait_until(lambda: widget.progress.value >= 0.4 * args.steps or not job.running, RUN_TIMEOUT_S)
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(args.screenshot), canvas_only=False)
    print(f"screenshot at step {widget.progress.value}/{args.steps}: {args.screenshot.resolve()}")
    wait_until(lambda: not job.running, RUN_TIMEOUT_S)
    times = {True: [], False: []}
    for _ in range(args.repeats):
        for live in (False, True):
            times[live].append(timed_run(widget, live))
    off, on = min(times[False]), min(times[True])
    print(
        f"{args.steps}-step DDS, CT preset, {viewer.layers[0].data.shape} ROI, prior "
        f"{args.prior!r}: without preview {off:.2f} s, with preview {on:.2f} s, "
        f"overhead {100 * (on - off) / off:+.1f} % (best of {args.repeats})"
    )
    viewer.close()


if __name__ == "__main__":
    main()
