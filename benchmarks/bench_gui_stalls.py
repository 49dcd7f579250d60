"""The GUI's worst main-thread stall while each user journey runs (issue 15; goal <= 100 ms).

    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/bench_gui_stalls.py [--only NAME ...]

A QTimer asks to fire every 10 ms on the GUI thread while the journeys of
``tests/journeys.py`` play in a real napari window; its lateness is how long
the event loop was blocked.  Prints, per journey, the worst and the 99th
percentile stall and the number of stalls over 100 ms.  The journey's own
synchronous steps (opening a sample, building a tab) count too: they are
what a user waits for.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from journeys import JOURNEYS, Player  # noqa: E402

TICK_MS = 10
GOAL_MS = 100


class StallMeter:
    """Lateness of a 10 ms timer on the GUI thread."""

    def __init__(self):
        self.late: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, (now - self.last) * 1000 - TICK_MS))
        self.last = now

    def start(self) -> None:
        self.late, self.last = [], time.perf_counter()
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.asarray(self.late)


def wait(condition, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the journey did not get there in time")
        QApplication.processEvents()
        time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(JOURNEYS))
    args = parser.parse_args()
    print(f"{'journey':<16} {'worst ms':>9} {'p99 ms':>7} {'>100 ms':>8} {'ticks':>6}  seconds")
    for name in args.only:
        viewer = napari.Viewer(title=name)
        viewer.window._qt_window.resize(1280, 800)
        meter = StallMeter()
        start = time.perf_counter()
        meter.start()
        with tempfile.TemporaryDirectory() as folder:
            JOURNEYS[name](Player(viewer, wait, Path(folder)))
        late = meter.stop()
        seconds = time.perf_counter() - start
        over = int((late > GOAL_MS).sum())
        worst, p99 = late.max(), np.percentile(late, 99)
        print(f"{name:<16} {worst:9.0f} {p99:7.0f} {over:8d} {late.size:6d}  {seconds:.1f}",
              flush=True)  # fmt: skip
        viewer.close()


if __name__ == "__main__":
    main()
