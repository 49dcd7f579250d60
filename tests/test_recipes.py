"""Recipes: saved from the Denoise widget, replayed by ``napari-tweedie run`` on whole files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import napari_tweedie as nt
from napari_tweedie.cli import main
from napari_tweedie.recipes import denoise_recipe, load_recipe, recipe_arguments, save_recipe


def test_replayed_recipe_equals_the_command_line_and_the_api(tmp_path, noisy_pair):
    _, noisy, sigma = noisy_pair
    source = tmp_path / "noisy.npy"
    np.save(source, noisy)
    recipe = save_recipe(
        denoise_recipe("tv", sigma=sigma, seed=3, weight=0.08), tmp_path / "r.json"
    )
    assert main(["run", str(recipe), str(source), str(tmp_path / "a.npy"), "--quiet"]) == 0
    argv = ["denoise", str(source), str(tmp_path / "b.npy"), "--method", "tv",
            "--sigma", str(sigma), "--seed", "3", "--set", "weight=0.08", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    replayed, direct = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    np.testing.assert_array_equal(replayed, direct)
    expected = nt.denoise(noisy, "tv", sigma=sigma, seed=3, weight=0.08)
    np.testing.assert_allclose(replayed, expected, atol=1e-6)
    assert not np.allclose(replayed, nt.denoise(noisy, "tv", sigma=sigma, weight=0.3))


def test_restore_recipe_becomes_restore_arguments():
    params = {"mask": "m.npy", "sigma_y": 0.01}
    recipe = {"napari_tweedie_recipe": 1, "command": "restore", "operator": "inpaint",
              "sampler": "dds", "steps": 20, "params": params}  # fmt: skip
    argv = recipe_arguments(recipe, "in.npy", "out.npy")
    assert argv[:4] == ["restore", "in.npy", "out.npy", "--operator"]
    assert argv[argv.index("--steps") : argv.index("--steps") + 2] == ["--steps", "20"]
    assert "mask='m.npy'" in argv and "sigma_y=0.01" in argv


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"command": "denoise"}), "not a napari-tweedie recipe"),
        (
            json.dumps({"napari_tweedie_recipe": 1, "command": "denoise", "method": "nope"}),
            "unknown method",
        ),  # fmt: skip
        (json.dumps({"napari_tweedie_recipe": 1, "command": "paint"}), "unknown command"),
    ],
)
def test_bad_recipes_exit_2_with_one_line(tmp_path, capsys, content, message):
    recipe = tmp_path / "bad.json"
    recipe.write_text(content)
    np.save(tmp_path / "in.npy", np.zeros((8, 8), np.float32))
    code = main(["run", str(recipe), str(tmp_path / "in.npy"), str(tmp_path / "o.npy")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "\n" not in err
    assert not (tmp_path / "o.npy").exists()
    with pytest.raises(ValueError, match=message.split()[0]):
        load_recipe(recipe)


def test_denoise_widget_saves_the_recipe_it_runs(make_napari_viewer, noisy_pair, tmp_path):
    from napari_tweedie._widgets.denoise import DenoiseWidget

    _, noisy, _ = noisy_pair
    viewer = make_napari_viewer()
    viewer.add_image(noisy, name="noisy")
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "noisy", "bilateral"
    widget.sigma_auto.value, widget.sigma.value = False, 0.1
    path = widget.save_recipe(tmp_path / "recipe.json")
    recipe = load_recipe(path)
    assert recipe["method"] == "bilateral" and recipe["sigma"] == pytest.approx(0.1)
    assert recipe["params"] == {k: v for k, v in widget.settings().items()
                                if k not in ("method", "noise", "sigma", "seed")}  # fmt: skip
    assert "recipe saved" in widget.status.value


def test_replaying_a_widget_recipe_gives_the_widget_whole_layer_result(
    qtbot, make_napari_viewer, tmp_path
):
    from napari_tweedie._widgets.denoise import DenoiseWidget

    rng = np.random.default_rng(0)
    # larger than one tile, so that the tiling must match too; wavelet is not local
    image = (0.5 + 0.1 * rng.standard_normal((600, 560))).astype(np.float32)
    source = tmp_path / "in.npy"
    np.save(source, image)
    viewer = make_napari_viewer()
    viewer.add_image(image, name="noisy")
    widget = DenoiseWidget(viewer)
    widget.layer.value, widget.method.value = "noisy", "wavelet"
    widget.output.value = tmp_path / "widget.zarr"
    job = widget.apply_to_whole_layer()
    qtbot.waitUntil(lambda: not job.running, timeout=60_000)
    from_widget = np.asarray(viewer.layers["noisy [wavelet, whole]"].data)
    recipe = widget.save_recipe(tmp_path / "recipe.json")
    out = tmp_path / "replayed.npy"
    assert main(["run", str(recipe), str(source), str(out), "--quiet"]) == 0
    np.testing.assert_allclose(np.load(out), from_widget, atol=1e-6)


def test_a_recipe_finds_its_files_next_to_it(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    np.save(folder / "m.npy", np.ones((4, 4), np.float32))
    recipe = {"napari_tweedie_recipe": 1, "command": "restore", "operator": "inpaint",
              "params": {"mask": "m.npy", "sigma_y": 0.01}}  # fmt: skip
    save_recipe(recipe, folder / "r.json")
    monkeypatch.chdir(tmp_path)  # the command runs from elsewhere
    assert load_recipe(folder / "r.json")["params"]["mask"] == str(folder / "m.npy")
