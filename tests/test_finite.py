"""Filling missing pixels (NaN, inf) before filters that would spread them."""

from __future__ import annotations

import numpy as np
import pytest

from napari_tweedie.data.finite import fill_non_finite


def test_finite_image_is_returned_as_is():
    image = np.arange(12, dtype=np.float32).reshape(3, 4)
    filled, bad = fill_non_finite(image)
    assert filled is image and bad is None


def test_missing_pixels_get_the_median_of_the_others_and_a_mask():
    image = np.array([[1.0, np.nan, 3.0], [np.inf, 5.0, -np.inf]], np.float32)
    filled, bad = fill_non_finite(image)
    assert filled.dtype == np.float32 and image[0, 1] != image[0, 1]  # input untouched
    np.testing.assert_array_equal(bad, ~np.isfinite(image))
    np.testing.assert_array_equal(filled, [[1, 3, 3], [3, 5, 3]])


def test_an_image_without_finite_values_raises_or_takes_the_given_fill():
    empty = np.full((2, 2), np.nan)
    with pytest.raises(ValueError, match="no finite values"):
        fill_non_finite(empty)
    filled, bad = fill_non_finite(empty, if_empty=0.25)
    assert bad.all() and np.all(filled == 0.25)
