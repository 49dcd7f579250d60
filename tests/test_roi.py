"""ROI construction from what a user points at."""

import numpy as np
import pytest

from napari_tweedie.data import ROI


def test_from_corners_uses_bounding_box_and_current_plane():
    corners = np.array([[5, 10.4, 20.6], [5, 40.2, 20.6], [5, 40.2, 70.1], [5, 10.4, 70.1]])
    roi = ROI.from_corners((8, 64, 64), corners[:, 1:], index=(3,))
    # the pixels whose centres lie in [10.4, 40.2) x [20.6, 70.1), clipped to the image
    assert roi.slices == (slice(3, 4), slice(11, 41), slice(21, 64))
    assert roi.offset == (3, 11, 21)
    assert roi.shape == (1, 30, 43)


def test_a_rectangle_drawn_around_pixels_takes_exactly_those_pixels():
    # napari's pixel i spans [i - 0.5, i + 0.5]: a box tight around rows 4..11, columns 10..19
    roi = ROI.from_corners((40, 60), np.array([[3.5, 9.5], [11.5, 19.5]]))
    assert roi.slices == (slice(4, 12), slice(10, 20))
    # corners on pixel centres (as a transformed world box may give, up to round-off)
    roi = ROI.from_corners((90, 60), np.array([[20.0 + 1e-9, 10.0], [70.0 - 1e-9, 80.0]]))
    assert roi.slices == (slice(20, 70), slice(10, 60))
    # a box inside one pixel still selects a pixel
    assert ROI.from_corners((40, 60), np.array([[3.6, 5.6], [3.9, 5.9]])).shape == (1, 1)


def test_roi_outside_image_is_rejected():
    with pytest.raises(ValueError, match="outside"):
        ROI.from_corners((32, 32), np.array([[40, 40], [50, 50]]))


def test_current_slice_and_whole():
    assert ROI.current_slice((4, 5, 16, 16), (2, 3)).shape == (1, 1, 16, 16)
    assert ROI.whole((4, 16, 16)).shape == (4, 16, 16)
    assert ROI.whole((16, 16)).with_leading((4, 16, 16)).shape == (4, 16, 16)


def test_read_numpy_and_dask():
    import dask.array as da

    data = np.arange(100).reshape(10, 10)
    roi = ROI((slice(2, 5), slice(3, 7)))
    np.testing.assert_array_equal(roi.read(data), data[2:5, 3:7])
    np.testing.assert_array_equal(roi.read(da.from_array(data, chunks=3)), data[2:5, 3:7])
