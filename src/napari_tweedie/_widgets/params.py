"""Parameter widgets generated from the denoiser registry (magicgui)."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox, Widget

from ..specs import Param


class AutoFloat(Container):
    """A float that may be left to the method ("auto" = ``None``)."""

    def __init__(self, param: Param, **kwargs):
        self.auto = CheckBox(value=True, text="auto", tooltip="derive from the noise level")
        self.number = FloatSpinBox(
            value=param.min if param.min is not None else 1.0,
            min=param.min if param.min is not None else 0.0,
            max=param.max if param.max is not None else 1e6,
            step=param.step or 0.01,
            enabled=False,
        )
        super().__init__(
            widgets=[self.auto, self.number], layout="horizontal", labels=False, **kwargs
        )
        self.margins = (0, 0, 0, 0)
        self.auto.changed.connect(lambda auto: setattr(self.number, "enabled", not auto))
        self.auto.changed.connect(lambda _: self.changed.emit(self.value))
        self.number.changed.connect(lambda _: self.changed.emit(self.value))

    @property
    def value(self) -> float | None:
        return None if self.auto.value else float(self.number.value)

    @value.setter
    def value(self, value: float | None) -> None:
        self.auto.value = value is None
        if value is not None:
            self.number.value = value


def widget_for(param: Param) -> Widget:
    """A magicgui widget for one registry parameter, with its tooltip and bounds."""
    common: dict[str, Any] = {"name": param.name, "label": param.name, "tooltip": param.tooltip}
    bounds = {k: v for k, v in (("min", param.min), ("max", param.max)) if v is not None}
    if param.kind == "choice":
        return ComboBox(choices=list(param.choices), value=param.default, **common)
    if param.kind == "bool":
        return CheckBox(value=bool(param.default), **common)
    if param.kind == "int":
        return SpinBox(value=int(param.default), step=int(param.step or 1), **bounds, **common)
    if param.default is None:
        return AutoFloat(param, **common)
    return FloatSpinBox(
        value=float(param.default), step=param.step or 0.01, **{"max": 1e6, **bounds}, **common
    )


def param_values(container: Container) -> dict[str, Any]:
    """Current values of the widgets made by :func:`widget_for`."""
    return {widget.name: widget.value for widget in container}
