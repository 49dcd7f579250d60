"""The Restore dock widget under a real napari viewer (Xvfb)."""

from __future__ import annotations

import gc
import re
import time

import numpy as np
import pytest
import torch
from qtpy.QtCore import Qt
from torch.nn import functional as F

from napari_tweedie._widgets import restore as restore_widget
from napari_tweedie._widgets.restore import RestoreWidget


def smooth_prior(x, sigma):
    """A quick spatial test prior: shrinks towards the 3x3 local mean."""
    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (0.002 * x + s2 * local) / (0.002 + s2)


@pytest.fixture
def viewer(make_napari_viewer, noisy_pair, monkeypatch):
    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: smooth_prior)
    clean, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy[:64, :48], name="noisy", scale=(2.0, 2.0), translate=(5.0, 7.0))
    return viewer


def wait(qtbot, widget, job, timeout=60_000):
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=timeout)


def test_run_updates_live_estimate_and_ends_with_mean_and_std(
    qtbot, viewer, monkeypatch, noisy_pair
):
    monkeypatch.setattr(RestoreWidget, "preview_interval_s", 0.0)
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value, widget.samples.value = "denoise", 8, 3
    widget.sampler.value = "dds"  # not the operator's default
    widget.sigma_y.value = 0.1
    counts = []
    original = widget.previews.show
    widget.previews.show = lambda name, *a, **k: counts.append(name) or original(name, *a, **k)
    job = widget.run()
    staged = [layer.name for layer in viewer.layers]  # all the run's layers, made at Run
    wait(qtbot, widget, job)
    assert counts.count("noisy [denoise, dds] mean") > 1, widget.status.value
    assert widget.progress.value == widget.progress.max == 8
    assert sorted(staged) == sorted(layer.name for layer in viewer.layers)
    assert sorted(staged) == sorted(
        ["noisy"]
        + [f"noisy [denoise, dds] {what}" for what in ("mean", "sample", "std", "trajectory")]
    )
    mean = viewer.layers["noisy [denoise, dds] mean"]
    std = viewer.layers["noisy [denoise, dds] std"]  # the std and the trajectory: turns later
    qtbot.waitUntil(lambda: viewer.layers["noisy [denoise, dds] trajectory"].data.shape[0] > 1)
    assert mean.data.shape == std.data.shape == (64, 48)
    assert float(std.data.max()) > 0  # three different samples
    clean, noisy = (image[:64, :48] for image in noisy_pair[:2])
    assert np.mean((mean.data - clean) ** 2) < 0.7 * np.mean((noisy - clean) ** 2)
    np.testing.assert_allclose(mean.translate, [5.0, 7.0])
    np.testing.assert_allclose(mean.scale, [2.0, 2.0])
    trajectory = viewer.layers["noisy [denoise, dds] trajectory"]  # filled a turn later
    qtbot.waitUntil(lambda: trajectory.data.shape[0] > 1)
    assert trajectory.data.shape[1:] == (64, 48)


