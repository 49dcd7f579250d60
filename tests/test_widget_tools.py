"""One dock with every tool as a tab; docks that scroll and keep their width (issue 15, item 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from magicgui.widgets import Container, Label
from qtpy.QtWidgets import QScrollArea

import napari_tweedie
from napari_tweedie._widgets.denoise import DenoiseWidget
from napari_tweedie._widgets.tools import TOOLS, ToolsWidget


def test_one_menu_item_opens_all_tools_and_each_is_still_on_its_own():
    manifest = yaml.safe_load((Path(napari_tweedie.__file__).parent / "napari.yaml").read_text())
    widgets = {w["command"].split(".")[-1] for w in manifest["contributions"]["widgets"]}
    assert "tools_widget" in widgets
    assert {"denoise_widget", "restore_widget", "filter2noise_widget", "noise2score_widget",
            "noise_inspector_widget"} <= widgets  # fmt: skip


def test_the_tabs_build_each_tool_once_when_shown(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    tools = ToolsWidget(viewer)
    qtbot.addWidget(tools)
    assert list(tools.tools) == ["Denoise"]  # the others are built when their tab is shown
    for index, title in enumerate(TOOLS):
        tools.setCurrentIndex(index)
        assert title in tools.tools
        assert isinstance(tools.tools[title].root_native_widget, QScrollArea)
    assert tools.tool("Restore") is tools.tools["Restore"]


def test_long_status_and_layer_names_do_not_widen_the_dock(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((8, 8), np.float32), name="x")
    _, widget = viewer.window.add_plugin_dock_widget("napari-tweedie", "Denoise")
    assert isinstance(widget, DenoiseWidget)
    qtbot.wait(50)
    dock = widget.root_native_widget
    width = dock.width()
    widget.say("failed: " + "a very long message " * 40)
    viewer.add_image(np.zeros((8, 8), np.float32), name="a layer with a very long name " * 5)
    widget.layer.value = viewer.layers[-1].name
    qtbot.wait(50)
    assert dock.width() <= width + 5
    assert widget.status.tooltip.endswith("message ") and widget.status.value.endswith("…")


def controls(container):
    for widget in container:
        if isinstance(widget, Container):
            yield from controls(widget)
        elif not isinstance(widget, Label):
            yield widget


def test_every_control_has_a_tooltip_and_a_plain_label(make_napari_viewer):
    viewer = make_napari_viewer()
    tools = ToolsWidget(viewer)
    for title in TOOLS:
        widget = tools.tool(title)
        missing = [w.label or getattr(w, "text", w.name) for w in controls(widget) if not w.tooltip]
        assert not missing, (title, missing)
        labels = [w.label for w in controls(widget)]
        assert not any("_" in label for label in labels), (title, labels)


def test_auto_fields_show_auto_not_a_number(make_napari_viewer):
    viewer = make_napari_viewer()
    widget = ToolsWidget(viewer).tool("Restore")
    widget.operator.value = "ct"
    angles = widget.angles
    assert angles.value is None and angles.auto.value
    assert not angles.number.native.isVisibleTo(angles.native)
    angles.value = 30
    assert angles.number.native.isVisibleTo(angles.native) and angles.value == 30


def test_no_tool_is_cut_at_the_right_edge_of_the_dock(make_napari_viewer, qtbot):
    from napari_tweedie._widgets.params import AutoFloat

    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)
    viewer.add_image(np.zeros((16, 16), np.float32), name="x")
    _, tools = viewer.window.add_plugin_dock_widget("napari-tweedie", "All tools")
    for index, title in enumerate(TOOLS):
        tools.setCurrentIndex(index)
        tool = tools.tools[title]
        if title == "Denoise":  # the widest form: three parameters, numbers shown
            tool.method.value = "nl_means"
            for widget in tool.params:
                if isinstance(widget, AutoFloat):
                    widget.auto.value = False
        qtbot.wait(50)
        scroll = tool.root_native_widget
        # before: the rows needed 364-426 px in a 351 px viewport, their right ends cut off
        assert scroll.widget().minimumSizeHint().width() <= scroll.viewport().width(), title
