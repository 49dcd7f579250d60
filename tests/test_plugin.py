"""The npe2 manifest and the sample-data contributions."""

from __future__ import annotations

import npe2
import numpy as np
import pytest

SAMPLE_KEYS = ["ct_low_dose", "nuclei_2d", "nuclei_3d", "mri_slice", "hubble"]


def test_manifest_validates_and_all_commands_import():
    manifest = npe2.PluginManifest.from_distribution("napari-tweedie")
    assert manifest.name == "napari-tweedie"
    for command in manifest.contributions.commands:
        module, _, attribute = command.python_name.partition(":")
        assert callable(getattr(__import__(module, fromlist=[attribute]), attribute))
    assert sorted(s.key for s in manifest.contributions.sample_data) == sorted(SAMPLE_KEYS)


def test_core_does_not_import_napari_or_qt():
    import subprocess
    import sys

    code = (
        "import sys, napari_tweedie, napari_tweedie.cli, napari_tweedie.data, "
        "napari_tweedie._sample_data;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('napari', 'qtpy', 'PyQt6', 'PyQt5', 'PySide6', 'magicgui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("key", SAMPLE_KEYS)
def test_sample_data_opens_in_viewer(make_napari_viewer, key):
    viewer = make_napari_viewer()
    layers = viewer.open_sample("napari-tweedie", key)
    assert layers and layers[0].data.size > 0
    assert layers[0].visible


def test_widget_docks_from_the_manifest(make_napari_viewer):
    viewer = make_napari_viewer()
    from napari_tweedie._widgets.denoise import DenoiseWidget

    _, widget = viewer.window.add_plugin_dock_widget("napari-tweedie", "Denoise")
    assert isinstance(widget, DenoiseWidget)
    viewer.add_image(np.zeros((8, 8), np.float32), name="fresh")
    assert "fresh" in widget.layer.choices  # it follows this viewer's layers
