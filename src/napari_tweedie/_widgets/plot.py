"""A tiny dependency-free plot (QPainter): lines and dots on linear or log axes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QPainter, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

MARGIN = 6.0
DOT_RADIUS = 2.5


@dataclass(frozen=True)
class Series:
    """One thing to draw: ``y`` against ``x`` as a line or as dots, in a colour."""

    x: np.ndarray
    y: np.ndarray
    color: str = "#f0f0f0"
    dots: bool = False


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

    def __init__(self, title: str = "", *, logx=False, logy=False, height: int = 120) -> None:
        super().__init__()
        self.title, self.logx, self.logy = title, logx, logy
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
        return Series(x, y, color=s.color, dots=s.dots)

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
        area = QRectF(self.rect()).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        painter.setPen(QPen(QColor("#808080")))
        painter.drawRect(area)
        painter.drawText(area.adjusted(4, 2, 0, 0), Qt.AlignmentFlag.AlignLeft, self.title)
        limits = self.bounds()
        if limits is not None:
            for s in self.series:
                self._draw(painter, area, limits, s)
        painter.end()

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
