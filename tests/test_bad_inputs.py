"""Reliability over bad inputs and faults (issue 18): no crash, hang, data loss or silent garbage.

Each case asserts a clear ``ValueError``/``TypeError`` (or a one-line CLI error
with a non-zero exit, the input untouched and nothing left at the output) or a
finite result of the right shape.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from napari_tweedie.cli import main

# -- outputs: the writer replaces only its own kind of output (item 1) ---------------------


def _user_directory(path):
    path.mkdir()
    (path / "thesis.docx").write_bytes(b"my work")
    (path / "sub").mkdir()
    (path / "sub" / "data.csv").write_text("1,2,3")
    return path


def _tree(path):
    return sorted(
        (p.relative_to(path).as_posix(), p.read_bytes() if p.is_file() else None)
        for p in path.rglob("*")
    )


@pytest.mark.parametrize("name", ["results.tif", "results.zarr", "results.npy"])
def test_cli_refuses_to_replace_an_ordinary_directory(tmp_path, capsys, name):
    source = tmp_path / "in.npy"
    np.save(source, np.zeros((16, 16), np.float32))
    target = _user_directory(tmp_path / name)
    before = _tree(target)
    code = main(["denoise", str(source), str(target), "--method", "gaussian", "--quiet"])
    err = capsys.readouterr().err
    assert code != 0
    assert "refusing to replace" in err and len(err.strip().splitlines()) == 1
    assert _tree(target) == before
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize("name", ["results.tif", "results.zarr"])
def test_api_refuses_to_replace_an_ordinary_directory(tmp_path, name):
    from napari_tweedie.data import store_atomic

    target = _user_directory(tmp_path / name)
    before = _tree(target)
    with pytest.raises(ValueError, match="refusing to replace"):
        store_atomic(np.zeros((8, 8), np.float32), target)
    assert _tree(target) == before


def test_a_file_of_another_kind_is_refused_and_own_outputs_are_replaced(tmp_path):
    from napari_tweedie.data import open_array, store_atomic

    text = tmp_path / "notes.tif"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="not a .tif file"):
        store_atomic(np.zeros((8, 8), np.float32), text)
    assert text.read_text() == "not an image"
    for name in ("out.tif", "out.npy", "out.zarr", "pyr.zarr"):
        levels = 2 if name == "pyr.zarr" else 1
        for value in (1.0, 2.0):  # the second write replaces the first
            store_atomic(np.full((16, 16), value, np.float32), tmp_path / name, levels=levels)
        assert float(open_array(tmp_path / name).compute().mean()) == 2.0
    (tmp_path / "file.zarr").write_bytes(b"\x93NUMPY")
    with pytest.raises(ValueError, match="refusing to replace the file"):
        store_atomic(np.zeros((8, 8), np.float32), tmp_path / "file.zarr")


def test_stale_temporary_stores_of_dead_writers_are_removed(tmp_path):
    from napari_tweedie.data import store_atomic

    dead = tmp_path / ".out.zarr.tmp-999999999-0123abcd"  # no such process
    dead.mkdir()
    (dead / "zarr.json").write_text("{}")
    old = tmp_path / ".out.zarr.tmp-89abcdef"  # the old naming, a day old
    old.mkdir()
    os.utime(old, (0, 0))
    mine = tmp_path / f".out.zarr.tmp-{os.getpid()}-00000000"  # a live writer's
    mine.mkdir()
    other = tmp_path / ".other.zarr.tmp-999999999-0123abcd"  # another target's
    other.mkdir()
    store_atomic(np.zeros((8, 8), np.float32), tmp_path / "out.zarr")
    assert not dead.exists() and not old.exists()
    assert mine.exists() and other.exists()


def test_models_are_saved_atomically(tmp_path, monkeypatch):
    import safetensors.torch

    from napari_tweedie.denoisers.filter2noise import fit_filter2noise
    from napari_tweedie.steps import run

    image = np.random.default_rng(0).random((32, 32), np.float32)
    model = run(fit_filter2noise(image, iterations=1, crop=32))
    model.save(tmp_path / "m")
    before = (tmp_path / "m.safetensors").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m")
    assert (tmp_path / "m.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]


# -- BM3D from several threads (item 2) ------------------------------------------------------


@pytest.fixture
def needs_bm3d():
    """Skips a test when the optional ``bm3d`` package is absent (it is in the testing extra)."""
    pytest.importorskip("bm3d")


def test_bm3d_from_four_threads_and_threaded_tiles(needs_bm3d):
    from concurrent.futures import ThreadPoolExecutor

    import napari_tweedie as nt

    rng = np.random.default_rng(0)
    image = rng.random((32, 32), np.float32)
    one = nt.denoise(image, "bm3d", sigma=0.1)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: nt.denoise(image, "bm3d", sigma=0.1), range(4)))
    for result in results:
        np.testing.assert_array_equal(result, one)  # no crash, and the same bits
    stack = rng.random((2, 96, 96), np.float32)
    lazy = nt.denoise_lazy(stack, "bm3d", sigma=0.1, tile=64, overlap=8)
    tiled = lazy.compute(scheduler="threads", num_workers=4)
    assert tiled.shape == stack.shape and np.isfinite(tiled).all()


# -- the command line: one line, non-zero exit, input untouched, nothing written (items 3, 4) -


def _npy(tmp_path, array, name="in.npy"):
    path = tmp_path / name
    np.save(path, array)
    return path


def _truncated_npy(tmp_path):
    path = _npy(tmp_path, np.zeros((32, 32), np.float32))
    path.write_bytes(path.read_bytes()[:200])
    return path


def _empty_npy(tmp_path):
    path = tmp_path / "in.npy"
    path.write_bytes(b"")
    return path


def _fake_tiff(tmp_path):
    path = tmp_path / "in.tif"
    path.write_bytes(b"II*\x00" + b"\xff" * 60)
    return path


def _corrupt_zarr_chunk(tmp_path):
    import zarr

    path = tmp_path / "in.zarr"
    array = zarr.create_array(str(path), shape=(32, 32), chunks=(16, 16), dtype="f4")
    array[:] = 1.0
    chunk = next(p for p in (path / "c").rglob("*") if p.is_file())
    chunk.write_bytes(b"garbage" * 5)
    return path


def _huge_zarr(tmp_path):
    import zarr

    path = tmp_path / "in.zarr"
    zarr.create_array(str(path), shape=(10**6, 10**6), chunks=(512, 512), dtype="f4")
    return path


def _nested_recipe(tmp_path):
    path = tmp_path / "recipe.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def _huge_recipe(tmp_path):
    import json

    params = {f"p{i}": i for i in range(300_000)}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps({"napari_tweedie_recipe": 1, "command": "denoise",
                                "method": "gaussian", "params": params}))  # fmt: skip
    return path


def _image(tmp_path):
    return _npy(tmp_path, np.random.default_rng(0).random((32, 32), np.float32))


DENOISE = ["--method", "gaussian", "--quiet"]
CLI_CASES = {
    "empty npy": (_empty_npy, DENOISE),
    "truncated npy": (_truncated_npy, DENOISE),
    "fake tiff header": (_fake_tiff, DENOISE),
    "corrupt zarr chunk": (_corrupt_zarr_chunk, DENOISE),
    "zarr claiming 1e6 x 1e6": (_huge_zarr, DENOISE),
    "0-size array": (lambda p: _npy(p, np.zeros((0, 16), np.float32)), DENOISE),
    "1-D array": (lambda p: _npy(p, np.zeros(16, np.float32)), DENOISE),
    "complex array": (lambda p: _npy(p, np.ones((16, 16), np.complex64)), DENOISE),
    "bool array": (lambda p: _npy(p, np.ones((16, 16), bool)), DENOISE),
    "datetime array": (lambda p: _npy(p, np.zeros((16, 16), "datetime64[s]")), DENOISE),
    "all-NaN array": (lambda p: _npy(p, np.full((16, 16), np.nan, np.float32)), DENOISE),
    "empty roi": (_image, DENOISE + ["--roi", "5:5,0:16"]),
    "reversed roi": (_image, DENOISE + ["--roi", "20:2,0:16"]),
    "roi outside": (_image, DENOISE + ["--roi", "100:200,0:16"]),
    "roi index out of range": (_image, DENOISE + ["--roi", "40,0:16"]),
    "roi with too many axes": (_image, DENOISE + ["--roi", "0,0:4,0:4"]),
    "negative sigma": (_image, DENOISE + ["--sigma", "-1"]),
    "NaN sigma": (_image, DENOISE + ["--sigma", "nan"]),
    "parameter out of bounds": (_image, ["--method", "tv", "--quiet", "--set", "weight=-1"]),
    "NaN parameter": (_image, ["--method", "tv", "--quiet", "--set", "weight=nan"]),
    "unknown parameter": (_image, DENOISE + ["--set", "bogus=1"]),
    "poisson on negative data": (
        lambda p: _npy(p, -1 - np.random.default_rng(0).random((32, 32), np.float32)),
        DENOISE + ["--noise", "poisson"],
    ),
    "zeta <= 0": (_image, DENOISE + ["--noise", "poisson", "--set", "zeta=-1"]),
    "k = inf": (_image, DENOISE + ["--noise", "gamma", "--set", "k=inf"]),
}


def _run_cli_case(tmp_path, capsys, command, make, tail):
    source = make(tmp_path)
    before = _tree(tmp_path)
    out = tmp_path / "out" / "result.tif"
    if command == "run":
        argv = ["run", str(source), str(_image(tmp_path.joinpath("i").mkdir() or tmp_path / "i")),
                str(out)]  # fmt: skip
        before = _tree(tmp_path)
    else:
        argv = [command, str(source), str(out), *tail]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and err.startswith("napari-tweedie: error:"), err
    assert not out.exists()
    assert _tree(tmp_path) == before  # inputs untouched, no temporary store left
    return err


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_input_matrix(tmp_path, capsys, case):
    make, tail = CLI_CASES[case]
    _run_cli_case(tmp_path, capsys, "denoise", make, tail)


RESTORE_CASES = {
    "bogus device": ["--operator", "denoise", "--set", "sigma_y=0.1", "--device", "bogus"],
    "absent cuda": ["--operator", "denoise", "--set", "sigma_y=0.1", "--device", "cuda:7"],
    "NaN sigma_y": ["--operator", "denoise", "--set", "sigma_y=nan"],
    "fractional steps": ["--operator", "denoise", "--steps", "0"],
    "zero blur width": ["--operator", "blur", "--set", "sigma_blur=0"],
    "negative step size": ["--operator", "blur", "--sampler", "red_diff", "--set", "lr=-1"],
}


@pytest.mark.parametrize("case", list(RESTORE_CASES))
def test_cli_restore_matrix(tmp_path, capsys, case):
    _run_cli_case(tmp_path, capsys, "restore", _image, RESTORE_CASES[case])


@pytest.mark.parametrize("make", [_nested_recipe, _huge_recipe], ids=["nested", "300k params"])
def test_cli_recipe_matrix(tmp_path, capsys, make):
    _run_cli_case(tmp_path, capsys, "run", make, [])


def test_cli_internal_error_is_one_line_and_debug_shows_it(tmp_path, capsys, monkeypatch):
    from napari_tweedie import api

    source = _image(tmp_path)

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(api, "denoise_lazy", bug)
    argv = ["denoise", str(source), str(tmp_path / "o.tif"), *DENOISE]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run with --debug for the traceback" in err
    with pytest.raises(ZeroDivisionError):
        main([*argv, "--debug"])


def test_cli_negative_roi_is_a_value(tmp_path, capsys):
    from napari_tweedie.data import open_array

    source = _image(tmp_path)
    out = tmp_path / "o.npy"
    assert main(["denoise", str(source), str(out), *DENOISE, "--roi", "-20:,-20:"]) == 0
    assert open_array(out).shape == (20, 20)


# -- every registry entry x bad inputs (items 3, 5, 6) ---------------------------------------

import napari_tweedie as nt  # noqa: E402

#: the least work each method can do (tests only: minimum iterations, smallest sizes)
CHEAP = {
    "filter2noise": {"iterations": 1, "crop": 32},
    "noise2score": {"steps": 1, "batch": 1, "patch": 16, "init": "scratch"},
    "zs_n2n": {"iterations": 1},
    "prior": {"tile": 128},
}
METHODS = [
    pytest.param(name, marks=pytest.mark.skipif(spec.requires and spec.requires(), reason="absent"))
    for name, spec in sorted(nt.DENOISERS.items())
]
BAD_DTYPES = {
    "complex": np.ones((16, 16), np.complex64),
    "bool": np.ones((16, 16), bool),
    "object": np.ones((16, 16), object),
    "datetime": np.zeros((16, 16), "datetime64[s]"),
}
BAD_SIZES = {
    "0-size": np.zeros((0, 16), np.float32),
    "1-D": np.zeros(16, np.float32),
    "all-NaN": np.full((16, 16), np.nan, np.float32),
}


def _noisy(side=24, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side] / side
    clean = 0.5 + 0.3 * np.sin(6 * yy) * np.cos(4 * xx)
    return (clean + 0.05 * rng.standard_normal((side, side))).astype(np.float32)


@pytest.mark.parametrize("bad", list(BAD_DTYPES) + list(BAD_SIZES))
@pytest.mark.parametrize("lazy", [False, True], ids=["denoise", "denoise_lazy"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_refuses_bad_arrays(method, lazy, bad):
    call = nt.denoise_lazy if lazy else nt.denoise
    image = BAD_DTYPES.get(bad, BAD_SIZES.get(bad))
    error, match = (TypeError, "dtype") if bad in BAD_DTYPES else (ValueError, None)
    with pytest.raises(error, match=match):
        call(image, method, **CHEAP.get(method, {}))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_refuses_out_of_range_and_nan_parameters(method):
    spec = nt.DENOISERS[method]
    image = _noisy(16)
    for param in spec.params:
        bad = [float("nan"), float("inf")] if param.kind in ("int", "float") else []
        bad += [param.min - 1] if param.min is not None else []
        bad += [param.max + 1] if param.max is not None else []
        bad += ["not one of them"] if param.kind == "choice" else []
        bad += [1.5] if param.kind == "int" else []
        for value in bad:
            with pytest.raises((ValueError, TypeError), match=param.name):
                nt.denoise(
                    image, method, sigma=0.05, **(CHEAP.get(method, {}) | {param.name: value})
                )


def _paths(method: str, request) -> dict:
    """Files a method needs (a model package), made by the fixtures."""
    paths = [p.name for p in nt.DENOISERS[method].params if p.kind == "path"]
    return {name: request.getfixturevalue("zoo_package") for name in paths}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_finite_results_on_hard_but_valid_arrays(method, request):
    options = {"seed": 0, **CHEAP.get(method, {}), **_paths(method, request)}
    image = _noisy()
    reference = nt.denoise(image, method, **options)
    assert reference.shape == image.shape and np.isfinite(reference).all()
    scales = () if nt.DENOISERS[method].extra.get("fixed_units") else (1e-30, 1e30)
    for scale in scales:  # physical units: correct up to the scale (a fitted package: no)
        scaled = nt.denoise(image.astype(np.float64) * scale, method, **options) / scale
        assert np.isfinite(scaled).all(), scale
        error = np.abs(scaled - reference).max() / np.ptp(image)
        assert error < 0.05, (scale, error)
    holes = image.copy()
    holes[3, 4], holes[10, 10] = np.nan, np.inf
    out = nt.denoise(holes, method, **options)
    assert out.shape == image.shape and np.isfinite(out[np.isfinite(holes)]).all()
    try:
        tiny = nt.denoise(np.ones((1, 1), np.float32), method, **options)
    except ValueError as error:  # refused, with a reason
        assert str(error)
    else:
        assert tiny.shape == (1, 1) and np.isfinite(tiny).all()


@pytest.mark.parametrize("noise", sorted(nt.NOISE_MODELS))
def test_every_noise_model_refuses_invalid_parameters(noise):
    image = _noisy(64) + 1
    for param in nt.NOISE_MODELS[noise].params:
        for value in (float("nan"), float("inf"), -1.0, 0.0 if param.name != "sigma" else -2.0):
            options = {"sigma": value} if param.name == "sigma" else {param.name: value}
            with pytest.raises((ValueError, TypeError), match=param.name):
                nt.denoise(image, "gaussian", noise=noise, **options)
    if nt.NOISE_MODELS[noise].signal_dependent:
        with pytest.raises(ValueError, match="non-negative"):
            nt.denoise(-image, "gaussian", noise=noise)
    out = nt.denoise(image, "gaussian", noise=noise)
    assert np.isfinite(out).all()


def _smooth_prior(x, sigma):
    """A cheap differentiable prior of smooth images (shrinks towards the 5x5 local mean)."""
    import torch
    from torch.nn import functional as F

    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
    return (0.002 * x + s2 * local) / (0.002 + s2)


RESTORE = {"prior": _smooth_prior, "steps": 2}
#: what each operator needs besides its defaults, for a 24x24 image
OPERATOR_SETTINGS = {
    "inpaint": {"mask": (np.arange(24 * 24).reshape(24, 24) % 3 > 0).astype(np.float32)},
    "mri": {"acceleration": 2.0},
    "ct": {"angles": 16},
}


def _measurement(operator, scale=1.0):
    from napari_tweedie.restoration import simulate_measurement

    settings = OPERATOR_SETTINGS.get(operator, {})
    image = _noisy(24) * scale
    return simulate_measurement(image, operator, sigma_y=0.02 * scale, **settings), settings


@pytest.mark.parametrize("sampler", sorted(nt.SAMPLERS))
def test_every_sampler_refuses_bad_parameters_and_measurements(sampler):
    y, _ = _measurement("denoise")
    options = {"sampler": sampler, "sigma_y": 0.02, **RESTORE}
    for param in nt.SAMPLERS[sampler].params:
        bad = [float("nan"), float("inf")] + ([param.min - 1] if param.min is not None else [])
        bad += [param.max + 1] if param.max is not None else []
        bad += [1.5] if param.kind == "int" else []
        for value in bad:
            with pytest.raises((ValueError, TypeError), match=param.name):
                nt.restore(y, "denoise", **options, **{param.name: value})
    for value in (0, 1.5, float("nan"), 10**9):
        with pytest.raises((ValueError, TypeError), match="steps"):
            nt.restore(y, "denoise", **(options | {"steps": value}))
    for image in BAD_DTYPES.values():
        if image.dtype.kind != "c":
            with pytest.raises(TypeError, match="dtype"):
                nt.restore(image, "denoise", **options)
    for image in BAD_SIZES.values():
        with pytest.raises(ValueError):
            nt.restore(image, "denoise", **options)


@pytest.mark.parametrize("sampler", sorted(nt.SAMPLERS))
@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_every_sampler_gives_finite_results_at_any_magnitude(sampler, scale):
    y, _ = _measurement("denoise", scale)
    result = nt.restore(y, "denoise", sampler=sampler, sigma_y=0.02 * scale, **RESTORE)
    assert result.mean.shape == (24, 24) and np.isfinite(result.mean).all()
    assert np.isfinite(result.std).all()


@pytest.mark.parametrize("operator", sorted(nt.OPERATORS))
def test_every_operator_refuses_bad_parameters(operator):
    y, settings = _measurement(operator)
    for param in nt.OPERATORS[operator].params:
        if param.kind == "array":
            continue
        bad = [float("nan"), float("inf")] + ([param.min - 1] if param.min is not None else [])
        bad += [param.max + 1] if param.max is not None else []
        bad += [1.5] if param.kind == "int" else []
        for value in bad:
            with pytest.raises((ValueError, TypeError), match=param.name):
                nt.restore(
                    y, operator, sampler="dds", **RESTORE, **(settings | {param.name: value})
                )


@pytest.mark.parametrize("operator", sorted(nt.OPERATORS))
@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_every_operator_gives_finite_results_at_any_magnitude(operator, scale):
    y, settings = _measurement(operator, scale)
    result = nt.restore(y, operator, sampler="dds", sigma_y=0.02 * scale, **RESTORE, **settings)
    assert np.isfinite(result.mean).all() and result.mean.shape == (24, 24)


BAD_ARRAYS = {
    "blur: NaN PSF": ("blur", {"psf": np.full((5, 5), np.nan)}, "psf"),
    "blur: empty PSF": ("blur", {"psf": np.zeros((0, 5))}, "psf"),
    "blur: zero PSF": ("blur", {"psf": np.zeros((5, 5))}, "psf"),
    "inpaint: wrong mask shape": ("inpaint", {"mask": np.ones((7, 7))}, "mask"),
    "inpaint: NaN mask": ("inpaint", {"mask": np.full((24, 24), np.nan)}, "mask"),
    "mri: wrong mask shape": ("mri", {"mask": np.ones((5, 24))}, "mask"),
    "ct: wrong angle count": ("ct", {"angles": 10}, "angles"),
    "ct: wrong angle array": ("ct", {"angles": np.linspace(0, 180, 5)}, "angles"),
    "ct: absurd size": ("ct", {"size": 10**6}, "size"),
}


@pytest.mark.parametrize("case", list(BAD_ARRAYS))
def test_operator_arrays_of_the_wrong_shape_or_values_are_refused(case):
    operator, bad, name = BAD_ARRAYS[case]
    y, settings = _measurement(operator)
    with pytest.raises((ValueError, TypeError), match=name):
        nt.restore(y, operator, sampler="dds", **RESTORE, **(settings | bad))


# -- model files: wrong keys, shapes, sizes; missing files (item 6) -------------------------


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """One tiny saved model of each fitted kind: {kind: (path, load)}."""
    from napari_tweedie.denoisers.filter2noise import Filter2Noise, fit_filter2noise
    from napari_tweedie.denoisers.zs_n2n import fit_zs_n2n
    from napari_tweedie.denoisers.zs_n2n.model import ZSN2NModel
    from napari_tweedie.steps import run

    folder = tmp_path_factory.mktemp("models")
    image = _noisy(32)
    f2n = run(fit_filter2noise(image, iterations=1, crop=32)).save(folder / "f2n")
    zs = run(fit_zs_n2n(image, iterations=1)).save(folder / "zs.safetensors")
    return {"filter2noise": (f2n, Filter2Noise.load), "zs_n2n": (zs, ZSN2NModel.load)}


def _rewrite_meta(path, key, change):
    import json

    from safetensors.torch import load_file, save_file

    from napari_tweedie.prior.bundled import read_weights

    _, metadata = read_weights(path)
    meta = json.loads(metadata[key])
    change(meta)
    save_file(load_file(str(path)), str(path), metadata={key: json.dumps(meta)})


def _swap_tensors(path, change):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    save_file(change(load_file(str(path))), str(path), metadata=metadata)


def _wrong_shape(tensors):
    import torch

    name = next(iter(tensors))
    return tensors | {name: torch.zeros(3, 3, 3)}


MODEL_FILE_CASES = {
    "missing file": lambda p, kind: p.unlink(),
    "truncated": lambda p, kind: p.write_bytes(p.read_bytes()[:100]),
    "not safetensors": lambda p, kind: p.write_bytes(b"PK\x03\x04 a zip, say"),
    "wrong tensor shape": lambda p, kind: _swap_tensors(p, _wrong_shape),
    "missing tensor": lambda p, kind: _swap_tensors(p, lambda t: dict(list(t.items())[1:])),
    "absurd sizes": lambda p, kind: (
        _rewrite_meta(p, "zs_n2n", lambda m: m.update(channels=10**7))
        if kind == "zs_n2n"
        else p.with_suffix(".json").write_text(
            p.with_suffix(".json")
            .read_text()
            .replace('"stages": 1', '"stages": 100000')
            .replace('"stages": 2', '"stages": 100000')
        )
    ),
    "missing metadata key": lambda p, kind: (
        _rewrite_meta(p, "zs_n2n", lambda m: m.pop("channels"))
        if kind == "zs_n2n"
        else p.with_suffix(".json").write_text('{"format": "napari-tweedie/filter2noise"}')
    ),
}


@pytest.mark.parametrize("case", list(MODEL_FILE_CASES))
@pytest.mark.parametrize("kind", ["filter2noise", "zs_n2n"])
def test_bad_model_files_give_one_clear_error(saved_models, tmp_path, kind, case):
    import shutil

    source, load = saved_models[kind]
    for file in source.parent.glob(source.stem + ".*"):
        shutil.copy(file, tmp_path / file.name)
    path = tmp_path / source.name
    MODEL_FILE_CASES[case](path, kind)
    error = FileNotFoundError if case == "missing file" else ValueError
    with pytest.raises(error) as raised:
        load(path)
    message = str(raised.value)
    assert "\n" not in message and str(tmp_path) in message and "bundled" not in message


def test_noise2score_model_files(tmp_path):
    from napari_tweedie.denoisers.noise2score.model import Noise2Score

    with pytest.raises(FileNotFoundError, match="no model file") as raised:
        Noise2Score.load(tmp_path / "absent.safetensors")
    assert "bundled" not in str(raised.value)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="junk.safetensors"):
        Noise2Score.load(tmp_path / "junk.safetensors")


# -- determinism: same seed, same bits, in one process and across threads (item 7) ----------


@pytest.mark.parametrize("method", METHODS)
def test_every_method_same_seed_same_bits_sequentially_and_in_four_threads(method, request):
    from concurrent.futures import ThreadPoolExecutor

    image = _noisy(32)
    options = {"seed": 7, "sigma": 0.05, **CHEAP.get(method, {}), **_paths(method, request)}
    if method == "filter2noise":
        options["iterations"] = 3
    first = nt.denoise(image, method, **options)
    np.testing.assert_array_equal(nt.denoise(image, method, **options), first)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: nt.denoise(image, method, **options), range(4)))
    for result in results:
        np.testing.assert_array_equal(result, first)


def test_filter2noise_first_fit_of_a_process_equals_the_next():
    import subprocess
    import sys

    script = (
        "import numpy as np, napari_tweedie as nt\n"
        "y = np.random.default_rng(0).random((48, 48), np.float32)\n"
        "a, b = (nt.denoise(y, 'filter2noise', iterations=3, crop=32, sigma=0.1) for _ in 'ab')\n"
        "assert np.array_equal(a, b), float(np.abs(a - b).max())\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]


def test_boolean_masks_are_arrays_of_numbers():
    y, settings = _measurement("inpaint")
    mask = settings["mask"] > 0
    result = nt.restore(y, "inpaint", mask=mask, sampler="dds", **RESTORE)
    assert np.isfinite(result.mean).all()
