"""The GUI's worst main-thread stall while each user journey runs (issue 15; goal <= 100 ms).

    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/bench_gui_stalls.py [--only NAME ...]

The journeys of ``tests/journeys.py`` play in a real napari window; while
they wait, the event loop runs in slices.  A stall is the time one slice of
the event loop (one ``processEvents``) took.  A slice that begins while a
job of the plugin runs (from ``Job.start`` until its worker thread has ended
and its exit callbacks ran) counts as the job's: the GUI thread's work in
the jobs' callbacks (live layers, results, progress), redraws included.
Prints, per journey, the worst job stall, the 99th percentile, the count over
100 ms, and separately the worst synchronous action of the journey itself (a
click's handler, opening a sample, the CLI replay: napari adds and draws the
layers a click prepares) and the worst slice while no job ran (the redraws
after those actions, the removal of a cancelled run's layer), which a user
also waits for but no running job causes.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading
import time
import traceback
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


class Sampler:
    """A poor man's sampling profiler of the GUI thread: its stack every ``interval_s``.

    ``sys._current_frames`` is read from a daemon thread; ``mark(True)``
    starts recording (a slice of the event loop), ``mark(False)`` returns the
    stacks seen since.
    """

    def __init__(self, interval_s: float = 0.005):
        self.main = threading.get_ident()
        self.interval_s = interval_s
        self.stacks: list[tuple[str, ...]] = []
        self.on = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval_s)
            if self.on:
                frame = sys._current_frames().get(self.main)
                if frame is not None:
                    stack = traceback.extract_stack(frame)
                    self.stacks.append(tuple(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                             for f in stack[-40:]))  # fmt: skip

    def mark(self, on: bool) -> list:
        self.on = on
        stacks, self.stacks = self.stacks, []
        return stacks


class JobWatch:
    """The plugin's jobs of a journey: whether one runs (started, its thread not yet exited)."""

    def __init__(self):
        from napari_tweedie._widgets import jobs

        self.jobs: list = []
        start = jobs.Job.start

        def watched_start(job):
            self.jobs.append(job)
            return start(job)

        jobs.Job.start = watched_start

    def running(self) -> bool:
        self.jobs = [job for job in self.jobs if not job.exited]
        return bool(self.jobs)


class Waiter:
    """``wait(condition, timeout_s)`` that times each slice of the event loop and each action.

    With ``profile`` a :class:`Sampler` records the GUI thread's stacks and the
    slices over :data:`GOAL_MS` keep them (see :meth:`report`).
    """

    def __init__(self, watch: JobWatch, profile: bool = False):
        self.watch = watch
        self.slices: list[float] = []
        self.idle: list[float] = []  # slices while no job ran
        self.actions: list[float] = []
        self.since = time.perf_counter()
        self.sampler = Sampler() if profile else None
        self.slow: list[tuple[float, list]] = []

    def __call__(self, condition, timeout_s: float) -> None:
        self.actions.append((time.perf_counter() - self.since) * 1000)
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the journey did not get there in time")
            if self.sampler:
                self.sampler.mark(True)
            busy = self.watch.running()
            start = time.perf_counter()
            QApplication.processEvents()
            took = (time.perf_counter() - start) * 1000
            (self.slices if busy else self.idle).append(took)
            if self.sampler:
                stacks = self.sampler.mark(False)
                if took > GOAL_MS and busy:
                    self.slow.append((took, stacks))
            time.sleep(0.002)
        self.since = time.perf_counter()

    def report(self, worst: int = 3, lines: int = 12) -> None:
        """Print the most frequent frames in the GUI thread's stacks of the slowest slices."""
        for took, stacks in sorted(self.slow, key=lambda s: -s[0])[:worst]:
            print(f"--- slice of {took:.0f} ms: {len(stacks)} samples")
            counts = collections.Counter(f for stack in stacks for f in set(stack))
            for frame, n in counts.most_common(60)[-lines * 3 :]:
                print(f"  {n:4d} {frame}")
            if stacks:
                print("  deepest of the last sample:", " <- ".join(reversed(stacks[-1][-8:])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(JOURNEYS))
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile the slices; print the N slowest per journey")  # fmt: skip
    parser.add_argument("--gil-switch-ms", type=float, default=None,
                        help="the jobs' GIL switch interval (0: leave Python's 5 ms)")  # fmt: skip
    args = parser.parse_args()
    if args.gil_switch_ms is not None:
        from napari_tweedie._widgets import jobs

        jobs.GIL_SWITCH_S = args.gil_switch_ms / 1000 or None
    print(f"{'journey':<16} {'worst ms':>9} {'p99 ms':>7} {'>100 ms':>8} {'slices':>7} "
          f"{'seconds':>8}  {'action ms':>9}  {'idle ms':>7}")  # fmt: skip
    watch = JobWatch()
    for name in args.only:
        viewer = napari.Viewer(title=name)
        viewer.window._qt_window.resize(1280, 800)
        meter, waiter = StallMeter(), Waiter(watch, profile=args.profile > 0)
        start = time.perf_counter()
        meter.start()
        with tempfile.TemporaryDirectory() as folder:
            JOURNEYS[name](Player(viewer, waiter, Path(folder)))
        meter.stop()
        seconds = time.perf_counter() - start
        late = np.asarray(waiter.slices)
        over = int((late > GOAL_MS).sum())
        worst, p99, action = late.max(), np.percentile(late, 99), max(waiter.actions)
        idle = max(waiter.idle, default=0.0)
        print(f"{name:<16} {worst:9.0f} {p99:7.0f} {over:8d} {late.size:7d} {seconds:8.1f}  "
              f"{action:9.0f}  {idle:7.0f}", flush=True)  # fmt: skip
        if args.profile:
            waiter.report(args.profile)
        viewer.close()


if __name__ == "__main__":
    main()
