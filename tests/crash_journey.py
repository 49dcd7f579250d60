"""Restore Run -> Cancel -> Run in a real, shown napari window; run as a script (it may segfault).

    python tests/crash_journey.py REPS [fixed|hidden|naive|plain|plain_hidden]

``fixed``: the plugin as it is; ``hidden``: the plugin, but stale layers
hidden with ``visible = False`` before their removal (what it did before);
``naive``: that, and all stale layers removed at once (what it did before
that); ``plain``: no plugin, two layers removed from plain napari in one
turn; ``plain_hidden``: no plugin, a drawn layer hidden, then the one below
it removed.  Prints ``alive`` at the end; a crash ends the process with
SIGSEGV (exit status -11 / 139) before that.  Used by
``tests/test_widget_crash.py`` (3 repetitions) and run once with 20.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch.nn import functional as F


def smooth_prior(x, sigma):
    """A quick spatial test prior: shrinks towards the 3x3 local mean."""
    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (0.002 * x + s2 * local) / (0.002 + s2)


def wait_until(condition, timeout: float = 60.0) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        QApplication.processEvents()
        time.sleep(0.002)


def settle(seconds: float = 0.1) -> None:
    """Let the canvas redraw (events for ``seconds``)."""
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() > end)


def plain(reps: int, hidden: bool) -> None:
    import napari

    rng = np.random.default_rng(0)
    viewer = napari.Viewer(show=True)
    viewer.add_image(rng.random((256, 256), np.float32), name="source")
    for _ in range(reps):
        a = viewer.add_image(rng.random((128, 128), np.float32), name="a")
        b = viewer.add_image(rng.random((128, 128), np.float32), name="b")
        settle()
        if hidden:
            b.visible = False
            settle()
            viewer.layers.remove(a)
            settle()
        else:
            viewer.layers.remove(a)
        viewer.layers.remove(b)
        settle()


def journey(reps: int, mode: str) -> None:
    import napari

    import napari_tweedie.restoration
    from napari_tweedie._widgets import live
    from napari_tweedie._widgets.restore import RestoreWidget

    napari_tweedie.restoration.get_prior = lambda prior, device: smooth_prior
    if mode in ("hidden", "naive"):  # what the plugin did before
        live._hide = lambda layer: setattr(layer, "visible", False)
    if mode == "naive":

        def remove_all(viewer, layers):
            for layer in list(layers):
                if layer in viewer.layers:
                    viewer.layers.remove(layer)

        live.remove_layers = remove_all
    viewer = napari.Viewer(show=True)
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((96, 96), dtype=np.float32), name="noisy")
    widget = RestoreWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Restore")
    widget.operator.value, widget.scope.value = "denoise", "Current slice"
    widget.preview_interval_s = 0.0

    def run_layers():  # a run's layers: staged at Run ("... mean", "... sample", ...)
        return [lay for lay in viewer.layers if lay.name.startswith("noisy [")]

    for _ in range(reps):
        widget.steps.value = 1000
        job = widget.run()
        wait_until(lambda: widget.progress.value > 2 and len(run_layers()) >= 2)
        widget.cancel_button.clicked.emit()  # the new layers are hidden, removed later
        wait_until(lambda job=job: job.exited)
        widget.steps.value = 5
        job = widget.run()  # stages its own layers while the cancelled ones wait
        wait_until(lambda job=job: not job.running)
        wait_until(lambda: not any("(ending)" in lay.name for lay in viewer.layers))
        settle(0.05)
        live.remove_layers(viewer, run_layers())  # a fresh start: the next run adds new ones
        wait_until(lambda: not run_layers())


def main() -> None:
    reps, mode = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "fixed"
    if mode.startswith("plain"):
        plain(reps, hidden=mode == "plain_hidden")
    else:
        journey(reps, mode)
    print("alive", flush=True)


if __name__ == "__main__":
    main()
