"""No layer is added or removed while a job runs (issue 15: the GUI stalls 0.1-0.8 s per add
and 0.2-0.3 s per removal in napari 0.9): the widgets stage their layers at the Run click.

The widgets are opened from the plugin's dock, as a user does: napari then hands them
proxies of the viewer and its layers (a run's results were once removed because a proxy
is not the object it wraps).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F


def smooth_prior(x, sigma):
    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (0.002 * x + s2 * local) / (0.002 + s2)


def running(widget) -> bool:
    """Whether ``widget``'s job has started and its thread has not ended."""
    job = widget.job
    return job is not None and job.started and not job.exited


class LayerEvents:
    """Layer insertions and removals, each with whether ``widget``'s job was running."""

    def __init__(self, viewer, widget):
        self.seen: list[tuple[str, str, bool]] = []
        viewer.layers.events.inserted.connect(
            lambda e: self.seen.append(("added", e.value.name, running(widget)))
        )
        viewer.layers.events.removed.connect(
            lambda e: self.seen.append(("removed", e.value.name, running(widget)))
        )

    def while_running(self) -> list:
        return [event for event in self.seen if event[2]]


@pytest.fixture
def docked(make_napari_viewer, noisy_pair, monkeypatch):
    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: smooth_prior)
    viewer = make_napari_viewer()
    viewer.add_image(noisy_pair[1][:64, :64], name="noisy")
    _, tools = viewer.window.add_plugin_dock_widget("napari-tweedie", "All tools")
    return viewer, tools


def test_restore_runs_add_and_remove_nothing_while_running_and_reuse_their_layers(qtbot, docked):
    viewer, tools = docked
    widget = tools.tool("Restore")
    widget.layer.value, widget.scope.value = "noisy", "Current slice"
    widget.operator.value, widget.sampler.value = "denoise", "dds"
    widget.steps.value, widget.samples.value = 6, 2
    events = LayerEvents(viewer, widget)
    job = widget.run()
    added_at_click = [name for kind, name, _ in events.seen if kind == "added"]
    assert sorted(added_at_click) == sorted(
        f"noisy [denoise, dds] {what}" for what in ("mean", "sample", "std", "trajectory")
    )
    qtbot.waitUntil(lambda: job.exited, timeout=60_000)
    qtbot.wait(200)  # the std and trajectory come a turn later
    assert events.while_running() == [], events.seen
    assert not any(kind == "removed" for kind, *_ in events.seen)
    mean = viewer.layers["noisy [denoise, dds] mean"]
    assert mean.opacity == 1 and np.ptp(mean.data) > 0  # the result, revealed

    events.seen.clear()
    job = widget.run()  # a second run reuses its layers: nothing added, nothing removed
    qtbot.waitUntil(lambda: job.exited, timeout=60_000)
    qtbot.wait(200)
    assert events.seen == []
    assert viewer.layers["noisy [denoise, dds] mean"] == mean


def test_a_cancelled_run_removes_its_new_layer_later_and_restores_a_former_result(qtbot, docked):
    viewer, tools = docked
    widget = tools.tool("Denoise")
    widget.layer.value, widget.scope.value = "noisy", "Current slice"
    widget.method.value = "zs_n2n"  # iterative: its live estimate goes to its result layer
    widget.params["patience"].value = 0

    def cancelled_run(before=None):
        widget.params["iterations"].value = 3000
        job = widget.run()
        layer = viewer.layers["noisy [zs_n2n]"]  # staged at the click
        qtbot.waitUntil(
            lambda: (
                layer.opacity > 0 and (before is None or not np.array_equal(layer.data, before))
            ),
            timeout=60_000,
        )  # a live estimate is shown
        widget.cancel_button.clicked.emit()
        qtbot.waitUntil(lambda: job.exited, timeout=30_000)
        return layer

    events = LayerEvents(viewer, widget)
    cancelled_run()  # a new layer: hidden at Cancel, removed once no job runs
    qtbot.waitUntil(lambda: [lay.name for lay in viewer.layers] == ["noisy"], timeout=10_000)
    assert events.while_running() == [], events.seen

    widget.params["iterations"].value = 30
    job = widget.run()
    qtbot.waitUntil(lambda: job.exited, timeout=60_000)
    result = viewer.layers["noisy [zs_n2n]"]
    before = np.array(result.data)
    events.seen.clear()
    assert cancelled_run(before) == result  # the former result took the live estimate...
    np.testing.assert_array_equal(result.data, before)  # ...and has its data back
    assert result.opacity == 1 and events.seen == []


def test_closing_the_viewer_as_a_run_ends_leaves_nothing_to_crash_on(qtbot, docked):
    """Restore's std and trajectory follow its mean a turn later: a closed window takes none
    (a layer added to a closed viewer aborted napari)."""
    viewer, tools = docked
    widget = tools.tool("Restore")
    widget.layer.value, widget.scope.value = "noisy", "Current slice"
    widget.operator.value, widget.sampler.value = "denoise", "dds"
    widget.steps.value, widget.samples.value = 4, 2
    job = widget.run()
    ended = []
    job.after_exit(lambda: ended.append(True))
    original = widget._finished

    def finished_then_close(*args):
        original(*args)  # the mean now, the rest queued for later turns...
        viewer.close()  # ...and the user closes the window at once

    widget._finished = finished_then_close
    qtbot.waitUntil(lambda: bool(ended), timeout=60_000)
    qtbot.wait(300)  # the queued turns pass without touching the closed viewer
