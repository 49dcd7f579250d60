"""The device picker shared by every widget that runs torch (``auto`` first, then what exists).

``auto`` picks CUDA, then Apple MPS, then CPU
(:func:`napari_tweedie.devices.resolve_device`); the other choices are the
devices torch can use on this machine (:func:`~napari_tweedie.devices.available_devices`),
so a user can only pick a device that is there.
"""

from __future__ import annotations

from magicgui.widgets import ComboBox

from ..devices import available_devices

__all__ = ["DEVICE_TOOLTIP", "device_picker"]

DEVICE_TOOLTIP = (
    "where the network runs: auto = CUDA, then MPS, then CPU; "
    "operations a device lacks run on the CPU (with a warning)"
)


def device_picker() -> ComboBox:
    """A ``device`` ComboBox: ``"auto"`` then :func:`available_devices` (value ``"auto"``)."""
    return ComboBox(
        name="device",
        label="device",
        choices=["auto", *available_devices()],
        value="auto",
        tooltip=DEVICE_TOOLTIP,
    )
