"""Quality without a clean image: the estimated PSNR of a result, its curve, Auto-tune, maps.

:class:`QualityPanel` is mounted in a host :class:`~.base.JobWidget`.  After
each run it shows the PSNR that SURE/PURE estimate (:mod:`napari_tweedie.tuning`;
no clean image needed) and adds a point to a curve of that estimate against
the parameter the user moved.  Optional layers, placed over the region like
the result: the estimate per block ("SURE map") and, for posterior-mean
denoisers, the posterior std ("uncertainty").  Its "Auto-tune" button runs
through the host's job (progress, Cancel) and sets the host's parameter
controls.  :class:`DenoiseQuality` serves the Denoise widget;
:class:`~.f2n_quality.Filter2NoiseQuality` the Filter2Noise widget.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
from magicgui.widgets import CheckBox, Container, FloatSpinBox, Label, PushButton
from qtpy.QtCore import QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen

from ..steps import Step
from ..tuning.scores import block_means, estimated_psnr, signal_range
from .plot import MARGIN, MiniPlot, Series
from .results import put_image

__all__ = ["SURE_BLOCK", "Curve", "CurvePlot", "QualityPanel", "Rated"]

#: side in pixels of the blocks of the SURE map layer
SURE_BLOCK = 16
LABEL = "estimated PSNR (no clean image needed)"


@dataclass
class Rated:
    """A result with its risk estimate (computed in the worker, shown by the panel).

    ``mse`` is None when no estimate was made (``note`` says why);
    ``data_range`` is the input's :func:`signal_range`; ``risk``
    is the per-pixel risk (for the SURE map) and ``std`` the posterior std,
    when asked for.
    """

    image: np.ndarray
    mse: float | None = None
    data_range: float = 1.0
    risk: np.ndarray | None = None
    std: np.ndarray | None = None
    note: str = ""


class Curve:
    """The points (parameter value, estimated PSNR) of consecutive runs that moved one parameter.

    A point belongs to the current curve when its ``context`` (layer, region,
    method, other settings) is the same and at most one numeric parameter
    changed; moving another parameter starts a curve along it from the last
    point.
    """

    def __init__(self) -> None:
        self.context: object = None
        self.axis: str | None = None
        self.points: list[tuple[float, float]] = []
        self.last: dict = {}
        self.last_y = 0.0

    def add(self, context: object, values: dict, y: float, default_axis: str | None) -> None:
        """Record a run with numeric parameters ``values`` and estimate ``y``."""
        if context != self.context or set(values) != set(self.last):
            self.context, self.axis, self.points = context, default_axis, []
        else:
            moved = [k for k in values if values[k] != self.last[k]]
            if len(moved) == 1 and moved[0] != self.axis:
                self.axis, start = moved[0], self.last[moved[0]]
                self.points = [] if start is None else [(float(start), self.last_y)]
            elif len(moved) > 1:
                self.axis, self.points = default_axis, []
        self.last, self.last_y = dict(values), y
        x = values.get(self.axis) if self.axis else None
        if x is not None:
            self.points.append((float(x), float(y)))

    def best(self) -> tuple[float, float] | None:
        return max(self.points, key=lambda p: p[1]) if self.points else None


class CurvePlot(MiniPlot):
    """A :class:`MiniPlot` with its title above the data and the axes' ranges printed beside it."""

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        text = frame.adjusted(4, 1, -4, -1)
        line = painter.fontMetrics().height()
        painter.setPen(QPen(QColor("#808080")))
        painter.drawRect(frame)
        painter.setPen(QPen(QColor("#c0c0c0")))
        self.draw_title(painter, text)
        limits, ranges = self.bounds(), self._ranges()
        if limits is not None and ranges is not None:
            (x0, x1), (y0, y1) = ranges
            top, bottom = Qt.AlignmentFlag.AlignTop, Qt.AlignmentFlag.AlignBottom
            left, right = Qt.AlignmentFlag.AlignLeft, Qt.AlignmentFlag.AlignRight
            painter.drawText(text, bottom | left, f"{x0:.3g}")
            painter.drawText(text, bottom | right, f"{x1:.3g}")
            painter.drawText(text.adjusted(0, line, 0, 0), top | left, f"{y1:.2f} dB")
            painter.drawText(text.adjusted(0, 0, 0, -line), bottom | left, f"{y0:.2f} dB")
            width = painter.fontMetrics().horizontalAdvance(f"{y0:.2f} dB ")
            data = frame.adjusted(width + 8, line + 6, -8, -line - 4)
            for series in self.series:
                self._draw(painter, data, limits, series)
        painter.end()

    def _ranges(self):
        """``((x_min, x_max), (y_min, y_max))`` of the data in its own units, or None."""
        xs = [s.x for s in self.series if s.x.size]
        if not xs:
            return None
        x = np.concatenate(xs)
        y = np.concatenate([s.y for s in self.series if s.y.size])
        undo_x = (lambda v: 10**v) if self.logx else (lambda v: v)
        return (undo_x(x.min()), undo_x(x.max())), (y.min(), y.max())


