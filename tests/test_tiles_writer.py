"""Tiled processing (map_tiles) and atomic writing."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import scipy.ndimage as ndi
import zarr

from napari_tweedie.data import Cancelled, map_tiles, open_array, store_atomic
from napari_tweedie.data.tiles import axis_weights


def box_filter(radius):
    def fn(block, *, seed):
        return ndi.uniform_filter(
            block, size=(1,) * (block.ndim - 2) + (2 * radius + 1,) * 2, mode="reflect"
        )

    return fn


@pytest.mark.parametrize(
    ("shape", "tile", "radius", "overlap"),
    [
        ((130, 97), 32, 3, 3),
        ((130, 97), 40, 2, 6),
        ((2, 75, 64), 30, 4, 4),
        ((50, 50), 100, 5, 5),
    ],
)
def test_local_filter_tiled_equals_whole(rng, shape, tile, radius, overlap):
    image = rng.random(shape, dtype=np.float32)
    tiled = map_tiles(box_filter(radius), da.from_array(image, chunks=17), tile, overlap).compute()
    np.testing.assert_allclose(tiled, box_filter(radius)(image, seed=0), atol=1e-5)


def test_overlap_smaller_than_radius_shows_seams(rng):
    image = rng.random((96, 96), dtype=np.float32)
    tiled = map_tiles(box_filter(6), image, 32, 1).compute()
    assert np.abs(tiled - box_filter(6)(image, seed=0)).max() > 1e-3


def test_blending_is_linear_and_seeds_are_per_tile():
    seeds = map_tiles(
        lambda b, seed: np.full(b.shape, seed, np.float32), np.zeros((64, 64)), 32, 4
    ).compute()
    assert seeds[0, 0] == 0 and seeds[-1, -1] == 3  # 2x2 tiles, C order
    ramp = seeds[0, 29:35]  # blend band of 4 pixels centred on the border at x = 32
    np.testing.assert_allclose(ramp, [0, 0.125, 0.375, 0.625, 0.875, 1])


def test_weights_are_a_partition_of_unity():
    w = axis_weights(20, 6, 8)  # core 20, halo 6 each side: 32 samples
    total = np.zeros(72)
    for start in (0, 20, 40):
        total[start : start + 32] += w  # tiles at 6+0, 6+20, 6+40 in padded coordinates
    np.testing.assert_allclose(total[10:62], 1.0)  # inside, away from the outer ramps


def test_store_atomic_writes_zarr_and_refuses_the_input(tmp_path, rng):
    data = rng.random((3, 40, 50), dtype=np.float32)
    target = store_atomic(da.from_array(data, chunks=(1, 20, 20)), tmp_path / "out.zarr")
    np.testing.assert_array_equal(open_array(target).compute(), data)
    with pytest.raises(ValueError, match="overwrite the input"):
        store_atomic(data, target, inputs=[target])


def test_failed_computation_leaves_no_partial_output(tmp_path, rng):
    calls = []

    def explode(block, *, seed):
        calls.append(seed)
        if len(calls) > 2:
            raise RuntimeError("boom")
        return block

    lazy = map_tiles(explode, rng.random((128, 128), dtype=np.float32), 32, 2)
    with pytest.raises(RuntimeError, match="boom"):
        store_atomic(lazy, tmp_path / "out.zarr")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_previous_output(tmp_path):
    target = store_atomic(np.ones((8, 8), np.float32), tmp_path / "out.zarr")
    bad = da.from_delayed(_raise(), shape=(8, 8), dtype=np.float32)
    with pytest.raises(RuntimeError):
        store_atomic(bad, target)
    np.testing.assert_array_equal(zarr.open_array(str(target))[:], 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zarr"]


def test_cancel_through_progress_callback(tmp_path, rng):
    seen = []
    lazy = map_tiles(lambda b, seed: b, rng.random((64, 64), dtype=np.float32), 16, 2)
    with pytest.raises(Cancelled):
        store_atomic(lazy, tmp_path / "out.tif", callback=lambda d, t: seen.append(d) or d < 3)
    assert seen and list(tmp_path.iterdir()) == []


def _raise():
    import dask

    @dask.delayed
    def fail():
        raise RuntimeError("fail")

    return fail()


def test_progress_callback_sees_only_its_own_computation(tmp_path, monkeypatch):
    """Cancel pressed during a job's set-up must not break the viewer's own dask reads."""
    seen = []
    create = zarr.create_array
    viewer_read = {}

    def create_while_the_viewer_computes(*args, **kwargs):
        viewer_read["sum"] = float(da.ones((8, 8), chunks=4).sum().compute())
        return create(*args, **kwargs)

    def cancel(done, total):
        seen.append(done)
        return False

    monkeypatch.setattr(zarr, "create_array", create_while_the_viewer_computes)
    with pytest.raises(Cancelled):
        store_atomic(da.ones((16, 16), chunks=8), tmp_path / "out.zarr", callback=cancel)
    assert viewer_read["sum"] == 64.0
    assert seen == [1] and list(tmp_path.iterdir()) == []


def test_callbacks_active_around_a_write_still_see_it(tmp_path):
    from dask.callbacks import Callback

    class Counter(Callback):
        def __init__(self):
            super().__init__()
            self.tasks = 0

        def _posttask(self, key, result, dsk, state, worker_id):
            self.tasks += 1

    with Counter() as counter:  # e.g. a user's dask ProgressBar
        store_atomic(da.ones((32, 32), chunks=16), tmp_path / "out.npy")
    assert counter.tasks > 0


def test_pyramid_output_keeps_full_resolution_and_halves_each_level(tmp_path):
    from napari_tweedie.data import open_array, open_levels, store_atomic

    image = np.random.default_rng(0).random((2, 101, 70)).astype(np.float32)
    target = store_atomic(da.from_array(image, chunks=(1, 32, 32)), tmp_path / "p.zarr", levels=9)
    levels = open_levels(target)
    shapes = [(2, 101, 70), (2, 50, 35), (2, 25, 17), (2, 12, 8), (2, 6, 4), (2, 3, 2)]
    assert [a.shape for a in levels] == shapes  # 9 asked: it stops at 2 x 2 or above
    np.testing.assert_array_equal(open_array(target).compute(), image)  # level 0, as before
    np.testing.assert_allclose(levels[1][1, 7, 3].compute(), image[1, 14:16, 6:8].mean(), rtol=1e-6)
    assert all(a.dtype == np.float32 for a in levels)
    with pytest.raises(ValueError, match="multiscale"):
        store_atomic(image, tmp_path / "p.tif", levels=2)


def test_pyramid_levels_skip_missing_pixels_round_integers_and_name_their_axes(tmp_path):
    from napari_tweedie.data import open_levels, store_atomic

    rng = np.random.default_rng(1)
    image = rng.random((64, 64)).astype(np.float32)
    image[rng.random(image.shape) < 0.05] = np.nan
    levels = open_levels(store_atomic(image, tmp_path / "nan.zarr", levels=4))
    assert np.isnan(levels[3].compute()).mean() == 0  # scattered gaps do not spread
    counts = np.array([[1, 2], [2, 2]], np.uint8)  # mean 1.75
    small = open_levels(store_atomic(np.tile(counts, (4, 4)), tmp_path / "int.zarr", levels=2))
    assert small[1].dtype == np.uint8 and np.all(small[1].compute() == 2)
    attrs = zarr.open_group(str(tmp_path / "int.zarr"), mode="r").attrs["ome"]
    axes = attrs["multiscales"][0]["axes"]
    assert [(a["name"], a["type"]) for a in axes] == [("y", "space"), ("x", "space")]
    with pytest.raises(ValueError, match="2 to 5 axes"):
        store_atomic(np.zeros((1,) * 4 + (8, 8)), tmp_path / "six.zarr", levels=2)
    assert not list(tmp_path.glob(".six.zarr*"))


def test_progress_counts_on_across_a_pyramids_levels(tmp_path):
    from napari_tweedie.data import store_atomic

    seen = []
    image = da.from_array(np.ones((64, 64), np.float32), chunks=16)
    store_atomic(image, tmp_path / "p.zarr", levels=3, callback=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and all(d <= t for d, t in seen)
    assert seen[0][1] < seen[-1][1]  # the total grows as the levels come


def test_a_chunk_still_computing_at_a_failure_leaves_no_temporary_store(tmp_path):
    import time

    def chunk(block, block_info=None):
        if block_info[0]["chunk-location"] == (0, 0):
            raise RuntimeError("this tile fails")
        time.sleep(0.5)  # still running when the failure ends the computation
        return block

    lazy = da.ones((8, 16), np.float32, chunks=(8, 8)).map_blocks(chunk, dtype=np.float32)
    with pytest.raises(RuntimeError, match="tile fails"):
        store_atomic(lazy, tmp_path / "out.zarr")
    time.sleep(1.5)  # the slow chunk has finished and tried to write by now
    assert list(tmp_path.iterdir()) == []
