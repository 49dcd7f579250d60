"""Run-time estimates of the dock widgets (issue 15): the step clock and the Restore estimate."""

from __future__ import annotations

import time

import pytest

from napari_tweedie._widgets import eta


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_first_step_is_extrapolated_then_the_steps_after_it():
    clock = FakeClock()
    steps = eta.StepClock(clock)
    assert steps.left(0, 11) is None  # nothing timed yet
    clock.now = 10.0  # the first step took 10 s (set-up included)
    assert steps.left(1, 11) == pytest.approx(100.0)
    clock.now = 11.0  # still one step: the same rate
    assert steps.left(1, 11) == pytest.approx(100.0)
    clock.now = 14.0  # two more steps of 2 s each: the set-up no longer counts
    assert steps.left(3, 11) == pytest.approx(16.0)
    assert steps.left(11, 11) == 0.0


def test_a_first_report_of_several_steps_divides_their_time():
    clock = FakeClock()
    steps = eta.StepClock(clock)
    clock.now = 6.0
    assert steps.left(3, 10) == pytest.approx(14.0)


@pytest.mark.parametrize(
    "seconds, text",
    [(None, ""), (0.0, ""), (0.4, "under 1 s left"), (40.2, "about 40 s left"),
     (180.0, "about 3 min left"), (7200.0, "about 2.0 h left")],
)  # fmt: skip
def test_time_left_in_words(seconds, text):
    assert eta.describe_left(seconds) == text


def test_a_restore_run_costs_one_prior_call_per_step_and_sample():
    assert eta.restore_seconds(0.5, 20, 2) == pytest.approx(20.0)
    assert eta.restore_seconds(0.5, 0, 1) == pytest.approx(0.5)


def test_time_prior_call_times_one_call_after_a_warm_up(monkeypatch):
    calls = []

    def slow_prior(x, sigma):
        calls.append(tuple(x.shape))
        time.sleep(0.2 if len(calls) == 1 else 0.05)  # the first call is the slow warm-up
        return x

    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: slow_prior)
    seconds = eta.time_prior_call("default", (24, 32), device="cpu")
    assert calls == [(1, 1, 24, 32)] * 2
    assert 0.05 <= seconds < 0.2
