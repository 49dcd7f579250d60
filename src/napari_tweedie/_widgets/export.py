"""The "Export to bioimage.io..." button of a fitted-model panel (:class:`~.panel.ModelPanel`).

A file dialog asks for the package's ``.zip``; :func:`export_model` then
writes it in the background (:func:`napari_tweedie.export_bioimageio`) with a
64 x 64 crop of the current slice as the package's test input, and says so
in the status line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from magicgui.widgets import PushButton

from .scope import full_resolution

if TYPE_CHECKING:
    from .jobs import Job
    from .panel import ModelPanel

__all__ = ["export_button", "export_model"]

TEXT = "Export to bioimage.io..."
SIDE = 64


def export_button(panel: ModelPanel) -> PushButton:
    """The button: a save dialog, then :func:`export_model` to the chosen file."""
    button = PushButton(
        text=TEXT,
        tooltip="write the fitted model as a bioimage.io (BioImage Model Zoo) package: "
        "weights (PyTorch state dict and TorchScript), test data, documentation",
    )

    def ask() -> None:
        from qtpy.QtWidgets import QFileDialog

        default = str(Path.cwd() / f"{panel.name}.bioimageio.zip")
        path, _ = QFileDialog.getSaveFileName(None, TEXT, default, "bioimage.io package (*.zip)")
        if path:
            export_model(panel, path)

    button.clicked.connect(ask)
    return button


def export_model(panel: ModelPanel, path: str | Path) -> Job | None:
    """Export the panel's model to ``path`` in the background (status: where it went)."""
    if panel.model is None:
        panel.say("fit or load a model first")
        return None
    path = Path(path).expanduser()
    if path.suffix.lower() != ".zip":
        path = path.with_name(path.name + ".zip")
    model, sample = panel.model, _sample(panel)

    def work(progress) -> Path:
        from ..bioimageio.export import export_bioimageio

        return export_bioimageio(model, path, sample=sample)

    panel.say(f"exporting to {path.name}...")
    return panel.host.start(work, on_done=lambda written: panel.say(f"exported {written}"))


def _sample(panel: ModelPanel) -> np.ndarray | None:
    """A central 64 x 64 crop of the current slice of the source layer (None: not available)."""
    try:
        layer = panel.host.source_layer()
        _, roi = panel.host.source_roi("Current slice")
    except (ValueError, TypeError, AttributeError, IndexError):
        return None
    slices = list(roi.slices)
    if len(slices) < 2 or getattr(layer, "rgb", False):
        return None
    for axis in (-2, -1):
        start, stop = slices[axis].start or 0, slices[axis].stop
        middle, half = (start + stop) // 2, min(SIDE, stop - start) // 2
        slices[axis] = slice(middle - half, middle + half)
    crop = np.asarray(full_resolution(layer)[tuple(slices)], np.float32)
    crop = crop.reshape(crop.shape[-2:]) if crop.size == np.prod(crop.shape[-2:]) else None
    return crop if crop is not None and min(crop.shape) >= 32 else None