def test_trajectory_slices_land_where_the_mean_does_on_a_rotated_sheared_layer(qtbot, viewer):
    layer = viewer.layers["noisy"]
    layer.rotate, layer.shear = 30.0, [0.2]
    layer.affine = np.array([[1.0, 0.1, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "denoise", 4
    widget.sampler.value = "dds"  # not the operator's default
    wait(qtbot, widget, widget.run())
    mean = viewer.layers["noisy [denoise, dds] mean"]
    trajectory = viewer.layers["noisy [denoise, dds] trajectory"]
    qtbot.waitUntil(lambda: trajectory.data.shape[0] > 1)  # filled a turn later
    for pixel in ([0.0, 0.0], [10.0, 40.0], [63.0, 5.0]):
        expected = np.asarray(layer.data_to_world(pixel))
        np.testing.assert_allclose(mean.data_to_world(pixel), expected, atol=1e-9)
        np.testing.assert_allclose(trajectory.data_to_world([1.0, *pixel])[1:], expected, atol=1e-9)


def test_cancel_stops_within_a_second_and_leaves_no_half_layer(qtbot, viewer):
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "denoise", 1000
    widget.sampler.value = "dds"  # not the operator's default
    job = widget.run()
    finished = []
    # record the moment the worker thread ends, not when the GUI thread gets to hear of it
    job.worker.finished.connect(
        lambda: finished.append(time.monotonic()), Qt.ConnectionType.DirectConnection
    )
    qtbot.waitUntil(lambda: widget.progress.value > 2, timeout=20_000)
    qtbot.waitUntil(lambda: viewer.layers["noisy [denoise, dds] mean"].opacity > 0)  # live
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    assert not job.running and widget.run_button.enabled  # the GUI is free at once
    assert not any(layer.opacity for layer in viewer.layers[1:])  # its layers hidden at once
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    # the sampler stops at its next step: ~0.02 s here.  The run's layers are removed only
    # after the thread has ended: napari's gc.collect() per removed layer holds the GIL and
    # used to stall the thread's last step for 0.3-1 s.  1.0 s leaves room for a slow CI box.
    assert finished[0] - started < 1.0
    qtbot.waitUntil(lambda: [layer.name for layer in viewer.layers] == ["noisy"], timeout=10_000)


def test_cancel_interrupts_a_long_ct_step_within_a_second(qtbot, viewer, monkeypatch):
    """One CT step (CG on the Radon transform, a large network) may take seconds on a CPU:
    Cancel interrupts the worker inside the step, not at its end."""

    def slow_prior(x, sigma):  # ~30 s of short torch calls per step, like a long CG
        for _ in range(200_000):
            x = x * 1.0
        return smooth_prior(x, sigma)

    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: slow_prior)
    widget = RestoreWidget(viewer)
    widget.preset.value = "CT (60 views, simulated)"
    job = widget.run()
    assert job is not None, widget.status.value
    finished = []
    job.worker.finished.connect(
        lambda: finished.append(time.monotonic()), Qt.ConnectionType.DirectConnection
    )
    qtbot.wait(500)  # the worker is inside its first step
    started = time.monotonic()
    widget.cancel_button.clicked.emit()
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)
    assert finished[0] - started < 1.0
    qtbot.waitUntil(lambda: [layer.name for layer in viewer.layers] == ["noisy"], timeout=10_000)


def test_run_right_after_cancel_keeps_the_new_live_layers(qtbot, viewer):
    def live():  # the run's live layers, staged at Run; a cancelled run's leave later
        names = ("noisy [denoise, dds] mean", "noisy [denoise, dds] sample")
        return [layer for layer in viewer.layers if layer.name in names]

    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "denoise", 1000
    widget.sampler.value = "dds"  # not the operator's default
    ended = []  # hold the first worker, not its job: only the widget may keep that alive
    widget.run().worker.finished.connect(lambda: ended.append(True))
    qtbot.waitUntil(lambda: widget.progress.value > 2, timeout=20_000)
    widget.cancel_button.clicked.emit()
    second = widget.run()  # the first thread may still be ending: its hidden layers go later
    gc.collect()  # the replaced job must survive until its thread has ended
    qtbot.waitUntil(
        lambda: bool(ended) and len(live()) == 2 and all(lay.opacity for lay in live()),
        timeout=20_000,
    )
    shown = live()
    qtbot.wait(300)
    assert live() == shown and second.running  # the new run's layers, updated in place
    # the cancelled run's layers, hidden, are not removed while a job runs (a removal
    # costs the GUI thread 0.2-0.3 s): they go once none runs
    ending = [lay for lay in viewer.layers if "(ending)" in lay.name]
    assert ending and not any(lay.opacity for lay in ending)
    widget.cancel_button.clicked.emit()
    qtbot.waitUntil(lambda: second.exited, timeout=5000)
    # six removals, one per redraw (0.2-0.3 s each, more on a loaded machine)
    qtbot.waitUntil(lambda: [layer.name for layer in viewer.layers] == ["noisy"], timeout=20_000)


def test_inpainting_mask_comes_from_painted_labels(qtbot, viewer):
    labels = np.zeros((64, 48), np.int32)
    labels[10:30, 5:20] = 1  # painted = missing
    viewer.add_labels(labels, name="damage", scale=(2.0, 2.0), translate=(5.0, 7.0))
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "inpaint", 4
    widget.sampler.value = "dds"  # not the operator's default
    widget.mask_layer.value = "damage"
    _, params, _, _ = widget.measurement()
    np.testing.assert_array_equal(params["mask"], (labels == 0).astype(np.float32))
    wait(qtbot, widget, widget.run())
    assert "noisy [inpaint, dds] mean" in viewer.layers


def test_presets_fill_settings_and_simulated_ct_runs(qtbot, viewer):
    widget = RestoreWidget(viewer)
    widget.preset.value = "CT (60 views, simulated)"
    assert (widget.operator.value, widget.angles.value, widget.simulate.value) == ("ct", 60, True)
    widget.steps.value, widget.angles.value = 4, 12
    wait(qtbot, widget, widget.run())
    assert "noisy [ct, dds] mean" in viewer.layers, widget.status.value
    assert viewer.layers["noisy [ct, dds] mean"].data.shape == (64, 48)


def test_superres_of_a_stack_plane_lands_on_its_plane_on_the_source_pixel_edges(
    qtbot, make_napari_viewer, noisy_pair, monkeypatch
):
    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: smooth_prior)
    _, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    stack = np.stack([noisy[:32, :24]] * 4)
    viewer.add_image(stack, name="stack", scale=(3.0, 2.0, 2.0), translate=(1.0, 5.0, 7.0))
    viewer.dims.set_point(0, 1.0 + 3.0 * 2)  # plane 2
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.factor.value, widget.steps.value = "superres", 2, 4
    widget.sampler.value = "dds"  # not the operator's default
    widget.scope.value = "Current slice"
    wait(qtbot, widget, widget.run())
    mean = viewer.layers["stack [superres, dds] mean"]
    assert mean.data.shape == (1, 64, 48)  # on plane 2 only, not drawn on every plane
    np.testing.assert_allclose(mean.scale, [3.0, 1.0, 1.0])
    # source pixel 0 spans world [4, 6] in Y: the two fine pixels are centred at 4.5 and 5.5
    np.testing.assert_allclose(mean.translate, [1.0 + 3.0 * 2, 4.5, 6.5])


