"""Tests of the bundled sample data (no GUI, no napari import)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tweedie import _sample_data as sd

#: name -> (shape, PSNR range in dB of noisy vs clean over the clean data range)
EXPECTED = {
    "ct_low_dose": ((256, 256), (27.0, 38.0)),
    "nuclei_2d": ((512, 512), (19.0, 28.0)),
    "nuclei_3d": ((31, 61, 57), (14.0, 24.0)),
    "mri_slice": ((256, 256), (20.0, 29.0)),
    "hubble": ((512, 512), (25.0, 34.0)),
}
HOOKS = {
    "ct_low_dose": sd.ct_low_dose,
    "nuclei_2d": sd.nuclei_2d,
    "nuclei_3d": sd.nuclei_3d,
    "mri_slice": sd.mri_slice,
    "hubble": sd.hubble,
}


def psnr(noisy: np.ndarray, clean: np.ndarray) -> float:
    """PSNR in dB using the clean image's value range as the peak."""
    data_range = float(clean.max() - clean.min())
    mse = float(np.mean((noisy.astype(np.float64) - clean) ** 2))
    return 10.0 * np.log10(data_range**2 / mse)


def test_samples_tuple_matches_hooks():
    assert set(sd.SAMPLES) == set(EXPECTED) == set(HOOKS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_sample_shape_dtype_finite(name):
    sample = sd.load_sample(name)
    shape, _ = EXPECTED[name]
    for key in ("noisy", "clean"):
        image = sample[key]
        assert isinstance(image, np.ndarray)
        assert image.shape == shape
        assert image.dtype == np.float32
        assert np.isfinite(image).all()
    assert sample["metadata"]["shape"] == list(shape)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_noise_level_plausible(name):
    sample = sd.load_sample(name)
    noisy, clean = sample["noisy"], sample["clean"]
    assert not np.array_equal(noisy, clean)
    low, high = EXPECTED[name][1]
    value = psnr(noisy, clean)
    assert low < value < high
    assert value == pytest.approx(sample["metadata"]["psnr_db"], abs=0.01)


@pytest.mark.parametrize("name", ["nuclei_2d", "nuclei_3d", "mri_slice", "hubble"])
def test_normalised_clean_in_unit_range(name):
    clean = sd.load_sample(name)["clean"]
    assert clean.min() >= 0.0
    assert clean.max() <= 1.0
    assert clean.max() > 0.9


@pytest.mark.parametrize("name", ["nuclei_2d", "nuclei_3d", "hubble"])
def test_poisson_gaussian_variance_matches_parameters(name):
    sample = sd.load_sample(name)
    meta = sample["metadata"]
    assert meta["noise"] == "poisson_gaussian"
    clean = sample["clean"].astype(np.float64)
    residual = sample["noisy"] - clean
    # E[(y - x)^2] = zeta * x + sigma^2, averaged over the image.
    expected = meta["zeta"] * clean.mean() + meta["sigma"] ** 2
    assert residual.var() == pytest.approx(expected, rel=0.1)


def test_mri_rician_background():
    sample = sd.load_sample("mri_slice")
    sigma = sample["metadata"]["sigma"]
    background = sample["noisy"][sample["clean"] == 0]
    assert background.size > 1000
    assert background.min() >= 0.0
    # Rayleigh distribution: mean = sigma * sqrt(pi / 2).
    assert background.mean() == pytest.approx(sigma * np.sqrt(np.pi / 2), rel=0.05)


def test_ct_in_hounsfield_units():
    sample = sd.load_sample("ct_low_dose")
    clean = sample["clean"]
    assert sample["metadata"]["units"] == "HU"
    assert -1100 < np.percentile(clean, 1) < -500  # air around the patient
    assert np.percentile(clean, 99) > 300  # bone
    noise = sample["noisy"] - clean
    assert 20.0 < noise.std() < 120.0


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_layer_data(name):
    layers = HOOKS[name]()
    assert len(layers) == 2
    (noisy, noisy_kw, noisy_type), (clean, clean_kw, clean_type) = layers
    assert noisy_type == clean_type == "image"
    assert noisy.shape == clean.shape == EXPECTED[name][0]
    assert noisy_kw.get("visible", True) is True
    assert clean_kw["visible"] is False
    assert clean_kw["name"].endswith(" (clean)")
    assert noisy_kw["name"] != clean_kw["name"]
    assert noisy_kw["metadata"]["clean_layer"] == clean_kw["name"]
    assert noisy_kw["metadata"]["noise"] in {"poisson_gaussian", "rician", "ct_poisson_fbp"}
    assert "source" in noisy_kw["metadata"]
    assert "licence" in noisy_kw["metadata"]


def test_unknown_sample_rejected():
    with pytest.raises(ValueError, match="unknown sample"):
        sd.load_sample("nope")


def test_module_has_no_gui_imports():
    with open(sd.__file__, encoding="utf-8") as fh:
        imports = [line.split()[1] for line in fh if line.startswith(("import ", "from "))]
    roots = {name.split(".")[0] for name in imports}
    assert not roots & {"napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui"}
