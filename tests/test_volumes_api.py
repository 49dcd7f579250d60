"""Volumes in the API (issue 16): ``volumetric`` and ``spacing``, 3-D tiles with Z overlap."""

from __future__ import annotations

import numpy as np
import pytest
from shape_fakes import gauss3d, register_fakes

import napari_tweedie as nt
from napari_tweedie import api_tiles
from napari_tweedie.data.axes import Layout
from napari_tweedie.data.tiles import map_tiles


@pytest.fixture
def fakes(monkeypatch) -> list:
    return register_fakes(monkeypatch)


@pytest.fixture
def volume(rng) -> np.ndarray:
    """(40, 40, 40) smooth blobs with Gaussian noise."""
    clean = gauss3d(rng.random((40, 40, 40)).astype(np.float32), sigma=0, seed=0, width=3.0)
    clean = (clean - clean.min()) / np.ptp(clean)
    return (clean + 0.1 * rng.standard_normal(clean.shape)).astype(np.float32)


def test_volumetric_method_gets_volumes_and_spacing(fakes, volume):
    stack = np.stack([volume, volume])  # (T, Z, Y, X): one call per volume
    out = nt.denoise(stack, "fake_gauss3d", volumetric=True, spacing=(2, 1, 1), width=1.5)
    assert out.shape == stack.shape
    assert [(shape, spacing) for _, shape, _, spacing in fakes] == [
        ((40, 40, 40), (2.0, 1.0, 1.0))
    ] * 2
    expected = gauss3d(volume, sigma=0, seed=0, width=1.5, spacing=(2, 1, 1))
    np.testing.assert_allclose(out[1], expected, atol=1e-6)


def test_spacing_changes_the_z_reach(fakes):
    impulse = np.zeros((21, 21, 21), np.float32)
    impulse[10, 10, 10] = 1.0
    kwargs = {"sigma": 0.1, "volumetric": True, "width": 2.0}
    iso = nt.denoise(impulse, "fake_gauss3d", spacing=(1, 1, 1), **kwargs)
    thick = nt.denoise(impulse, "fake_gauss3d", spacing=(4, 1, 1), **kwargs)
    z_profile = lambda v: v[:, 10, 10] / v[10, 10, 10]  # noqa: E731
    assert z_profile(thick)[12] < 0.5 * z_profile(iso)[12]  # thick slices: less z reach
    np.testing.assert_allclose(thick[10] / thick[10].max(), iso[10] / iso[10].max(), atol=1e-6)
    assert Layout(spacing=(4.0, 1.0, 1.0)).z_overlap(9) == 3
    assert Layout(spacing=(0.5, 1.0, 1.0)).z_overlap(9) == 18


@pytest.mark.parametrize("spacing", [(1, 1, 1), (0.5, 1, 1)])
def test_tiled_3d_equals_in_memory_3d(fakes, volume, monkeypatch, spacing):
    monkeypatch.setattr(api_tiles, "Z_TILE", 8)  # several blocks along Z too
    kwargs = {"volumetric": True, "spacing": spacing, "width": 1.0, "sigma": 0.1}
    whole = nt.denoise(volume, "fake_gauss3d", **kwargs)
    lazy = nt.denoise_lazy(volume, "fake_gauss3d", tile=16, **kwargs).compute()
    assert len(fakes) - 1 >= 2 * 3 * 3  # really 3-D blocks: >= 2 along Z, 3 x 3 in Y, X
    np.testing.assert_allclose(lazy, whole, atol=1e-5)


def test_memory_per_3d_block_is_flat_in_volume_size():
    seen = []

    def fn(block, *, seed):
        seen.append(block.shape)
        return block

    for depth in (32, 96):
        seen.clear()
        big = np.zeros((depth, 64, 64, 1), np.float32)
        map_tiles(fn, big, 32, 4, volume=(16, 2), channel_last=True).compute()
        assert max(int(np.prod(s)) for s in seen) <= 30 * 48 * 48  # core + halos, any depth


def test_volumes_with_channels_go_channel_by_channel(fakes, volume):
    image = np.stack([volume, volume[::-1]], axis=0)  # (C, Z, Y, X)
    out = nt.denoise(image, "fake_gauss3d", channel_axis=0, volumetric=True, sigma=0.1)
    assert out.shape == image.shape and [shape for _, shape, _, _ in fakes] == [(40, 40, 40)] * 2
    np.testing.assert_allclose(out[1], gauss3d(volume[::-1], sigma=0, seed=0), atol=1e-6)


def test_volumetric_on_a_method_without_3d_names_those_with_it(fakes, volume):
    with pytest.raises(ValueError, match="no 3-D .*fake_gauss3d"):
        nt.denoise(volume, "fake_flat", volumetric=True)
    with pytest.raises(ValueError, match="no 3-D .*fake_gauss3d"):
        nt.denoise_lazy(volume, "fake_flat", volumetric=True)


@pytest.mark.parametrize(
    ("spacing", "match"),
    [((1, -1, 1), "> 0"), ((1, 1), "3 values"), ((1, np.nan, 1), "> 0"), ("1,1,1", "sequence")],
)
def test_bad_spacing_is_refused(fakes, volume, spacing, match):
    with pytest.raises(ValueError, match=match):
        nt.denoise(volume, "fake_gauss3d", volumetric=True, spacing=spacing)


def test_planes_take_a_2_value_spacing_and_volumes_need_3_axes(fakes, volume):
    out = nt.denoise(volume[0], "fake_flat", spacing=(0.5, 0.5))
    assert out.shape == volume[0].shape
    with pytest.raises(ValueError, match="need 3"):
        nt.denoise(volume[0], "fake_gauss3d", volumetric=True)
