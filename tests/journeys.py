"""The plugin's user journeys, played in a real napari window as a user would (issue 15).

Each journey takes a :class:`Player` (the viewer, a way to wait while Qt runs,
and a ``snap(name)`` called at the journey's key moment) and returns what it
checked.  ``tests/test_journeys.py`` asserts on them, ``scripts/screenshots.py``
saves a screenshot at each key moment and ``benchmarks/bench_gui_stalls.py``
measures the GUI's stalls while they run.  Small regions and few steps keep
each journey to seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SIDE = 64  # region side in pixels


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Run Qt's events until ``condition()`` holds; ``TimeoutError`` after ``timeout_s``.

    A :attr:`Player.wait` for scripts (``scripts/screenshots.py``) and the
    benchmarks that drive a widget in a real window.
    """
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"not there after {timeout_s:g} s")
        QApplication.processEvents()
        time.sleep(0.005)


@dataclass
class Player:
    """A journey's means: the viewer, ``wait(condition, timeout_s)``, ``snap(name)``, a folder."""

    viewer: object
    wait: Callable[[Callable[[], bool], float], None]
    folder: Path
    snap: Callable[[str], None] = lambda name: None
    checks: dict = field(default_factory=dict)

    def dock(self, title: str):
        """Open the "All tools" dock (once) and show the tab ``title``; returns its tool."""
        tools = getattr(self, "_tools", None)
        if tools is None:
            _, tools = self.viewer.window.add_plugin_dock_widget("napari-tweedie", "All tools")
            self._tools = tools
        index = [tools.tabText(i) for i in range(tools.count())].index(title)
        tools.setCurrentIndex(index)
        self.settle()  # a user looks at the tool before using it: napari draws it first
        return tools.tool(title)

    def sample(self, key: str):
        """Open sample ``key``; returns its noisy layer (the selected one)."""
        layers = self.viewer.open_sample("napari-tweedie", key)
        self.settle()
        return next(layer for layer in layers if layer.metadata.get("role") == "noisy")

    def box(self, layer, top: int = 96, left: int = 96, side: int = SIDE):
        """Draw a rectangle over ``layer`` (a Shapes layer, as a user would) and select it."""
        corners = np.array([[top, left], [top, left + side], [top + side, left + side],
                            [top + side, left]], float)  # fmt: skip
        world = [layer.data_to_world(c) for c in corners]
        shapes = self.viewer.add_shapes([world], shape_type="rectangle", name="box",
                                        edge_color="yellow", face_color="transparent")  # fmt: skip
        self.viewer.layers.selection.active = shapes
        self.settle()
        return shapes

    def finish(self, widget, job, timeout: float = 120.0) -> None:
        """Wait for ``job``; the widget's progress must end full."""
        assert job is not None, widget.status.value
        self.wait(lambda: not job.running, timeout)
        assert widget.progress.value == widget.progress.max, widget.status.value

    def settle(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        self.wait(lambda: time.monotonic() > end, seconds + 5)

    def names(self) -> list[str]:
        return [layer.name for layer in self.viewer.layers]


def no_duplicates(player: Player) -> None:
    """Each layer once: no napari copy suffix (``"name [1]"``), no leftover live layer."""
    names = player.names()
    assert len(names) == len(set(names)), names
    assert not any(n.endswith((" [1]", " [2]", "(ending)", "(replaced)")) for n in names), names


def track_contrast(widget, suffix: str) -> list[tuple]:
    """Record (contrast limits, 1st and 99th percentiles) of the live layer ``*suffix``."""
    seen: list[tuple] = []
    show = widget.previews.show

    def record(shown: str, *args, **kwargs):
        layer = show(shown, *args, **kwargs)
        if shown.endswith(suffix) and layer is not None:  # None: added in a later turn
            seen.append((tuple(layer.contrast_limits), tuple(np.percentile(layer.data, (1, 99)))))
        return layer

    widget.previews.show = record
    return seen


def denoise(player: Player) -> dict:
    """Open a sample, draw a box, run, move a slider (live), cancel, run again, apply to the
    whole layer, save and replay a recipe."""
    from napari_tweedie.cli import main as cli

    layer = player.sample("nuclei_2d")
    player.box(layer)
    widget = player.dock("Denoise")
    widget.layer.value, widget.scope.value, widget.method.value = (
        layer.name,
        "Shapes rectangle",
        "tv",
    )
    player.finish(widget, widget.run())
    result = f"{layer.name} [tv]"
    assert result in player.viewer.layers
    widget.live.value = True
    first = widget.job
    widget.params["weight"].value = 0.2  # the "slider": re-runs by itself (live)
    player.wait(lambda: widget.job is not first, 30)  # a new job (it may be over already)
    player.finish(widget, widget.job)
    widget.live.value = False
    widget.method.value = "zs_n2n"  # iterative: a live preview, then Cancel
    job = widget.run()
    player.wait(lambda: widget.progress.value > 0 or not job.running, 60)
    widget.cancel_button.clicked.emit()
    player.wait(lambda: job.exited, 60)  # the worker stops at its next step
    player.settle()
    widget.method.value = "tv"
    player.finish(widget, widget.run())
    widget.output.value = player.folder / "nuclei_tv.zarr"
    player.finish(widget, widget.apply_to_whole_layer(), 120)
    whole = player.viewer.layers[f"{layer.name} [tv, whole]"]
    player.snap("denoise")
    recipe = widget.save_recipe(player.folder / "recipe.json")
    np.save(player.folder / "input.npy", np.asarray(layer.data))
    status = cli(["run", str(recipe), str(player.folder / "input.npy"),
                  str(player.folder / "replayed.npy")])  # fmt: skip
    replayed = np.load(player.folder / "replayed.npy")
    assert status == 0 and replayed.shape == layer.data.shape
    np.testing.assert_allclose(replayed, np.asarray(whole.data), atol=1e-4)
    no_duplicates(player)
    return {"result": result}


def filter2noise(player: Player) -> dict:
    """Fit Filter2Noise on a box, paint a region with its own widths, apply to the view."""
    layer = player.sample("ct_low_dose")
    player.box(layer, 80, 80)
    widget = player.dock("Filter2Noise")
    widget.layer.value, widget.scope.value = layer.name, "Shapes rectangle"
    widget.params["iterations"].value, widget.params["crop"].value = 40, SIDE
    player.finish(widget, widget.fit(), 120)
    regions = player.viewer.layers[f"{layer.name} [filter2noise, f2n regions]"]
    painted = regions.data.copy()
    painted[: SIDE // 2, : SIDE // 2] = 2  # "paint": label 2 smooths more
    regions.data = painted
    player.wait(lambda: widget.last_render_s > 0, 30)
    player.settle(0.3)
    widget.sigma_map.value = "sigma_r stage 1"  # a map, with its name and colour scale
    player.settle(0.3)
    player.snap("filter2noise")
    widget.sigma_map.value = "(none)"
    player.settle(0.3)
    no_duplicates(player)
    return {}


def noise2score(player: Player) -> dict:
    """Train Noise2Score briefly on a stack plane and denoise a box with it."""
    layer = player.sample("nuclei_2d")
    player.box(layer)
    widget = player.dock("Noise2Score")
    widget.layer.value = layer.name
    widget.steps.value, widget.minutes.value = 4, 0.0
    widget.batch.value, widget.patch.value = 2, 32
    player.finish(widget, widget.train(), 180)
    widget.panel.target.value = "Shapes rectangle"
    player.finish(widget, widget.panel.apply(), 120)
    assert f"{layer.name} [noise2score]" in player.viewer.layers
    player.snap("noise2score")
    no_duplicates(player)
    return {}


def noise_inspector(player: Player) -> dict:
    """Estimate the noise of a box, show the stabilised view; a failure clears the estimate."""
    layer = player.sample("hubble")
    player.box(layer)
    widget = player.dock("Noise")
    widget.layer.value, widget.scope.value = layer.name, "Shapes rectangle"
    player.finish(widget, widget.estimate())
    widget.show_stabilised()
    assert widget.result.value
    player.snap("noise_inspector")
    flat = player.viewer.add_image(np.zeros((64, 64), np.float32), name="flat")
    widget.layer.value, widget.scope.value = flat.name, "Current slice"
    job = widget.estimate()
    player.wait(lambda: not job.running, 30)
    assert widget.status.value.startswith("failed") and not widget.result.value
    assert widget.inspected is None
    no_duplicates(player)
    return {}


def restore(player: Player) -> dict:
    """Run each Restore preset briefly on a box; cancel one, run again; the live contrast tracks."""
    layer = player.sample("ct_low_dose")
    player.box(layer, 96, 96, 48)
    widget = player.dock("Restore")
    widget.layer.value, widget.scope.value = layer.name, "Shapes rectangle"
    contrast = track_contrast(widget, " mean")  # the live Tweedie estimate, then the mean
    for preset in [p for p in widget.preset.choices if p != "(custom)"]:
        widget.preset.value = preset
        widget.steps.value = 6
        job = widget.run()
        assert job is not None, widget.status.value
        if preset.startswith("CT"):
            player.wait(lambda job=job: widget.progress.value >= 3 or not job.running, 60)
            player.snap("restore_live")
        player.finish(widget, job, 120)
    widget.preset.value = "microscopy (denoise)"
    widget.steps.value = 400
    job = widget.run()
    player.wait(lambda: widget.progress.value > 2, 60)
    widget.cancel_button.clicked.emit()
    player.wait(lambda: job.exited, 30)
    widget.steps.value = 6
    player.finish(widget, widget.run(), 120)
    player.wait(lambda: "(ending)" not in " ".join(player.names()), 30)
    player.snap("restore")
    no_duplicates(player)
    return {"contrast": contrast}


def denoise_sure(player: Player) -> dict:
    """Tune TV by eye and by Auto-tune with no clean image: the estimated PSNR, its curve, the
    SURE map (issue 17)."""
    import skimage.data

    clean = skimage.data.camera().astype(np.float32) / 255
    rng = np.random.default_rng(0)
    noisy = clean + 0.1 * rng.standard_normal(clean.shape).astype(np.float32)
    layer = player.viewer.add_image(noisy, name="noisy camera")
    player.box(layer, 150, 150, 128)
    widget = player.dock("Denoise")
    widget.layer.value, widget.scope.value, widget.method.value = (
        layer.name,
        "Shapes rectangle",
        "tv",
    )
    widget.quality.sure_map.value = True
    player.finish(widget, widget.run())
    estimates = [widget.quality.estimate.value]
    for value in (0.02, 0.05, 0.15, 0.3):
        widget.params["weight"].value = value
        player.finish(widget, widget.run())
        estimates.append(widget.quality.estimate.value)
    tuning = widget.quality.auto_tune()
    player.wait(lambda: not tuning.running, 180)
    player.wait(lambda: widget.job is not tuning, 10)  # then a run with the tuned value
    player.finish(widget, widget.job)
    player.viewer.layers[f"{layer.name} [tv, SURE map]"].visible = False
    player.viewer.layers.selection.active = player.viewer.layers[f"{layer.name} [tv]"]
    player.viewer.reset_view()
    player.snap("denoise_sure")
    no_duplicates(player)
    return {"estimates": estimates, "points": len(widget.quality.curve.points),
            "weight": widget.params["weight"].value}  # fmt: skip


def rgb(player: Player) -> dict:
    """An RGB photograph through Filter2Noise: a colour fit on a box, its RGB result over it."""
    from skimage import data as skdata

    clean = skdata.astronaut()[::4, ::4].astype(np.float32)  # (128, 128, 3)
    noisy = clean + np.random.default_rng(0).normal(0, 25, clean.shape).astype(np.float32)
    layer = player.viewer.add_image(noisy, name="astronaut (noisy)", rgb=True,
                                    contrast_limits=(0, 255))  # fmt: skip
    player.box(layer, 16, 16)
    widget = player.dock("Filter2Noise")
    widget.layer.value, widget.scope.value = layer.name, "Shapes rectangle"
    widget.params["iterations"].value, widget.params["crop"].value = 40, SIDE
    player.finish(widget, widget.fit(), 120)
    result = player.viewer.layers[f"{layer.name} [filter2noise]"]
    assert result.rgb and result.data.shape == (SIDE, SIDE, 3)
    player.settle(0.3)
    player.snap("rgb")
    no_duplicates(player)
    return {}


JOURNEYS = {
    "denoise": denoise,
    "filter2noise": filter2noise,
    "noise2score": noise2score,
    "noise_inspector": noise_inspector,
    "restore": restore,
    "denoise_sure": denoise_sure,
    "rgb": rgb,
}
