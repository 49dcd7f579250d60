"""The "Export to bioimage.io..." button of the fitted-model panels writes a package that runs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("bioimageio.core")
torch = pytest.importorskip("torch")


def test_export_button_writes_a_package_in_the_background(qtbot, make_napari_viewer, tmp_path):
    from napari_tweedie._widgets.export import TEXT, export_model
    from napari_tweedie._widgets.zs_n2n import ZSN2NWidget
    from napari_tweedie.bioimageio.runner import BioimageioModel
    from napari_tweedie.denoisers.zs_n2n.fit import fit_zs_n2n
    from napari_tweedie.steps import run

    noisy = (0.5 + 0.1 * np.random.default_rng(0).standard_normal((80, 80))).astype(np.float32)
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy")
    widget = ZSN2NWidget(viewer)
    widget.layer.value = "noisy"
    panel = widget.panel
    assert panel.export_button.text == TEXT and not panel.export_button.enabled
    assert export_model(panel, tmp_path / "none.zip") is None  # no model yet
    assert "fit or load a model first" in widget.status.value

    model = run(fit_zs_n2n(noisy, iterations=3, crop=32, patience=0))
    panel.set_model(model)
    assert panel.export_button.enabled
    job = export_model(panel, tmp_path / "exported")  # .zip is added
    assert job is not None, widget.status.value
    qtbot.waitUntil(lambda: not job.running, timeout=180_000)
    path = tmp_path / "exported.zip"
    assert f"exported {path}" in widget.status.value
    package = BioimageioModel(path)
    np.testing.assert_allclose(package(noisy[:48, :48]), model.apply(noisy[:48, :48]), atol=1e-4)


def test_restore_widget_offers_a_bioimageio_package_as_prior(make_napari_viewer, tmp_path):
    from napari_tweedie._widgets.prior_choice import PACKAGE
    from napari_tweedie._widgets.restore import RestoreWidget

    widget = RestoreWidget(make_napari_viewer())
    choice = widget.prior_choice
    assert PACKAGE in choice.combo.choices and "bioimageio" not in choice.combo.choices
    assert choice.value == "default" and choice.package.native.isHidden()
    choice.combo.value = PACKAGE
    choice.package.value = tmp_path / "denoiser.zip"
    assert not choice.package.native.isHidden()
    assert choice.value == f"bioimageio:{tmp_path / 'denoiser.zip'}"
