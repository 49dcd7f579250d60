"""The user journeys of ``journeys.py`` in a real, shown napari window (Xvfb): issue 15.

Each journey asserts as it goes that its jobs end with a full progress bar,
that each layer exists once (no ``"name [1]"``, no leftover live layer) and
what its use case produces; here the viewer must still be alive afterwards,
and Restore's live estimate must have its contrast limits follow its data.
"""

from __future__ import annotations

import numpy as np
import pytest
from journeys import JOURNEYS, Player


@pytest.mark.parametrize("name", list(JOURNEYS))
def test_journey(name, make_napari_viewer, qtbot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1280, 800)

    def wait(condition, timeout_s):
        qtbot.waitUntil(condition, timeout=int(timeout_s * 1000))

    player = Player(viewer, wait, tmp_path)
    checks = JOURNEYS[name](player)
    qtbot.wait(100)
    assert viewer.window._qt_window.isVisible() and len(viewer.layers) > 0  # alive
    for shown, (low, high) in checks.get("contrast", [])[1:]:
        assert shown[0] == pytest.approx(low, abs=0.05 * (high - low) + 1e-6)
        assert shown[1] == pytest.approx(high, abs=0.05 * (high - low) + 1e-6)
    if name == "denoise_sure":  # an estimate per run, distinct as the weight moves; tuned
        assert all("dB" in e for e in checks["estimates"]), checks["estimates"]
        assert len(set(checks["estimates"])) == len(checks["estimates"])
        assert checks["points"] > 5 and checks["weight"] not in (0.02, 0.05, 0.15, 0.3)
    if name == "restore":
        # updates of the live layer once it is in (it is added a turn after the first one)
        assert len(checks["contrast"]) > 3
        assert len({np.round(shown, 3).tobytes() for shown, _ in checks["contrast"]}) > 2