class QualityPanel(Container):
    """Estimated PSNR, its curve, Auto-tune and the optional maps of a host widget.

    Parameters
    ----------
    host : JobWidget
        The widget whose runs are rated (its ``viewer``, job machinery and
        status line are used).
    tune : bool
        Offer the Auto-tune button.
    uncertainty : bool
        Offer the uncertainty layer.
    """

    def __init__(self, host, *, tune: bool = True, uncertainty: bool = True):
        super().__init__(labels=False, label="quality")
        self.host = host
        self.margins = (0, 0, 0, 0)
        self.curve = Curve()
        self.active = CheckBox(
            value=True, text="estimate quality (SURE)",
            tooltip="after each run, estimate its PSNR from the noisy image alone (Stein's "
            "unbiased risk estimate): one extra denoiser call for fast methods",
        )  # fmt: skip
        self.estimate = Label(value=f"{LABEL}: run to see it")
        self.plot = CurvePlot("estimated PSNR vs parameter", height=130)
        self.note = Label(value="")
        self.tune_button = PushButton(
            text="Auto-tune", visible=tune,
            tooltip="search the parameters that minimise the estimated error on the scope "
            "(no clean image needed), then set them and run",
        )  # fmt: skip
        self.sure_map = CheckBox(
            value=False, text="SURE map layer",
            tooltip=f"the estimated error per {SURE_BLOCK}x{SURE_BLOCK} block, over the result",
        )  # fmt: skip
        self.uncertainty = CheckBox(
            value=False, text="uncertainty layer", visible=uncertainty,
            tooltip="per-pixel posterior std from the denoiser's Jacobian (second-order "
            "Tweedie), for posterior-mean denoisers (the prior): about 17 extra calls",
        )  # fmt: skip
        for label in (self.estimate, self.note):
            label.native.setWordWrap(True)
        self.extend([self.active, self.estimate, self.note, self.tune_button, self.sure_map,
                     self.uncertainty])  # fmt: skip
        self.native.layout().insertWidget(3, self.plot)  # below the estimate

    # -- showing ------------------------------------------------------------------------
    def show_estimate(
        self, mse: float | None, data_range: float, *, context: object = None,
        values: dict | None = None, default_axis: str | None = None, note: str = "",
    ) -> float | None:  # fmt: skip
        """Show the PSNR of ``mse`` for ``data_range``, add it to the curve; returns it."""
        if mse is None:
            self.estimate.value = f"{LABEL}: n/a" + (f" ({note})" if note else "")
            return None
        psnr = estimated_psnr(mse, data_range)
        self.estimate.value = f"{LABEL}: {psnr:.2f} dB" + (f" ({note})" if note else "")
        self.curve.add(context, values or {}, psnr, default_axis)
        self.draw_curve()
        return psnr

    def draw_curve(self) -> None:
        """Redraw the curve: a line through the points, dots, the last point in orange."""
        curve = self.curve
        points = sorted(curve.points)
        if not points or curve.axis is None:
            self.plot.set_series([])
            self.note.value = f"move {curve.axis or 'a parameter'} to draw the curve"
            return
        x, y = np.array(points).T
        self.plot.logx = bool(x.min() > 0 and x.max() / x.min() >= 4)
        self.plot.title = f"estimated PSNR vs {curve.axis}"
        last = curve.points[-1]
        self.plot.set_series([
            Series(x, y, color="#808080"),
            Series(x, y, color="#4fc3f7", dots=True),
            Series(np.array([last[0]]), np.array([last[1]]), color="#ffa726", dots=True),
        ])  # fmt: skip
        best_x, best_y = curve.best()
        self.note.value = (f"{curve.axis} = {last[0]:.4g}: {last[1]:.2f} dB; "
                           f"best of {len(points)}: {best_x:.4g} ({best_y:.2f} dB)")  # fmt: skip

    def put_maps(self, layer, roi, rated: Rated, method: str) -> None:
        """Add or update the SURE map and uncertainty layers over ``roi`` of ``layer``."""
        if rated.risk is not None:
            blocks = block_means(rated.risk, SURE_BLOCK)
            for axis in (-2, -1):
                blocks = np.repeat(blocks, SURE_BLOCK, axis=axis)
            data = np.ascontiguousarray(blocks[..., : roi.shape[-2], : roi.shape[-1]], np.float32)
            limits = (0.0, max(float(np.percentile(data, 99)), 1e-12))
            shown = put_image(self.host.viewer, layer, roi, data,
                              f"{layer.name} [{method}, SURE map]", colormap="inferno",
                              contrast_limits=limits, opacity=0.7)  # fmt: skip
            shown.contrast_limits = limits  # also when a former map took the data
        if rated.std is not None:
            limits = (0.0, float(np.max(rated.std)) or 1e-6)
            shown = put_image(self.host.viewer, layer, roi, rated.std,
                              f"{layer.name} [{method}, uncertainty]", colormap="magma",
                              contrast_limits=limits)  # fmt: skip
            shown.contrast_limits = limits

    # -- auto-tune ----------------------------------------------------------------------
    def tune_with(
        self, work: Callable[[], Generator[Step, None, dict]], context: object,
        fixed: dict, default_axis: str | None, done: Callable[[dict], None],
        as_controls: Callable[[dict], dict] | None = None,
    ):  # fmt: skip
        """Run the tuning generator ``work`` as the host's job; each trial adds a curve point.

        The trials' steps carry the tuned image as ``x`` (its :func:`signal_range`
        sets the PSNR scale); ``as_controls`` maps a trial's values to the
        host's controls (default: the same names).
        """
        ranges: dict[int, float] = {}

        def stepped(step: Step) -> None:
            info = step.info or {}
            if "sure" in info and step.x is not None:
                key = id(step.x)
                ranges.setdefault(key, signal_range(step.x))
                values = fixed | (as_controls or dict)(info["params"])
                self.show_estimate(info["sure"], ranges[key], context=context, values=values,
                                   default_axis=default_axis, note="tuning")  # fmt: skip

        self.host.say("auto-tuning (no clean image needed)...")
        return self.host.start(work, on_done=done, on_step=stepped)


def set_value(widget, value) -> None:
    """Set a parameter control to ``value`` without emitting ``changed`` (no live re-run).

    A float spin box gets the decimals that keep four significant digits.
    """
    target = getattr(widget, "number", widget)  # an AutoFloat's number
    if isinstance(target, FloatSpinBox) and isinstance(value, float) and value:
        digits = max(0, 3 - int(np.floor(np.log10(abs(value)))))
        if hasattr(target.native, "setDecimals") and target.native.decimals() < digits:
            target.native.setDecimals(digits)
    with widget.changed.blocked():
        widget.value = value
