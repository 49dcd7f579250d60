"""Why a busy job stalls the GUI thread's redraws: the GIL convoy, and the switch interval's cure.

    python benchmarks/bench_gil_switch.py

A worker thread runs a pure-Python loop (as a sampler's loop of small torch
calls mostly does); the main thread makes 200 ctypes calls of 200 us each (as
a redraw's OpenGL calls through PyOpenGL do: each releases the GIL).  After
each call the main thread waits for the worker to give the GIL back, up to
``sys.getswitchinterval()``.  Prints the 200 calls' wall time per interval;
``napari_tweedie._widgets.jobs.share_the_gil`` sets 0.5 ms while jobs run.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time

CALLS, CALL_US = 200, 200


def main() -> None:
    libc = ctypes.CDLL(None)
    stop = threading.Event()

    def busy() -> None:
        count = 0
        while not stop.is_set():
            count += 1

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    default = sys.getswitchinterval()
    try:
        for interval in (0.005, 0.001, 0.0005):
            sys.setswitchinterval(interval)
            time.sleep(0.05)
            start = time.perf_counter()
            for _ in range(CALLS):
                libc.usleep(CALL_US)
            took = (time.perf_counter() - start) * 1000
            print(f"switch interval {interval * 1000:.1f} ms: {CALLS} calls of {CALL_US} us "
                  f"took {took:.0f} ms (alone: {CALLS * CALL_US / 1000:.0f} ms)")  # fmt: skip
    finally:
        stop.set()
        sys.setswitchinterval(default)
        worker.join()


if __name__ == "__main__":
    main()
