"""Channels and volumes on the command line and in recipes (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
from shape_fakes import register_fakes

import napari_tweedie as nt
from napari_tweedie.cli import main
from napari_tweedie.recipes import denoise_recipe, load_recipe, recipe_arguments, save_recipe


@pytest.fixture
def fakes(monkeypatch) -> list:
    return register_fakes(monkeypatch)


def test_rgb_png_round_trip_with_channel_axis(tmp_path, clean_image, rng):
    import imageio.v3 as iio

    rgb = np.stack([clean_image, clean_image[::-1], clean_image.T], axis=-1)
    noisy = np.clip((rgb + 0.08 * rng.standard_normal(rgb.shape)) * 255, 0, 255).astype(np.uint8)
    source, out = tmp_path / "rgb.png", tmp_path / "out.png"
    iio.imwrite(source, noisy)
    argv = ["denoise", str(source), str(out), "--method", "gaussian", "--quiet"]
    assert main(argv + ["--channel-axis", "-1"]) == 0
    result = iio.imread(out)
    assert result.shape == noisy.shape and result.dtype == np.uint8
    expected = nt.denoise(noisy, "gaussian", channel_axis=-1)
    assert np.abs(result.astype(np.float32) - expected).max() <= 1.0  # rounded to uint8
    error = lambda image: np.mean((image / 255.0 - rgb) ** 2)  # noqa: E731
    assert error(result.astype(np.float32)) < 0.5 * error(noisy.astype(np.float32))


def test_volume_with_channels_and_spacing_round_trip(tmp_path, fakes, rng):
    image = rng.random((2, 12, 24, 24)).astype(np.float32)  # (C, Z, Y, X)
    source, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(source, image)
    argv = ["denoise", str(source), str(out), "--method", "fake_gauss3d", "--quiet"]
    argv += ["--channel-axis", "0", "--volumetric", "--spacing", "2,1,1", "--sigma", "0.1,0.2"]
    assert main(argv + ["--tile", "16"]) == 0
    options = {"channel_axis": 0, "volumetric": True, "spacing": (2, 1, 1), "sigma": [0.1, 0.2]}
    expected = nt.denoise(image, "fake_gauss3d", **options)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-5)
    assert {spacing for *_, spacing in fakes} == {(2.0, 1.0, 1.0)}


def test_recipe_records_and_replays_the_shape_options(tmp_path, fakes, rng):
    image = rng.random((10, 20, 20, 3)).astype(np.float32)  # (Z, Y, X, C)
    options = {"channel_axis": -1, "volumetric": True, "spacing": (0.5, 1.0, 1.0)}
    recipe = save_recipe(denoise_recipe("fake_gauss3d", sigma=0.1, **options), tmp_path / "r.json")
    loaded = load_recipe(recipe)
    assert loaded["channel_axis"] == -1 and loaded["volumetric"] is True
    assert loaded["spacing"] == [0.5, 1.0, 1.0]
    argv = recipe_arguments(loaded, "in.npy", "out.npy")
    assert "--volumetric" in argv and argv[argv.index("--spacing") + 1] == "0.5,1.0,1.0"
    source, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(source, image)
    assert main(["run", str(recipe), str(source), str(out), "--quiet"]) == 0
    expected = nt.denoise(image, "fake_gauss3d", sigma=0.1, **options)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-5)


def test_old_recipes_without_shape_options_still_replay():
    recipe = {"napari_tweedie_recipe": 1, "command": "denoise", "method": "tv", "sigma": 0.1}
    argv = recipe_arguments(recipe, "a.npy", "b.npy")
    assert not {"--channel-axis", "--volumetric", "--spacing"} & set(argv)


def test_volumetric_on_a_flat_method_and_bad_spacing_exit_2(tmp_path, fakes, rng, capsys):
    source = tmp_path / "in.npy"
    np.save(source, rng.random((8, 16, 16)).astype(np.float32))
    argv = ["denoise", str(source), str(tmp_path / "o.npy"), "--quiet", "--volumetric"]
    assert main(argv + ["--method", "fake_flat"]) == 2
    assert "fake_gauss3d" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(argv + ["--method", "fake_gauss3d", "--spacing", "1,-1,1"])


def test_tune_and_sure_with_a_channel_axis(tmp_path, clean_image, rng, capsys):
    image = np.stack([clean_image, clean_image.T], axis=0)  # (C, Y, X)
    image = image + np.array([0.05, 0.15])[:, None, None] * rng.standard_normal(image.shape)
    source, out = tmp_path / "in.npy", tmp_path / "out.npy"
    np.save(source, image.astype(np.float32))
    argv = ["denoise", str(source), str(out), "--method", "gaussian", "--quiet"]
    assert main(argv + ["--channel-axis", "0", "--tune", "--sure"]) == 0
    printed = capsys.readouterr().out
    assert "tuned gaussian: sigma_spatial=" in printed and "SURE MSE" in printed
    assert np.load(out).shape == image.shape
