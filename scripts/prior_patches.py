"""Random training patches and noise levels for the bundled prior (augmentation included)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as tf

GROUP_WEIGHTS = {"photo": 0.65, "medical": 0.17, "microscopy": 0.12, "synthetic": 0.06}
AREA_CAP = 512 * 512


class PatchSampler:
    """Random training patches with augmentation and noise levels."""

    def __init__(self, data, patch: int, rng: np.random.Generator):
        self.images = [image for _, _, image in data]
        groups = [group for _, group, _ in data]
        area = np.array([min(im.size, AREA_CAP) for im in self.images], float)
        weights = np.zeros(len(data))
        for group, weight in GROUP_WEIGHTS.items():
            members = np.array([g == group for g in groups])
            if members.any():
                weights[members] = weight * area[members] / area[members].sum()
        self.p = weights / weights.sum()
        self.patch, self.rng = patch, rng

    def crop(self) -> np.ndarray:
        rng, p = self.rng, self.patch
        image = self.images[rng.choice(len(self.images), p=self.p)]
        scale = 1.0 if rng.random() < 0.65 else math.exp(rng.uniform(0, math.log(2.5)))
        size = min(int(round(p * scale)), *image.shape)
        if size < p:  # small image: pad by reflection
            image = np.pad(image, [(0, max(0, p - s)) for s in image.shape], mode="symmetric")
            size = p
        y, x = (
            rng.integers(0, image.shape[0] - size + 1),
            rng.integers(0, image.shape[1] - size + 1),
        )
        crop = image[y : y + size, x : x + size]
        if size != p:
            t = torch.from_numpy(np.ascontiguousarray(crop))[None, None]
            t = tf.interpolate(t, size=(p, p), mode="bilinear", antialias=True, align_corners=False)
            crop = t[0, 0].numpy()
        crop = np.rot90(crop, rng.integers(4))
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        crop = np.clip(crop, 0, 1)
        if rng.random() < 0.5:
            crop = crop ** math.exp(rng.uniform(math.log(0.6), math.log(1.6)))
        if rng.random() < 0.5:
            gain = rng.uniform(0.4, 1.0)
            crop = gain * crop + rng.uniform(0, 1 - gain)
        if rng.random() < 0.1:
            crop = 1 - crop
        return np.ascontiguousarray(crop, dtype=np.float32)

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(clean (n,1,p,p), sigma (n,), standard normal noise (n,1,p,p))."""
        clean = torch.from_numpy(np.stack([self.crop() for _ in range(n)])[:, None])
        return (
            clean,
            torch.from_numpy(sample_sigma(n, self.rng)),
            torch.from_numpy(self.rng.standard_normal(clean.shape, dtype=np.float32)),
        )


def sample_sigma(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise levels: a mixture that emphasises denoising but covers diffusion's whole range.

    45% log-uniform on [0.01, 0.3] (plain denoising), 40% EDM log-normal
    (P_mean -1.2, P_std 1.2), 15% log-uniform on [0.002, 100] (the extremes a
    VP sampler visits: sigma = sqrt((1 - abar) / abar) up to ~100).
    """
    pick = rng.random(n)
    denoising = rng.uniform(math.log(0.01), math.log(0.3), n)
    normal = rng.normal(-1.2, 1.2, n)
    wide = rng.uniform(math.log(0.002), math.log(100), n)
    log_sigma = np.where(pick < 0.45, denoising, np.where(pick < 0.85, normal, wide))
    return np.clip(np.exp(log_sigma), 0.002, 100).astype(np.float32)


class PatchStream(torch.utils.data.IterableDataset):
    """Endless training batches; in a DataLoader each worker draws its own random stream."""

    def __init__(self, data, patch: int, batch: int, seed: int):
        self.data, self.patch, self.batch, self.seed = data, patch, batch, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        sampler = PatchSampler(self.data, self.patch, np.random.default_rng([self.seed, worker]))
        while True:
            yield sampler.batch(self.batch)


def batches(data, patch: int, batch: int, rng: np.random.Generator, workers: int = 0):
    """Iterator of (clean, sigma, noise) batches, from ``workers`` processes when > 0.

    With no workers the batches come from ``rng`` (whose state the training
    state keeps, so a resumed CPU run continues the same stream); with workers
    (a GPU, whose steps outrun one CPU core's patch cropping) each worker gets
    a stream seeded from ``rng``.
    """
    if workers <= 0:
        sampler = PatchSampler(data, patch, rng)
        while True:
            yield sampler.batch(batch)
    stream = PatchStream(data, patch, batch, seed=int(rng.integers(2**31)))
    loader = torch.utils.data.DataLoader(
        stream,
        batch_size=None,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        prefetch_factor=4,
    )
    yield from loader
