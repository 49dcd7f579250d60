"""A tiny dependency-free plot (QPainter): lines and dots on linear or log axes, with numbers.

The axes show their end values (in data units, also on log axes) and their
names; series with a ``label`` get a legend entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

MARGIN = 6.0
LEFT, BOTTOM = 52.0, 30.0  # room for the axis numbers and names
DOT_RADIUS = 2.5


@dataclass(frozen=True)
class Series:
    """One thing to draw: ``y`` against ``x`` as a line or as dots, in a colour."""

    x: np.ndarray
    y: np.ndarray
    color: str = "#f0f0f0"
    dots: bool = False
    label: str = ""


class MiniPlot(QWidget):
    """A small plot of a few :class:`Series`; axes fit the data, optionally logarithmic.

    Parameters
    ----------
    title : str
        Drawn in the top-left corner (e.g. the axes' meaning).
    logx, logy : bool
        Logarithmic axes (non-positive values are left out).
    height : int
        Fixed height in pixels.
    """

    def __init__(
        self,
        title: str = "",
        *,
        logx=False,
        logy=False,
        height: int = 150,
        xlabel: str = "",
        ylabel: str = "",
    ) -> None:
        super().__init__()
        self.title, self.logx, self.logy = title, logx, logy
        self.xlabel, self.ylabel = xlabel, ylabel
        self.series: list[Series] = []
        self.setMinimumHeight(height)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_series(self, series: list[Series]) -> None:
        """Replace what is drawn and repaint."""
        self.series = [self._finite(s) for s in series]
        self.update()

    def _finite(self, s: Series) -> Series:
        x, y = np.asarray(s.x, np.float64).ravel(), np.asarray(s.y, np.float64).ravel()
        keep = np.isfinite(x) & np.isfinite(y)
        keep &= (x > 0) if self.logx else True
        keep &= (y > 0) if self.logy else True
        x, y = x[keep], y[keep]
        x = np.log10(x) if self.logx else x
        y = np.log10(y) if self.logy else y
        return Series(x, y, color=s.color, dots=s.dots, label=s.label)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """``(x0, x1, y0, y1)`` of all series (transformed), padded when degenerate."""
        xs = [s.x for s in self.series if s.x.size]
        ys = [s.y for s in self.series if s.y.size]
        if not xs:
            return None
        x, y = np.concatenate(xs), np.concatenate(ys)
        x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
        pad_x = (x1 - x0) * 0.05 or abs(x0) * 0.1 or 1.0
        pad_y = (y1 - y0) * 0.05 or abs(y0) * 0.1 or 1.0
        return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y

    def paintEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area = QRectF(self.rect()).adjusted(LEFT, MARGIN, -MARGIN, -BOTTOM)
        painter.setPen(QPen(QColor("#808080")))
        painter.drawRect(area)
        self.draw_title(painter, area.adjusted(4, 2, -4, 0))
        limits = self.bounds()
        if limits is not None:
            for s in self.series:
                self._draw(painter, area, limits, s)
            self._axes(painter, area, limits)
            self._legend(painter, area)
        painter.end()

    def draw_title(self, painter: QPainter, box: QRectF) -> None:
        """The title at the top left of ``box``, elided to its width (whole in the tooltip)."""
        title = painter.fontMetrics().elidedText(
            self.title, Qt.TextElideMode.ElideRight, int(box.width())
        )
        painter.drawText(box, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, title)
        if self.toolTip() != self.title:
            self.setToolTip(self.title)

    def _number(self, value: float, log: bool) -> str:
        return f"{10**value if log else value:.3g}"

    def _axes(self, painter: QPainter, area: QRectF, limits) -> None:
        """End values of both axes (data units) and the axes' names."""
        x0, x1, y0, y1 = limits
        painter.setPen(QPen(QColor("#c0c0c0")))
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        below = QRectF(area.left(), area.bottom() + 2, area.width(), 14)
        painter.drawText(below, left, self._number(x0, self.logx))
        painter.drawText(below, right, self._number(x1, self.logx))
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        painter.drawText(below.translated(0, 13), centre, self.xlabel)
        side = QRectF(0, area.top(), LEFT - 4, area.height())
        top = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        bottom = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom
        painter.drawText(side, top, self._number(y1, self.logy))
        painter.drawText(side, bottom, self._number(y0, self.logy))
        middle = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(side, middle, self.ylabel)

    def _legend(self, painter: QPainter, area: QRectF) -> None:
        """A colour swatch and the label of each labelled series, top right."""
        labelled = [s for s in self.series if s.label]
        metrics = painter.fontMetrics()
        text_width = max((metrics.horizontalAdvance(s.label) for s in labelled), default=0)
        left = area.right() - 4 - text_width  # the longest label ends inside the plot
        for row, s in enumerate(labelled):
            y = area.top() + 28 + 14 * row  # under the title
            color = QColor(s.color)
            painter.setPen(QPen(color, 2))
            painter.drawLine(QPointF(left - 20, y), QPointF(left - 6, y))
            painter.setPen(QPen(QColor("#e0e0e0")))
            painter.drawText(QPointF(left, y + 4), s.label)

    def _draw(self, painter: QPainter, area: QRectF, limits, s: Series) -> None:
        x0, x1, y0, y1 = limits
        px = area.left() + (s.x - x0) / (x1 - x0) * area.width()
        py = area.bottom() - (s.y - y0) / (y1 - y0) * area.height()
        points = [QPointF(float(a), float(b)) for a, b in zip(px, py)]
        color = QColor(s.color)
        painter.setPen(QPen(color, 1.5))
        if s.dots:
            painter.setBrush(color)
            for point in points:
                painter.drawEllipse(point, DOT_RADIUS, DOT_RADIUS)
        elif len(points) > 1:
            painter.drawPolyline(points)