def test_a_2d_mask_serves_every_plane_of_a_stack_and_a_rectangle(make_napari_viewer, noisy_pair):
    _, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(np.stack([noisy[:64, :48]] * 3), name="stack")
    labels = np.zeros((64, 48), np.int32)
    labels[10:30, 5:20] = 1
    viewer.add_labels(labels, name="damage")
    corners = [[1, 8, 4], [1, 8, 36], [1, 40, 36], [1, 40, 4]]
    viewer.add_shapes([corners], shape_type="rectangle", name="roi")
    viewer.dims.set_point(0, 1)
    widget = RestoreWidget(viewer)
    widget.layer.value, widget.operator.value = "stack", "inpaint"
    widget.mask_layer.value = "damage"
    widget.scope.value = "Shapes rectangle"
    y, params, roi, _ = widget.measurement()
    assert roi.slices == (slice(1, 2), slice(8, 40), slice(4, 36)) and y.shape == (32, 32)
    np.testing.assert_array_equal(params["mask"], (labels[8:40, 4:36] == 0).astype(np.float32))
    viewer.add_labels(np.zeros((5, 5), np.int32), name="wrong")
    widget.mask_layer.reset_choices()
    widget.mask_layer.value = "wrong"
    with pytest.raises(ValueError, match="matches neither"):
        widget.measurement()


def shown(widget, control) -> bool:
    return control.native.isVisibleTo(widget.native)


def test_only_the_chosen_operators_controls_are_visible(viewer):
    widget = RestoreWidget(viewer)
    widget.operator.value = "inpaint"
    others = ["angles", "photons", "limited", "attenuation", "acceleration"]
    others += ["sigma_blur", "motion", "motion_angle", "factor"]
    assert not any(shown(widget, getattr(widget, name)) for name in others)
    assert shown(widget, widget.mask_layer) and shown(widget, widget.sigma_y)
    widget.operator.value = "ct"
    assert all(shown(widget, getattr(widget, name)) for name in ("angles", "photons", "limited"))
    assert not shown(widget, widget.mask_layer) and not shown(widget, widget.acceleration)


