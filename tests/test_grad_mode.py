"""Samplers never leave their thread without gradients while suspended at a ``yield``.

A Step generator runs in a reused worker thread; a ``yield`` inside
``torch.no_grad()`` keeps gradients off in that thread until the generator
resumes, and for good if it is closed elsewhere: the next fit there fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import napari_tweedie as nt

torch = pytest.importorskip("torch")


def smooth_prior(x, sigma):
    return torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


@pytest.mark.parametrize("sampler", sorted(nt.SAMPLERS))
def test_gradients_stay_on_between_a_samplers_steps(sampler):
    rng = np.random.default_rng(0)
    y = (0.5 + 0.1 * rng.standard_normal((32, 32))).astype(np.float32)
    options = {"prior": smooth_prior, "steps": 3, "sigma_y": 0.1}
    steps = nt.restore_steps(y, "denoise", sampler=sampler, **options)
    states = [torch.is_grad_enabled() for _ in zip(range(2), steps)]
    steps.close()
    assert states == [True, True]
