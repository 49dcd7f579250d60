"""One dock for all tools: Denoise, Restore, Filter2Noise, Noise2Score, noise inspector as tabs.

Opened from one menu item (*Plugins > napari-tweedie > All tools*); each tool
is still offered on its own.  A tab's tool is built the first time it is
shown, so opening the dock costs one tool, not five.  Each tool scrolls
inside its tab (see :class:`~.base.JobWidget`), so the dock fits any window.
"""

from __future__ import annotations

import importlib

import napari
from qtpy.QtWidgets import QTabWidget, QVBoxLayout, QWidget

__all__ = ["TOOLS", "ToolsWidget"]

#: tab title -> "module:Class" of the tool (modules of this package)
TOOLS = {
    "Denoise": "denoise:DenoiseWidget",
    "Restore": "restore:RestoreWidget",
    "Filter2Noise": "filter2noise:Filter2NoiseWidget",
    "Noise2Score": "noise2score:Noise2ScoreWidget",
    "Noise": "noise_inspector:NoiseInspectorWidget",
}


class ToolsWidget(QTabWidget):
    """The plugin's tools as tabs of one dock widget.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer every tool works on.
    """

    def __init__(self, viewer: napari.viewer.Viewer):
        super().__init__()
        self.viewer = viewer
        self.tools: dict[str, object] = {}
        self.setUsesScrollButtons(True)
        self.setDocumentMode(True)
        for title, target in TOOLS.items():
            page = QWidget()
            page.setLayout(QVBoxLayout())
            page.layout().setContentsMargins(0, 0, 0, 0)
            self.addTab(page, title)
            self.setTabToolTip(self.count() - 1, _summary(target))
        self.currentChanged.connect(lambda index: self.tool(self.tabText(index)))
        self.tool(self.tabText(0))

    def tool(self, title: str):
        """The tool of tab ``title`` (built on first use)."""
        if title not in self.tools:
            module, name = TOOLS[title].split(":")
            cls = getattr(importlib.import_module(f"{__package__}.{module}"), name)
            self.tools[title] = widget = cls(self.viewer)
            index = list(TOOLS).index(title)
            self.widget(index).layout().addWidget(widget.root_native_widget)
        return self.tools[title]


def _summary(target: str) -> str:
    return {
        "denoise": "classical and self-supervised denoisers on a region or the whole layer",
        "restore": "deblur, inpaint, super-resolve, CT, MRI with a diffusion prior",
        "filter2noise": "fit an editable bilateral denoiser, paint regions, apply",
        "noise2score": "train a score denoiser on noisy data, apply",
        "noise_inspector": "estimate the noise model of a region, stabilise it",
    }[target.split(":")[0]]