def test_only_the_chosen_samplers_controls_are_visible_and_reach_restore(viewer, monkeypatch):
    widget = RestoreWidget(viewer)
    controls = widget.sampler_controls
    for name in restore_widget.SAMPLERS:
        widget.sampler.value = name
        visible = [w for w in controls.widgets if shown(widget, w)]
        assert visible == [w for _, w in controls.by_spec[name].values()]
    widget.sampler.value = "pnp"
    controls.by_spec["pnp"]["lam"][1].value = 0.5
    calls = {}

    def fake_restore_steps(y, operator, **kwargs):
        calls.update(kwargs)
        yield from ()

    class FakeJob:
        running = False

        def __init__(self, work, **_):
            self.work = work

        def start(self):
            return list(self.work())

        def start_soon(self, delay_ms):
            return self.start()

    monkeypatch.setattr(restore_widget, "restore_steps", fake_restore_steps)
    monkeypatch.setattr("napari_tweedie._widgets.base.Job", FakeJob)
    assert widget.run() == [], widget.status.value
    assert calls["sampler"] == "pnp" and calls["lam"] == 0.5 and calls["cg_steps"] == 20
    assert "zeta" not in calls and "eta" not in calls  # other samplers' parameters


def test_every_control_has_its_params_tooltip(viewer):
    widget = RestoreWidget(viewer)
    for registry, controls in (
        (restore_widget.OPERATORS, widget.operator_controls),
        (restore_widget.SAMPLERS, widget.sampler_controls),
    ):
        for name, spec in registry.items():
            for param in spec.params:
                if param.kind != "array":
                    tooltip = controls.by_spec[name][param.name][1].tooltip
                    assert tooltip == f"{param.name}: {param.tooltip}"  # the symbol first


def test_a_second_run_replaces_its_results_and_resets_the_progress(qtbot, viewer):
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value, widget.samples.value = "denoise", 4, 2
    widget.sampler.value = "dds"  # not the operator's default
    wait(qtbot, widget, widget.run())
    names = sorted(layer.name for layer in viewer.layers)
    first = viewer.layers["noisy [denoise, dds] mean"]
    widget.steps.value = 6
    job = widget.run()
    assert widget.progress.value == 0  # reset at the start of the run
    assert sorted(layer.name for layer in viewer.layers) == names  # reused: nothing added
    wait(qtbot, widget, job)
    assert sorted(layer.name for layer in viewer.layers) == names  # no "mean [1]"
    assert viewer.layers["noisy [denoise, dds] mean"] is first
    assert widget.progress.value == widget.progress.max == 6


def test_ct_without_simulation_refuses_an_image_that_is_not_a_sinogram(viewer):
    widget = RestoreWidget(viewer)
    widget.preset.value = "CT (60 views, simulated)"
    assert widget.sigma_y.value == 0.5 and widget.steps.value <= 20
    widget.simulate.value = False
    assert widget.run() is None
    assert "the sinogram has 64 rows (angles), not 60" in widget.status.value
    widget.angles.value = None  # auto: the rows
    assert widget.run() is None
    assert "no sinogram" in widget.status.value
    assert "simulate from image" in widget.status.value


def test_live_contrast_limits_follow_the_estimate(qtbot, viewer, monkeypatch):
    def slow_prior(x, sigma):  # 20 ms a step: the live layers see several updates
        time.sleep(0.02)
        return smooth_prior(x, sigma)

    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: slow_prior)
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "denoise", 30
    widget.sampler.value = "dds"  # not the operator's default
    widget.preview_interval_s = 0.0
    limits = []

    def record(step):
        layer = viewer.layers["noisy [denoise, dds] mean"]
        if layer.opacity > 0:  # the staged layer has its first estimate
            low, high = np.percentile(layer.data, (1, 99))
            limits.append((layer.contrast_limits, (low, high)))

    job = widget.run()
    job.worker.yielded.connect(record)
    wait(qtbot, widget, job)
    assert len(limits) > 3
    for shown, (low, high) in limits[1:]:  # each update's limits are its own percentiles
        np.testing.assert_allclose(shown, (low, high), rtol=0.05, atol=1e-3 * (high - low))
    assert len({tuple(np.round(shown, 4)) for shown, _ in limits}) > 2  # they moved
    mean = viewer.layers["noisy [denoise, dds] mean"]
    low, high = np.percentile(mean.data, (1, 99))
    np.testing.assert_allclose(mean.contrast_limits, (low, high), rtol=0.05)


def test_choosing_an_operator_sets_its_default_sampler_steps_and_samples(viewer):
    from napari_tweedie.restoration import resolve_defaults

    widget = RestoreWidget(viewer)
    for name in ("inpaint", "ct", "superres", "blur", "mri", "denoise"):
        widget.operator.value = name
        sampler, steps, samples, settings = resolve_defaults(name, None, None, None, {})
        assert (widget.sampler.value, widget.steps.value, widget.samples.value) == (
            sampler,
            steps,
            samples,
        )
        assert settings.items() <= widget.sampler_controls.values(sampler).items()
    widget.sampler.value, widget.steps.value = "dds", 7
    widget.preset.value = "microscopy (denoise)"  # the same operator: its defaults again
    assert (widget.sampler.value, widget.steps.value) == ("ddim", 1)


