"""Test-only denoisers with the issue-16 flags (joint colour, 3-D), registered per test.

They stand in for the real joint and volumetric methods (which other
branches implement) so that the API's plumbing can be tested on its own:
``fake_joint`` records what it was called with; ``fake_gauss3d`` is a 3-D
Gaussian filter whose Z width follows the spacing; ``fake_flat`` has no flag.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from napari_tweedie.denoisers import DENOISERS, DenoiserSpec
from napari_tweedie.specs import Param

WIDTH = Param("width", 1.0, "Gaussian width in Y/X pixels", min=0.0, max=10.0)


def _radius(sigma, width=1.0, **_):
    return int(math.ceil(4 * width)) + 1


def gauss3d(volume, *, sigma, seed, width=1.0, spacing=(1.0, 1.0, 1.0)):
    """3-D Gaussian of ``width`` Y/X pixels: ``width * dy / dz`` planes along Z."""
    dz, dy, dx = spacing
    widths = (width * dy / dz, width, width * dy / dx)[-volume.ndim :]
    return ndimage.gaussian_filter(volume, widths, mode="reflect")


def make_specs(calls: list) -> dict[str, DenoiserSpec]:
    """The fakes; each call appends (name, image shape, sigma, spacing) to ``calls``."""

    def joint(image, *, sigma, seed, width=1.0):
        calls.append(("fake_joint", image.shape, np.asarray(sigma).copy(), None))
        return ndimage.gaussian_filter(image, (width, width, 0), mode="reflect")

    def flat(image, *, sigma, seed, width=1.0):
        calls.append(("fake_flat", image.shape, np.asarray(sigma).copy(), None))
        return ndimage.gaussian_filter(image, width, mode="reflect")

    def volume(image, *, sigma, seed, width=1.0, spacing=(1.0, 1.0, 1.0)):
        calls.append(("fake_gauss3d", image.shape, np.asarray(sigma).copy(), spacing))
        return gauss3d(image, sigma=sigma, seed=seed, width=width, spacing=spacing)

    common = {"params": (WIDTH,), "radius": _radius, "summary": "test only"}
    return {
        "fake_joint": DenoiserSpec(name="fake_joint", func=joint, channels="joint", **common),
        "fake_flat": DenoiserSpec(name="fake_flat", func=flat, **common),
        "fake_gauss3d": DenoiserSpec(name="fake_gauss3d", func=volume, volumetric=True, **common),
    }


def register_fakes(monkeypatch) -> list:
    """Register the fakes for one test; returns the list their calls are recorded in."""
    calls: list = []
    for name, spec in make_specs(calls).items():
        monkeypatch.setitem(DENOISERS, name, spec)
    return calls
