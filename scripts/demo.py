"""Open napari with the sample data and the plugin's widgets (Denoise in front, the others tabbed).

With ``--screenshot PATH`` (what ``make demo`` uses when there is no display)
it draws a rectangle, denoises it, saves a screenshot of the whole window,
prints the path and exits 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication


def wait_for(condition, timeout: float = 60.0) -> bool:
    """Process Qt events until ``condition()`` holds or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return False


def build_viewer() -> tuple[napari.Viewer, object]:
    """napari with the CT sample and the plugin's one tabbed dock, Denoise in front."""
    viewer = napari.Viewer(title="napari-tweedie demo")
    viewer.open_sample("napari-tweedie", "ct_low_dose")
    _, tools = viewer.window.add_plugin_dock_widget("napari-tweedie", "All tools")
    return viewer, tools.tool("Denoise")


def denoise_a_box(viewer: napari.Viewer, widget) -> None:
    """Draw a rectangle on the sample and run the widget's default method on it."""
    image = viewer.layers[0]
    height, width = image.data.shape[-2:]
    box = [[height * 0.2, width * 0.2], [height * 0.8, width * 0.8]]
    viewer.add_shapes(
        [box],
        shape_type="rectangle",
        name="ROI",
        edge_color="yellow",
        face_color="transparent",
        edge_width=2,
    )
    widget.layer.value = image.name
    widget.scope.value = "Shapes rectangle"
    job = widget.run()
    if job is None or not wait_for(lambda: not job.running, timeout=120):
        raise RuntimeError(f"the demo denoising did not finish: {widget.status.value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    viewer, widget = build_viewer()
    if args.screenshot is None:
        napari.run()
        return 0
    viewer.window._qt_window.resize(1500, 950)
    wait_for(lambda: False, timeout=0.5)
    viewer.reset_view()
    denoise_a_box(viewer, widget)
    wait_for(lambda: False, timeout=1.0)
    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(args.screenshot), canvas_only=False)
    viewer.close()
    print(f"demo screenshot: {args.screenshot.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
