"""Screenshot of the Denoise widget's quality panel: estimated PSNR, its curve, Auto-tune.

Opens napari with a noisy camera image (skimage), docks the Denoise widget,
runs TV on a rectangle, moves the weight a few times, runs Auto-tune, and
saves ``viewer.screenshot(canvas_only=False)`` to the path given (default
``docs/screenshots/denoise_sure.png``).  Run it under Xvfb where there is no
display::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshot_sure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari
import numpy as np
import skimage.data
from demo import wait_for  # scripts/ is on sys.path when run as a script


def run_and_wait(widget, job) -> None:
    if job is None or not wait_for(lambda: not job.running, timeout=120.0):
        raise SystemExit(f"the job did not finish: {widget.status.value}")
    wait_for(lambda: False, timeout=0.3)  # let the last callbacks paint


def main(path: str = "docs/screenshots/denoise_sure.png") -> int:
    clean = skimage.data.camera().astype(np.float32) / 255
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape).astype(np.float32)
    viewer = napari.Viewer(title="napari-tweedie: tuning without a clean image")
    viewer.window._qt_window.resize(1600, 1000)
    viewer.add_image(noisy, name="noisy camera")
    viewer.add_shapes([[[150, 150], [406, 406]]], shape_type="rectangle", name="ROI",
                      edge_color="yellow", face_color="transparent", edge_width=3)  # fmt: skip
    _, widget = viewer.window.add_plugin_dock_widget("napari-tweedie", "Denoise")
    widget.layer.value, widget.method.value = "noisy camera", "tv"
    widget.scope.value = "Shapes rectangle"
    widget.quality.sure_map.value = True
    run_and_wait(widget, widget.run())
    weight = widget.params["weight"]
    for value in (0.02, 0.05, 0.15, 0.3):
        weight.value = value
        run_and_wait(widget, widget.run())
    run_and_wait(widget, widget.quality.auto_tune())
    run_and_wait(widget, widget.job)  # the run Auto-tune starts with the tuned value
    viewer.layers["noisy camera [tv, SURE map]"].visible = False
    viewer.layers.selection.active = viewer.layers["noisy camera [tv]"]
    viewer.reset_view()
    wait_for(lambda: False, timeout=0.5)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(out), canvas_only=False)
    result = viewer.layers["noisy camera [tv]"].data
    truth = clean[150:406, 150:406]
    psnr = 10 * np.log10(np.ptp(truth) ** 2 / np.mean((result - truth) ** 2))
    sys.stdout.write(f"{out}\n{widget.quality.estimate.value}\n{widget.quality.note.value}\n"
                     f"true PSNR (clean range): {psnr:.2f} dB\n")  # fmt: skip
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