def test_whole_layer_restores_every_plane_into_zarr_and_resumes(
    qtbot, make_napari_viewer, noisy_pair, monkeypatch, tmp_path
):
    def paced_prior(x, sigma):  # 50 ms a call: the Cancel lands before the last plane
        time.sleep(0.05)
        return smooth_prior(x, sigma)

    monkeypatch.setattr("napari_tweedie.prior.select.get_prior", lambda prior, device: paced_prior)
    _, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    stack = np.stack([noisy[:32, :24], noisy[32:64, :24], noisy[:32, 24:48]])
    viewer.add_image(stack, name="stack", scale=(3.0, 2.0, 2.0))
    widget = RestoreWidget(viewer)
    widget.layer.value, widget.scope.value = "stack", "Whole layer"
    assert shown(widget, widget.output)
    widget.operator.value, widget.sigma_y.value = "denoise", 0.1
    widget.sampler.value, widget.steps.value, widget.samples.value = "dds", 3, 2
    widget.output.value = tmp_path / "restored.zarr"
    steps = []
    job = widget.run()
    assert job is not None, widget.status.value
    # Cancel during the second plane: the first stays written for the next run
    original = widget.progressed
    widget.progressed = lambda i, n: steps.append(i) or original(i, n)
    qtbot.waitUntil(lambda: any(i > 3 for i in steps) or not job.running, timeout=60_000)
    widget.cancel()
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    assert "restored.zarr" not in [p.name for p in tmp_path.iterdir()]
    steps.clear()
    wait(qtbot, widget, widget.run())
    assert "resuming" in widget.status.value or "wrote" in widget.status.value
    assert min(steps) > 3  # plane 0 was not run again
    name = "stack [denoise, dds, whole]"
    qtbot.waitUntil(lambda: f"{name} std" in viewer.layers, timeout=10_000)
    mean, std = viewer.layers[f"{name} mean"], viewer.layers[f"{name} std"]
    assert mean.data.shape == std.data.shape == stack.shape
    assert float(np.asarray(std.data).max()) > 0
    np.testing.assert_allclose(mean.scale, [3.0, 2.0, 2.0])


def test_the_status_says_the_time_left_from_the_timed_steps(qtbot, viewer, monkeypatch):
    def slow_prior(x, sigma):  # 30 ms a step: the clock has something to time
        time.sleep(0.03)
        return smooth_prior(x, sigma)

    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: slow_prior)
    widget = RestoreWidget(viewer)
    widget.operator.value, widget.steps.value = "denoise", 200
    job = widget.run()
    seen = []
    job.worker.yielded.connect(lambda step: seen.append(widget.status.value))
    qtbot.waitUntil(lambda: len(seen) > 3 or not job.running, timeout=60_000)
    assert re.search(r"running \w+ .*; (about \d+ (s|min)|under 1 s) left$", seen[-1]), seen[-1]
    widget.cancel_button.clicked.emit()
    qtbot.waitUntil(lambda: job.exited, timeout=10_000)
    assert widget.status.value == "cancelled"  # no time left once it is over


def test_a_preset_says_its_estimated_time_before_run(qtbot, viewer, monkeypatch):
    def slow_prior(x, sigma):
        time.sleep(0.05)
        return smooth_prior(x, sigma)

    monkeypatch.setattr("napari_tweedie.restoration.get_prior", lambda prior, device: slow_prior)
    widget = RestoreWidget(viewer)
    widget.scope.value = "Current slice"
    widget.preset.value = "microscopy (denoise)"  # its steps of about 0.05 s each
    qtbot.waitUntil(lambda: widget.timing is not None)  # timed soon after, if no Run came
    qtbot.waitUntil(lambda: widget.status.value.startswith("estimate:"), timeout=30_000)
    steps = int(widget.steps.value)
    expected = rf"estimate: (about \d+ (s|min)|under 1 s) for {steps} steps on "
    assert re.match(expected, widget.status.value), widget.status.value
    assert not widget.busy and widget.run_button.enabled
