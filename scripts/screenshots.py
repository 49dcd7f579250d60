"""A screenshot of each user journey's key moment, for the docs (issue 15).

    xvfb-run -a -s "-screen 0 1400x900x24" python scripts/screenshots.py [--out docs/screenshots]
        [--only restore ...]

Plays the journeys of ``tests/journeys.py`` in a real napari window (1280x800)
and writes ``<out>/<moment>.png`` (the whole window) at each key moment.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import napari

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from journeys import JOURNEYS, Player, wait_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--only", nargs="*", default=list(JOURNEYS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        viewer = napari.Viewer(title=f"napari-tweedie: {name}")
        viewer.window._qt_window.resize(1280, 800)

        def snap(moment: str, viewer=viewer, name=name) -> None:
            wait_until(lambda: True, 1)
            end = time.monotonic() + 0.3  # let the canvas draw
            wait_until(lambda: time.monotonic() > end, 2)
            path = args.out / f"{moment}.png"
            viewer.screenshot(str(path), canvas_only=False)
            print(f"{name}: {path}", flush=True)

        with tempfile.TemporaryDirectory() as folder:
            JOURNEYS[name](Player(viewer, wait_until, Path(folder), snap))
        viewer.close()


if __name__ == "__main__":
    main()
