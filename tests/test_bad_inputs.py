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
