"""``napari_tweedie.restore``: normalisation, samples, seeds, errors, CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import napari_tweedie as nt
from napari_tweedie.cli import main


def smooth_prior(x, sigma):
    """A Wiener-like Gaussian denoiser for smooth images in [0, 1] (test prior)."""
    s2 = sigma.view(-1, 1, 1, 1) ** 2
    tau2 = 0.05
    return (tau2 * x + s2 * 0.5) / (tau2 + s2)


@pytest.fixture
def image():
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    return (100 + 50 * np.sin(4 * xx) * np.cos(3 * yy)).astype(np.float32)  # image units ~[50,150]


def smooth_field_prior(x, sigma):
    """A differentiable prior of smooth images: shrinks towards the 5x5 local mean."""
    s2 = torch.as_tensor(sigma, dtype=x.dtype).reshape(-1, 1, 1, 1) ** 2
    local = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
    return (0.002 * x + s2 * local) / (0.002 + s2)


INPAINT_SETTINGS = {"dps": {"steps": 50}}  # DPS needs more steps than the others


@pytest.mark.parametrize("sampler", [n for n, s in nt.SAMPLERS.items() if s.data_term])
def test_inpainting_keeps_units_and_fills_holes_better_than_interpolation(image, sampler):
    rng = np.random.default_rng(0)
    mask = (rng.random(image.shape) > 0.3).astype(np.float32)
    settings = {"steps": 15} | INPAINT_SETTINGS.get(sampler, {})
    result = nt.restore(
        mask * image, "inpaint", mask=mask, sampler=sampler, prior=smooth_field_prior,
        samples=3, seed=1, sigma_y=0.5, **settings,
    )  # fmt: skip
    assert result.mean.shape == image.shape and result.samples.shape == (3, *image.shape)
    observed = mask.astype(bool)
    assert np.abs(result.mean[observed] - image[observed]).mean() < 5.0  # units kept (range 100)
    hole_error = np.abs(result.mean[~observed] - image[~observed]).mean()
    baseline_error = np.abs(result.baseline[~observed] - image[~observed]).mean()
    assert hole_error < 0.85 * baseline_error  # better than normalised Gaussian interpolation
    assert result.std.shape == image.shape and np.all(result.std >= 0)


@pytest.mark.parametrize("sampler", ["dps", "dds", "pnp"])
def test_what_the_holes_hold_does_not_matter(image, sampler):
    rng = np.random.default_rng(0)
    mask = (rng.random(image.shape) > 0.3).astype(np.float32)
    junk = np.where(mask > 0, image, 1e4 * rng.random(image.shape)).astype(np.float32)
    kwargs = dict(mask=mask, sampler=sampler, prior=smooth_prior, steps=6, seed=1, sigma_y=0.5)
    clean_holes = nt.restore(mask * image, "inpaint", **kwargs)
    np.testing.assert_allclose(nt.restore(junk, "inpaint", **kwargs).mean, clean_holes.mean)
    holes_as_nan = np.where(mask > 0, image, np.nan).astype(np.float32)
    np.testing.assert_allclose(nt.restore(holes_as_nan, "inpaint", **kwargs).mean, clean_holes.mean)


def test_same_seed_same_result_different_seed_different(image):
    kwargs = dict(sampler="dds", prior=smooth_prior, steps=8, samples=2, sigma_y=1.0)
    noisy = image + np.random.default_rng(1).normal(0, 1.0, image.shape).astype(np.float32)
    a = nt.restore(noisy, "denoise", seed=3, **kwargs)
    np.testing.assert_array_equal(a.samples, nt.restore(noisy, "denoise", seed=3, **kwargs).samples)
    assert not np.array_equal(a.samples, nt.restore(noisy, "denoise", seed=4, **kwargs).samples)


def test_superres_is_consistent_with_the_measurement_and_beats_bicubic(image):
    low = image.reshape(16, 2, 16, 2).mean(axis=(1, 3))
    result = nt.restore(low, "superres", factor=2, prior=smooth_field_prior, steps=5, sampler="pnp")
    assert result.mean.shape == (32, 32)
    block_means = result.mean.reshape(16, 2, 16, 2).mean(axis=(1, 3))
    assert np.abs(block_means - low).max() < 0.1  # bicubic's are off by 0.5 here
    assert np.abs(result.mean - image).mean() < np.abs(result.baseline - image).mean()


def test_ct_and_mri_shapes():
    from napari_tweedie.operators import CartesianMRI, Radon

    x = torch.rand(1, 1, 24, 24)
    sinogram = Radon((24, 24), 16).forward(x)[0, 0].numpy()
    assert nt.restore(sinogram, "ct", prior=smooth_prior, steps=3).mean.shape == (24, 24)
    kspace = CartesianMRI((24, 24), acceleration=2).forward(x)[0, 0].numpy()
    result = nt.restore(
        kspace, "mri", acceleration=2, prior=smooth_prior, steps=3, sampler="diffpir"
    )
    assert result.mean.shape == (24, 24) and result.mean.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sampler": "nope"}, ValueError, "unknown sampler"),
        ({"bogus": 1}, TypeError, "unknown parameter"),
        ({"sampler": "ddim"}, ValueError, "only solves 'denoise'"),
        ({"prior": "tv", "sampler": "dps"}, ValueError, "differentiable"),
    ],
)
def test_bad_arguments(image, kwargs, error, match):
    with pytest.raises(error, match=match):
        nt.restore(
            image, "inpaint", mask=np.ones_like(image), steps=2, **{"prior": smooth_prior} | kwargs
        )


def test_nan_where_the_measurement_is_observed_is_an_error(image):
    holed = image.copy()
    holed[3, 4] = np.nan
    with pytest.raises(ValueError, match="where it is observed"):
        nt.restore(holed, "inpaint", mask=np.ones_like(image), steps=2, prior=smooth_prior)
    with pytest.raises(ValueError, match="where it is observed"):
        nt.restore(holed, "denoise", sigma_y=1.0, steps=2, prior=smooth_prior)


def test_cli_restore_writes_mean_and_std(tmp_path, image):
    source = tmp_path / "y.npy"
    mask = tmp_path / "mask.npy"
    np.save(source, image)
    np.save(mask, np.ones_like(image))
    out, std = tmp_path / "mean.npy", tmp_path / "std.npy"
    code = main(
        [
            "restore",
            str(source),
            str(out),
            "--operator",
            "inpaint",
            "--prior",
            "gaussian",
            "--steps",
            "3",
            "--samples",
            "2",
            "--std",
            str(std),
            "--set",
            f"mask={mask}",
        ]
    )
    assert code == 0 and np.load(out).shape == image.shape and np.load(std).shape == image.shape


@pytest.mark.parametrize(
    ("output", "std", "message"),
    [
        ("mask.npy", None, "overwrite the input"),  # a file loaded through --set
        ("mean.npy", "mask.npy", "overwrite the input"),
        ("mean.png", None, "float32"),
        ("mean.npy", "mean.npy", "--std names the output"),
    ],
)
def test_cli_restore_refuses_bad_outputs_before_writing_anything(
    tmp_path, image, capsys, output, std, message
):
    source, mask = tmp_path / "y.npy", tmp_path / "mask.npy"
    np.save(source, image)
    np.save(mask, np.ones_like(image))
    argv = ["restore", str(source), str(tmp_path / output), "--operator", "inpaint"]
    argv += ["--prior", "gaussian", "--steps", "2", "--set", f"mask={mask}"]
    argv += ["--std", str(tmp_path / std)] if std else []
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mask.npy", "y.npy"]
    np.testing.assert_array_equal(np.load(mask), np.ones_like(image))
