"""Lattice-coloured SURE probes (``probes=s**2``): same mean as one probe, less scatter."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import skimage.transform

import napari_tweedie as nt
from napari_tweedie.tuning.inputs import lattice_probes
from napari_tweedie.tuning.sure import risk_problem

SIGMA = 0.1


@pytest.fixture(scope="module")
def noisy() -> np.ndarray:
    camera = skimage.data.camera().astype(np.float32) / 255
    clean = skimage.transform.resize(camera, (64, 64), anti_aliasing=True)
    noise = np.random.default_rng(5).standard_normal(clean.shape)
    return (clean + SIGMA * noise).astype(np.float32)


def test_lattice_probes_partition_the_probe():
    probe = np.random.default_rng(0).choice([-1.0, 1.0], (2, 7, 9))
    classes = lattice_probes(probe, 9)
    assert classes.shape == (9, 2, 7, 9)
    np.testing.assert_array_equal(classes.sum(axis=0), probe)
    assert ((classes != 0).sum(axis=0) == 1).all()  # each pixel in exactly one class
    assert (classes[4, :, 1::3, 1::3] == probe[:, 1::3, 1::3]).all()
    np.testing.assert_array_equal(lattice_probes(probe, 1)[0], probe)
    for bad in (0, 2, 5):
        with pytest.raises(ValueError, match="square"):
            lattice_probes(probe, bad)
    with pytest.raises(ValueError, match="square"):
        risk_problem(probe[0], "tv", sigma=SIGMA, probes=3)


def test_lattice_probes_keep_the_mean_and_cut_the_scatter_of_the_monte_carlo_divergence(noisy):
    kwargs = {"sigma": SIGMA, "sigma_spatial": 1.5}
    exact = nt.sure(noisy, "gaussian", **kwargs)  # the exact Jacobian diagonal
    assert risk_problem(noisy, "gaussian", divergence="monte-carlo", probes=9, **kwargs).calls == 10

    def estimates(probes):
        return np.array([nt.sure(noisy, "gaussian", divergence="monte-carlo", probes=probes,
                                 seed=seed, **kwargs) for seed in range(12)])  # fmt: skip

    one, nine = estimates(1), estimates(9)
    assert abs(nine.mean() - exact) < max(3 * nine.std(ddof=1) / np.sqrt(12), 1e-4 * exact)
    # a linear smoother couples neighbours most: splitting them off removes most of the scatter
    # (measured: RMS error 2.0 % of the MSE with one probe, 0.25 % with 3 x 3 classes)
    assert np.sqrt(np.mean((nine - exact) ** 2)) < 0.3 * np.sqrt(np.mean((one - exact) ** 2))


def test_probes_default_comes_from_the_spec(noisy, monkeypatch):
    spec = nt.DENOISERS["bilateral"]
    assert risk_problem(noisy, "bilateral", sigma=SIGMA).probes == 1
    monkeypatch.setitem(spec.extra, "sure_probes", 4)
    problem = risk_problem(noisy, "bilateral", sigma=SIGMA)
    assert problem.probes == 4 and problem.calls == 5
    assert risk_problem(noisy, "bilateral", sigma=SIGMA, probes=1).calls == 2


def test_tune_keeps_one_probe_where_sure_takes_lattice_probes(noisy):
    from napari_tweedie.steps import run
    from napari_tweedie.tuning.tune import tune_steps

    assert risk_problem(noisy, "tv", sigma=SIGMA).calls == 5  # nt.sure's default for tv
    steps = []
    run(tune_steps(noisy, "tv", sigma=SIGMA), steps.append)
    assert [s.i for s in steps] == list(range(2, 2 * len(steps) + 1, 2))  # two calls a trial
    assert len(steps) == 7
