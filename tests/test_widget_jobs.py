"""Background jobs: a torch-style RuntimeError inside a generator still ends the job."""

from __future__ import annotations

import pytest

pytest.importorskip("napari")

import numpy as np  # noqa: E402

from napari_tweedie._widgets.jobs import Job, JobError  # noqa: E402
from napari_tweedie._widgets.live import LiveLayers  # noqa: E402


def failing_steps():
    yield 1
    raise RuntimeError("CUDA out of memory (simulated)")


def test_runtime_error_in_a_generator_job_reaches_on_error_and_ends_it(qtbot):
    seen: list = []
    job = Job(
        failing_steps,
        on_done=lambda result: seen.append(("done", result)),
        on_error=lambda error: seen.append(("error", error)),
        on_finish=lambda: seen.append(("finish", None)),
    )
    job.start()
    job.after_exit(lambda: seen.append(("exit", None)))
    qtbot.waitUntil(lambda: job.exited, timeout=5000)
    kinds = [kind for kind, _ in seen]
    assert kinds == ["error", "finish", "exit"] and not job.running
    error = seen[0][1]
    assert isinstance(error, JobError) and "out of memory" in str(error)
    assert isinstance(error.__cause__, RuntimeError)


class PendingJob:
    """Stands for a job whose thread has not ended yet: keeps its exit callbacks."""

    def __init__(self):
        self.callbacks = []

    def after_exit(self, callback):
        self.callbacks.append(callback)


def test_retired_live_layers_free_their_names_and_go_when_the_thread_ends(
    make_napari_viewer, qtbot
):
    viewer = make_napari_viewer()
    live = LiveLayers(viewer)
    assert live.show("preview", np.zeros((8, 8), np.float32)) is None  # added a turn later
    qtbot.waitUntil(lambda: "preview" in viewer.layers)
    old = viewer.layers["preview"]
    assert live.show("preview", np.ones((8, 8), np.float32)) is old  # then updated in place
    job = PendingJob()
    live.retire(job)
    assert not old.opacity and old in viewer.layers
    live.show("preview", np.ones((8, 8), np.float32))
    qtbot.waitUntil(lambda: "preview" in viewer.layers)
    new = viewer.layers["preview"]
    assert new.name == "preview" and new is not old  # not "preview [1]"
    for callback in job.callbacks:
        callback()
    assert old in viewer.layers  # removed in a later turn of the event loop
    qtbot.waitUntil(lambda: list(viewer.layers) == [new], timeout=2000)


def test_cancel_waits_until_the_step_is_out_of_an_import(tmp_path, monkeypatch):
    """A Cancel during a lazy import must not leave the module half initialised."""
    import importlib
    import sys
    import threading
    import time

    from napari_tweedie._widgets.jobs import Interrupted, Interrupter

    (tmp_path / "slow_module_for_cancel.py").write_text(
        "import time\ntime.sleep(0.5)\nCOMPLETE = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    interrupter = Interrupter()
    outcome = {}

    def step():
        interrupter.enter()
        try:
            module = importlib.import_module("slow_module_for_cancel")
            outcome["complete"] = getattr(module, "COMPLETE", False)
            for _ in range(200):  # the Cancel lands here, after the import
                time.sleep(0.01)
            outcome["finished"] = True
        except Interrupted:
            outcome["interrupted"] = True
        finally:
            interrupter.leave()

    thread = threading.Thread(target=step)
    thread.start()
    time.sleep(0.15)  # inside the import's sleep
    interrupter.request()
    thread.join(5)
    sys.modules.pop("slow_module_for_cancel", None)
    assert outcome == {"complete": True, "interrupted": True}


def test_every_job_starts_with_torch_gradients_enabled():
    """Pool threads are reused: a job must not inherit a former job's no-grad mode."""
    import threading

    import torch

    from napari_tweedie._widgets.interrupt import Interrupter, _fresh, _interruptible

    seen = []

    def steps():
        seen.append(torch.is_grad_enabled())
        yield 1

    def in_a_spoilt_thread():
        torch.set_grad_enabled(False)  # what a former job left behind
        seen.append(_fresh(torch.is_grad_enabled)())
        torch.set_grad_enabled(False)
        list(_interruptible(steps, Interrupter())())

    thread = threading.Thread(target=in_a_spoilt_thread)
    thread.start()
    thread.join(10)
    assert seen == [True, True]
