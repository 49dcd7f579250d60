"""Lazy readers: every format opens as a dask array without reading pixels."""

from __future__ import annotations

import dask.array as da
import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
import zarr

from napari_tweedie.data import ROI, open_array


@pytest.fixture
def image(rng) -> np.ndarray:
    return rng.integers(0, 60000, size=(3, 64, 96), dtype=np.uint16)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_zarr_opens_lazily_and_roi_reads_only_its_chunks(tmp_path, image, zarr_reads, zarr_format):
    path = tmp_path / "volume.zarr"
    store = zarr.create_array(
        str(path), shape=image.shape, chunks=(1, 32, 32), dtype=image.dtype, zarr_format=zarr_format
    )
    store[:] = image
    zarr_reads.clear()
    array = open_array(path)
    assert isinstance(array, da.Array)
    assert array.shape == image.shape and array.dtype == image.dtype
    assert zarr_reads == []
    roi = ROI((slice(1, 2), slice(0, 32), slice(40, 70)))  # plane 1, 1 chunk row, 2 chunk cols
    np.testing.assert_array_equal(roi.read(array), image[1:2, 0:32, 40:70])
    assert len(zarr_reads) == 2


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_ome_zarr_opens_full_resolution_level(tmp_path, image, zarr_format):
    path = tmp_path / "image.ome.zarr"
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    for level, factor in (("0", 1), ("1", 2)):
        data = image[:, ::factor, ::factor]
        group.create_array(level, shape=data.shape, chunks=(1, 32, 32), dtype=data.dtype)[:] = data
    multiscales = [{"version": "0.4", "datasets": [{"path": "0"}, {"path": "1"}], "axes": []}]
    if zarr_format == 2:
        group.attrs["multiscales"] = multiscales
    else:
        group.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}
    array = open_array(path)
    assert array.shape == image.shape
    np.testing.assert_array_equal(array.compute(), image)


def test_tiff_opens_lazily_through_zarr(tmp_path, image, tiff_reads):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, image, tile=(32, 32), photometric="minisblack")
    array = open_array(path)
    assert isinstance(array, da.Array) and array.shape == image.shape
    assert tiff_reads == []
    np.testing.assert_array_equal(
        ROI((slice(2, 3), slice(32, 64), slice(0, 32))).read(array), image[2:3, 32:64, 0:32]
    )
    assert 1 <= len(tiff_reads) <= 2


def test_npy_is_memory_mapped(tmp_path, image):
    path = tmp_path / "stack.npy"
    np.save(path, image)
    array = open_array(path)
    sources = [v for v in array.dask.values() if isinstance(v, np.memmap)]
    assert isinstance(array, da.Array) and sources, "the dask graph should hold a memmap"
    np.testing.assert_array_equal(array[1].compute(), image[1])


def test_png_reads_header_only_until_compute(tmp_path, monkeypatch):
    path = tmp_path / "image.png"
    data = (np.arange(40 * 50) % 256).astype(np.uint8).reshape(40, 50)
    iio.imwrite(path, data)
    calls = []
    original = iio.imread
    monkeypatch.setattr(iio, "imread", lambda *a, **k: calls.append(a) or original(*a, **k))
    array = open_array(path)
    assert array.shape == (40, 50) and calls == []
    np.testing.assert_array_equal(array.compute(), data)
    assert len(calls) == 1


@pytest.mark.parametrize("name", ["missing.zarr", "image.jpg"])
def test_bad_paths_give_clear_errors(tmp_path, name):
    if name.endswith(".jpg"):
        (tmp_path / name).write_bytes(b"not an image")
    with pytest.raises((FileNotFoundError, ValueError), match=r"no such file|unsupported"):
        open_array(tmp_path / name)
