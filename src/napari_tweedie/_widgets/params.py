"""Parameter widgets generated from the denoiser registry (magicgui)."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    SpinBox,
    Widget,
)

from ..specs import Param

#: plain words for parameter symbols (``Param.label`` wins); the symbol goes to the tooltip
PLAIN_LABELS = {
    "sigma_spatial": "spatial width (px)",
    "sigma_color": "intensity width",
    "weight": "smoothing weight",
    "patch_size": "patch size (px)",
    "patch_distance": "search distance (px)",
    "h": "filter strength",
    "shifts": "cycle spins",
    "lr": "learning rate",
    "sigma_max": "largest perturbation",
    "sigma_min": "smallest perturbation",
    "eta": "randomness",
    "gamma": "data weight",
    "lam": "prior weight",
    "cg_steps": "data steps (CG)",
    "sigma_blur": "blur width (px)",
    "motion": "motion length (px)",
    "motion_angle": "motion angle (deg)",
    "sigma_y": "measurement noise",
    "angles": "projection angles",
    "photons": "photons per ray",
    "limited": "angular range (deg)",
    "acceleration": "undersampling",
    "factor": "upscaling factor",
    "sigma": "noise level (std)",
    "zeta": "photon scale",
    "k": "gamma shape",
    "patch": "patch (px)",
}


def plain_label(param: Param, words: dict[str, str] | None = None) -> str:
    """The label a control of ``param`` shows: its own, else plain words, else its name."""
    words = PLAIN_LABELS if words is None else {**PLAIN_LABELS, **words}
    return param.label or words.get(param.name, param.name.replace("_", " "))


def symbol_tooltip(param: Param) -> str:
    """``param``'s tooltip, led by its symbol (the name the API and recipes use)."""
    return f"{param.name}: {param.tooltip}"


class AutoFloat(Container):
    """A float that may be left to the method ("auto" = ``None``); the number shows when not."""

    def __init__(self, param: Param, **kwargs):
        self.auto = CheckBox(value=True, text="auto", tooltip="derived by the method (see above)")
        self.number = FloatSpinBox(
            value=param.min if param.min is not None else 1.0,
            min=param.min if param.min is not None else 0.0,
            max=param.max if param.max is not None else 1e6,
            step=param.step or 0.01,
            visible=False,
            tooltip=symbol_tooltip(param),
        )
        super().__init__(  # the number under the box: a narrow dock fits both
            widgets=[self.auto, self.number], layout="vertical", labels=False, **kwargs
        )
        self.margins = (0, 0, 0, 0)
        # napari's theme gives number boxes 70 px of text: "0.07935" and the +/- buttons need more
        self.number.native.setStyleSheet("QAbstractSpinBox { min-width: 92px; }")
        self.auto.changed.connect(lambda auto: setattr(self.number, "visible", not auto))
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


def widget_for(param: Param, *, name: str | None = None, label: str | None = None) -> Widget:
    """A magicgui widget for one registry parameter, with its tooltip and bounds.

    Its ``name`` is the parameter's (or ``name``), its label plain words
    (:func:`plain_label`, or ``label``), its tooltip :func:`symbol_tooltip`.
    """
    common: dict[str, Any] = {
        "name": name or param.name,
        "label": label or plain_label(param),
        "tooltip": symbol_tooltip(param),
    }
    bounds = {k: v for k, v in (("min", param.min), ("max", param.max)) if v is not None}
    if param.kind == "choice":
        return ComboBox(choices=list(param.choices), value=param.default, **common)
    if param.kind == "path":
        return FileEdit(mode="r", value=param.default or "", **common)
    if param.kind == "bool":
        return CheckBox(value=bool(param.default), **common)
    if param.kind == "int":
        return SpinBox(value=int(param.default), step=int(param.step or 1), **bounds, **common)
    if param.default is None:
        return AutoFloat(param, **common)
    return FloatSpinBox(
        value=float(param.default), step=param.step or 0.01, **{"max": 1e6, **bounds}, **common
    )


def seed_box(same: str = "result", of: str = "") -> SpinBox:
    """The random-seed control: ``"random seed{of}: same seed, same {same}"``."""
    return SpinBox(label="seed", value=0, min=0, max=2**31 - 1,
                   tooltip=f"random seed{of}: same seed, same {same}")  # fmt: skip


def param_values(container: Container) -> dict[str, Any]:
    """Current values of the widgets made by :func:`widget_for`."""
    return {
        widget.name: str(widget.value) if isinstance(widget, FileEdit) else widget.value
        for widget in container
    }
