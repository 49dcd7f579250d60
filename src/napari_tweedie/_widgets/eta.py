"""Run-time estimates for the dock widgets: from a job's timed steps, and before a Restore run.

:class:`StepClock` turns a job's progress into the seconds left: until the
second step it extrapolates the first step's time (which includes the job's
set-up), afterwards the mean time per step since the first.  Before a Restore
run, :func:`time_prior_call` times one call of the prior at the region's size;
:func:`restore_seconds` scales it by the steps and samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["StepClock", "describe_left", "describe_seconds", "restore_seconds", "time_prior_call"]


class StepClock:
    """Seconds left of a job of ``total`` steps, from the times its steps took.

    Parameters
    ----------
    clock : callable
        Monotonic time in seconds (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self.first: tuple[float, int] | None = None  # (time, steps done) at the first report

    def left(self, done: int, total: int) -> float | None:
        """Seconds left after ``done`` of ``total`` steps (None before the first step is done)."""
        if done <= 0 or total <= 0:
            return None
        if done >= total:
            return 0.0
        now = self.clock()
        if self.first is None:
            self.first = (now, done)
        first_at, first_done = self.first
        if done <= first_done:  # only the first step is timed: it includes the set-up
            per_step = (first_at - self.started) / first_done
        else:
            per_step = (now - first_at) / (done - first_done)
        return max(per_step, 0.0) * (total - done)


def describe_seconds(seconds: float) -> str:
    """``"about 40 s"``, ``"about 3 min"`` (rounded as a person would say it)."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"about {round(seconds)} s"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


def describe_left(seconds: float | None) -> str:
    """``"about 40 s left"``; empty when unknown or done."""
    if seconds is None or seconds <= 0:
        return ""
    return f"{describe_seconds(seconds)} left"


def restore_seconds(call_s: float, steps: int, samples: int) -> float:
    """A Restore run's time: one prior call per step and sample (the operator's cost aside)."""
    return call_s * max(int(steps), 1) * max(int(samples), 1)


def time_prior_call(prior: str, shape: tuple[int, int], device: str = "auto") -> float:
    """Seconds one call of the Restore ``prior`` takes on an image of ``shape`` (after a warm-up).

    Loads the prior and runs it twice on a flat image at a middle noise level;
    torch is imported here.  Run it in a worker: it takes about two calls.
    """
    import torch

    from .. import restoration  # the prior a run gets (tests may swap restoration.get_prior)
    from ..prior.bundled import pick_device

    target = pick_device(device)
    denoiser = restoration.get_prior(prior, target)
    x = torch.full((1, 1, *shape), 0.5, device=target)
    sigma = torch.full((1,), 0.2, device=target)
    with torch.no_grad():
        denoiser(x, sigma)  # warm-up: first-call allocations
        start = time.perf_counter()
        denoiser(x, sigma)
        return time.perf_counter() - start
