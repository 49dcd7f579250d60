"""Shared fixtures: small deterministic images and counters of chunk reads."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import skimage.transform

METADATA_KEYS = ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def clean_image() -> np.ndarray:
    """96x96 float32 camera-man crop on [0, 1]."""
    camera = skimage.data.camera().astype(np.float32) / 255
    return skimage.transform.resize(camera, (96, 96), anti_aliasing=True).astype(np.float32)


@pytest.fixture
def noisy_pair(clean_image, rng) -> tuple[np.ndarray, np.ndarray, float]:
    """(clean, noisy, sigma) with Gaussian noise of sigma 0.1."""
    sigma = 0.1
    noisy = clean_image + sigma * rng.standard_normal(clean_image.shape).astype(np.float32)
    return clean_image, noisy.astype(np.float32), sigma


def count_store_reads(monkeypatch, store_class) -> list[str]:
    """Patch ``store_class.get`` to record the chunk keys read (metadata excluded)."""
    reads: list[str] = []
    original = store_class.get

    async def get(self, key, *args, **kwargs):
        if not key.endswith(METADATA_KEYS):
            reads.append(key)
        return await original(self, key, *args, **kwargs)

    monkeypatch.setattr(store_class, "get", get)
    return reads


@pytest.fixture
def zarr_reads(monkeypatch) -> list[str]:
    from zarr.storage import LocalStore

    return count_store_reads(monkeypatch, LocalStore)


@pytest.fixture
def tiff_reads(monkeypatch) -> list[str]:
    from tifffile.zarr import ZarrTiffStore

    return count_store_reads(monkeypatch, ZarrTiffStore)


@pytest.fixture(scope="session")
def zoo_package(tmp_path_factory):
    """A small bioimage.io package made here (a zero-shot Noise2Noise fit, exported)."""
    pytest.importorskip("bioimageio.core")
    import napari_tweedie as nt
    from napari_tweedie.denoisers.zs_n2n.fit import fit_zs_n2n
    from napari_tweedie.steps import run

    noisy = 0.5 + 0.05 * np.random.default_rng(0).standard_normal((48, 48))
    model = run(fit_zs_n2n(noisy.astype(np.float32), iterations=3, crop=32, patience=0))
    return nt.export_bioimageio(model, tmp_path_factory.mktemp("zoo") / "zs_n2n.zip")
