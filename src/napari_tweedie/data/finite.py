"""Missing pixels (NaN, inf): fill them for filters that would spread them, then put them back."""

from __future__ import annotations

import numpy as np


def fill_non_finite(
    image: np.ndarray, *, if_empty: float | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``image`` with non-finite entries set to the median of the finite ones, and their mask.

    Parameters
    ----------
    image : ndarray
        Any shape and dtype; returned unchanged (not copied) when all entries are finite.
    if_empty : float, optional
        The fill when no entry is finite; by default that raises ``ValueError``.

    Returns
    -------
    filled : ndarray
        Same shape and dtype as ``image``.
    bad : ndarray of bool or None
        Where ``image`` was not finite; None when it was finite everywhere.
    """
    image = np.asarray(image)
    bad = ~np.isfinite(image)
    if not bad.any():
        return image, None
    if bad.all():
        if if_empty is None:
            raise ValueError("the image has no finite values")
        fill = if_empty
    else:
        fill = np.median(image[~bad])
    return np.where(bad, np.asarray(fill, image.dtype), image), bad
