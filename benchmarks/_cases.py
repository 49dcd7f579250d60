"""Shared test data of the colour and volume benchmarks (issue 16): images, volumes, noise.

Colour: central crops of scikit-image's colour images; volumes: the clean
reference of the ``nuclei_3d`` sample and a smoothed ``binary_blobs`` volume;
noise: i.i.d. Gaussian from ``numpy.random.default_rng(seed + index)``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import skimage.data

from napari_tweedie._sample_data import load_sample
from napari_tweedie.denoisers import DENOISERS
from napari_tweedie.steps import run as run_steps

COLOUR_IMAGES = ("astronaut", "immunohistochemistry", "coffee", "hubble_deep_field")


def crop(name: str, side: int) -> np.ndarray:
    """Central ``side`` x ``side`` crop of a scikit-image colour image, float32 on [0, 1]."""
    image = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0
    h, w = image.shape[:2]
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(image[top : top + side, left : left + side])


def volumes() -> dict[str, np.ndarray]:
    """The clean test volumes ``nuclei`` and ``blobs``, float32 on [0, 1]."""
    from scipy import ndimage
    from skimage.data import binary_blobs

    nuclei = load_sample("nuclei_3d")["clean"].astype(np.float32)
    blobs = binary_blobs(48, blob_size_fraction=0.2, n_dim=3, volume_fraction=0.3, rng=1)
    blobs = ndimage.gaussian_filter(blobs.astype(np.float32), 1.0)
    return {"nuclei": nuclei, "blobs": blobs}


def add_noise(
    clean: Mapping[str, np.ndarray], sigma: float, seed: int, only: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """Gaussian noisy copies, float32; image ``i`` of ``clean`` draws from ``seed + i``.

    ``only`` keeps some of the images; the seeds still follow ``clean``'s order.
    """
    return {
        name: (image + sigma * np.random.default_rng(seed + i).standard_normal(image.shape)).astype(
            np.float32
        )
        for i, (name, image) in enumerate(clean.items())
        if only is None or name in only
    }


def denoise(method: str, image: np.ndarray, **kwargs) -> np.ndarray:
    """The registry method's result on ``image`` (``seed=0``; iterative ones run to the end)."""
    spec = DENOISERS[method]
    result = spec.func(image, seed=0, **kwargs)
    return run_steps(result) if spec.iterative else result
