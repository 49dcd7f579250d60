"""SURE/PURE risk estimates, auto-tune and one-pass posterior uncertainty (``tuning``)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import skimage.transform

import napari_tweedie as nt
from napari_tweedie.cli import main
from napari_tweedie.noise import NOISE_MODELS
from napari_tweedie.steps import run
from napari_tweedie.tuning import tune_steps
from napari_tweedie.tuning.scores import block_means

SIGMA = 0.1
SEEDS = range(10)


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    camera = skimage.data.camera().astype(np.float32) / 255
    return skimage.transform.resize(camera, (64, 64), anti_aliasing=True).astype(np.float32)


def gaussian_noisy(clean, seed):
    noise = np.random.default_rng(seed).standard_normal(clean.shape)
    return (clean + SIGMA * noise).astype(np.float32)


def estimates_and_truths(clean, noisy_of, method, noise="gaussian", **params):
    est, true = [], []
    for seed in SEEDS:
        y = noisy_of(clean, seed)
        est.append(nt.sure(y, method, noise=noise, seed=seed, **params))
        true.append(np.mean((nt.denoise(y, method, noise=noise, **params) - clean) ** 2))
    return np.array(est), np.array(true)


@pytest.mark.parametrize(
    ("method", "params", "tolerance"),
    [("gaussian", {"sigma_spatial": 1.0}, 0.04), ("tv", {}, 0.06), ("nl_means", {}, 0.06)],
)
def test_sure_is_unbiased_on_gaussian_noise(clean, method, params, tolerance):
    est, true = estimates_and_truths(clean, gaussian_noisy, method, sigma=SIGMA, **params)
    error = est - true
    standard_error = error.std(ddof=1) / np.sqrt(len(error))
    assert abs(error.mean()) < max(3 * standard_error, 1e-3 * true.mean())
    assert abs(est.mean() - true.mean()) < tolerance * true.mean()


def test_pure_is_unbiased_on_poisson_noise(clean):
    zeta = 0.02

    def noisy_of(x, seed):
        return (zeta * np.random.default_rng(seed).poisson(x / zeta)).astype(np.float32)

    est, true = estimates_and_truths(clean, noisy_of, "tv", noise="poisson", zeta=zeta)
    error = est - true
    assert abs(error.mean()) < 3 * error.std(ddof=1) / np.sqrt(len(error))
    assert abs(est.mean() - true.mean()) < 0.08 * true.mean()


def test_gaussian_filter_divergence_is_the_exact_jacobian_diagonal():
    from scipy import ndimage

    spec = nt.DENOISERS["gaussian"]
    for shape, width in [((9, 30), 1.3), ((4, 6), 2.0)]:
        brute = np.zeros(shape)
        for i, j in np.ndindex(shape):
            delta = np.zeros(shape)
            delta[i, j] = 1
            brute[i, j] = ndimage.gaussian_filter(delta, width, mode="reflect")[i, j]
        exact = spec.divergence(shape, sigma=SIGMA, sigma_spatial=width)
        np.testing.assert_allclose(exact, brute, atol=1e-12)
    assert spec.divergence((4, 4), sigma=SIGMA) is None  # width still data-dependent


@pytest.mark.parametrize("noise", ["gaussian", "poisson_gaussian"])
def test_exact_divergence_agrees_with_monte_carlo(clean, noise):
    from napari_tweedie.tuning.sure import risk_problem

    zeta = 0.02
    rng = np.random.default_rng(7)
    if noise == "gaussian":
        y, kwargs = gaussian_noisy(clean, 7), {"sigma": SIGMA}
    else:
        y = zeta * rng.poisson(clean / zeta) + 0.02 * rng.standard_normal(clean.shape)
        y, kwargs = y.astype(np.float32), {"zeta": zeta, "sigma": 0.02}
    kwargs |= {"noise": noise, "sigma_spatial": 1.2}
    assert risk_problem(y, "gaussian", **kwargs).calls == 1
    exact = nt.sure(y, "gaussian", **kwargs)
    mc = np.array([nt.sure(y, "gaussian", divergence="monte-carlo", seed=s, **kwargs)
                   for s in SEEDS])  # fmt: skip
    assert abs(exact - mc.mean()) < max(3 * mc.std(ddof=1) / np.sqrt(len(mc)), 1e-3 * exact)
    with pytest.raises(ValueError, match="divergence"):
        nt.sure(y, "gaussian", divergence="nope", **kwargs)


def test_exact_divergence_is_unbiased_under_poisson_gaussian_noise(clean):
    zeta, read = 0.02, 0.02

    def noisy_of(x, seed):
        rng = np.random.default_rng(seed)
        return (zeta * rng.poisson(x / zeta) + read * rng.standard_normal(x.shape)).astype(
            np.float32
        )

    est, true = estimates_and_truths(
        clean, noisy_of, "gaussian", noise="poisson_gaussian", zeta=zeta, sigma=read,
        sigma_spatial=1.0,
    )  # fmt: skip
    error = est - true
    assert abs(error.mean()) < 3 * error.std(ddof=1) / np.sqrt(len(error))


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_every_noise_model_has_risk_weights_or_none(name):
    model = NOISE_MODELS[name](**{p.name: 0.5 for p in NOISE_MODELS[name].params})
    weights = model.risk_variance(np.ones((4, 4)))
    assert weights is None or weights.shape == (4, 4)


def test_no_unbiased_estimate_is_a_clear_error(clean):
    with pytest.raises(ValueError, match="no unbiased risk estimate"):
        nt.sure(clean + 0.5, "tv", noise="gamma", k=50)


def test_same_seed_same_numbers(clean):
    y = gaussian_noisy(clean, 0)
    first = nt.sure(y, "tv", sigma=SIGMA, seed=3)
    assert nt.sure(y, "tv", sigma=SIGMA, seed=3) == first
    assert nt.sure(y, "tv", sigma=SIGMA, seed=4) != first
    assert nt.tune(y, "tv", sigma=SIGMA, seed=3) == nt.tune(y, "tv", sigma=SIGMA, seed=3)


def test_sure_map_averages_to_sure(clean):
    y = gaussian_noisy(clean, 1)
    blocks = nt.sure_map(y, "tv", sigma=SIGMA, block=16)
    assert blocks.shape == (4, 4)
    assert np.isclose(blocks.mean(), nt.sure(y, "tv", sigma=SIGMA))
    assert block_means(np.ones((5, 7)), 4).shape == (2, 2)


def test_tune_finds_the_grid_optimum(clean):
    y = gaussian_noisy(clean, 2)
    steps = []
    tuned = run(tune_steps(y, "gaussian", sigma=SIGMA), steps.append)
    trials = [s for s in steps if s.info and "sure" in s.info]
    assert max(s.i for s in steps) <= 15 and len(trials) <= 7
    grid = np.geomspace(0.3, 3.0, 25)
    risks = [nt.sure(y, "gaussian", sigma=SIGMA, sigma_spatial=s) for s in grid]
    best = grid[int(np.argmin(risks))]
    assert abs(np.log(tuned["sigma_spatial"] / best)) < np.log(grid[1] / grid[0]) * 1.5
    assert nt.sure(y, "gaussian", sigma=SIGMA, **tuned) <= min(risks) * 1.005
    default = nt.sure(y, "gaussian", sigma=SIGMA)
    assert nt.sure(y, "gaussian", sigma=SIGMA, **tuned) <= default


def test_tune_two_parameters_and_named_ones(clean):
    y = gaussian_noisy(clean, 3)
    tuned = nt.tune(y, "bilateral", sigma=SIGMA, budget=12)
    assert set(tuned) == {"sigma_spatial", "sigma_color"}
    assert set(nt.tune(y, "nl_means", sigma=SIGMA, params=["h"], budget=6)) == {"h"}


def test_tune_two_parameters_reaches_the_fine_grid_minimum(clean):
    """Bilateral's range width and spatial width: a tilted, sharp valley of the risk."""
    from napari_tweedie.tuning.sure import risk_problem
    from napari_tweedie.tuning.tune import Axis, tunable_params

    ratios = []
    for seed in range(3):
        y = gaussian_noisy(clean, seed)
        tuned = nt.tune(y, "bilateral", sigma=SIGMA, seed=seed)
        problem = risk_problem(y, "bilateral", sigma=SIGMA, seed=seed)
        axes = [Axis.of(p, problem.params.get(p.name), problem.method_sigma)
                for p in tunable_params(nt.DENOISERS["bilateral"])]  # fmt: skip
        grid = np.linspace(0, 1, 13)
        risks = [nt.sure(y, "bilateral", sigma=SIGMA, seed=seed,
                         **{a.name: a.value(u) for a, u in zip(axes, (u, v))})
                 for u in grid for v in grid]  # fmt: skip
        ratios.append(nt.sure(y, "bilateral", sigma=SIGMA, seed=seed, **tuned) / min(risks))
    # the one-sweep search with quarter-range first steps stayed 1-7 % above (mean 3.4 %)
    assert np.mean(ratios) < 1.005 and max(ratios) < 1.03


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("filter2noise", None, "fits a model on every run"),
        ("tv", ["nope"], "no parameter"),
        ("wavelet", ["mode"], "numeric parameters only"),
        ("nl_means", ["patch_size", "patch_distance", "h"], "one or two"),
    ],
)
def test_tune_errors(clean, method, params, message):
    with pytest.raises(ValueError, match=message):
        nt.tune(clean, method, sigma=SIGMA, params=params)


def test_uncertainty_of_a_gaussian_prior_is_the_analytic_posterior_std(clean):
    from napari_tweedie.prior.gaussian import GaussianPrior

    prior = GaussianPrior(mean=0.5, std=0.2)
    expected = np.sqrt(SIGMA**2 * prior.std**2 / (prior.std**2 + SIGMA**2))
    # the Jacobian part alone is exact whatever the image (the denoiser is linear)
    y = gaussian_noisy(clean, 4)
    std = nt.uncertainty(y, prior, sigma=SIGMA, model_error=False)
    np.testing.assert_allclose(std, expected, rtol=1e-3)
    again = nt.uncertainty(y, prior, sigma=SIGMA, probes=4, seed=1, model_error=False)
    np.testing.assert_allclose(again, expected, rtol=1e-3)
    # a clean image drawn from the prior: the denoiser is its exact MMSE estimator, so the
    # model-error term is (about) zero and the default std is the analytic one
    x = (0.5 + 0.2 * np.random.default_rng(7).standard_normal((64, 64))).astype(np.float32)
    y = gaussian_noisy(x, 8)
    np.testing.assert_allclose(nt.uncertainty(y, prior, sigma=SIGMA), expected, rtol=1e-2)


def test_model_error_is_zero_for_the_mmse_denoiser_and_found_for_a_misscaled_one():
    from napari_tweedie.prior.gaussian import GaussianPrior
    from napari_tweedie.tuning.uncertainty import uncertainty_parts

    for seed in range(3):
        rng = np.random.default_rng(seed)
        x = (0.5 + 0.2 * rng.standard_normal((64, 64))).astype(np.float32)
        y = (x + SIGMA * rng.standard_normal(x.shape)).astype(np.float32)
        exact = uncertainty_parts(y, GaussianPrior(mean=0.5, std=0.2), sigma=SIGMA, seed=seed)
        assert exact.model_error.min() >= 0
        assert exact.model_error.mean() < 1e-3 * exact.variance.mean()
        assert np.mean(exact.model_error > 0) < 0.05
        # a prior four times too narrow: it over-smooths, its error is mostly bias
        wrong = uncertainty_parts(y, GaussianPrior(mean=0.5, std=0.05), sigma=SIGMA, seed=seed)
        rms_error = np.sqrt(np.mean((wrong.output - x) ** 2))
        assert np.sqrt(wrong.variance.mean()) < 0.5 * rms_error  # the Jacobian misses it
        assert wrong.model_error.min() > 0
        total = np.sqrt(np.mean(wrong.variance + wrong.model_error))
        assert abs(total - rms_error) < 0.2 * rms_error


def test_uncertainty_refuses_other_methods_and_bad_probes(clean):
    with pytest.raises(ValueError, match="nt.restore"):
        nt.uncertainty(clean, "tv", sigma=SIGMA)
    with pytest.raises(ValueError, match="square"):
        nt.uncertainty(clean, lambda x, s: x, sigma=SIGMA, probes=5)


def test_cli_tune_and_sure(tmp_path, clean, capsys):
    source, out = tmp_path / "noisy.npy", tmp_path / "out.npy"
    y = gaussian_noisy(clean, 5)
    np.save(source, y)
    argv = ["denoise", str(source), str(out), "--method", "tv", "--sigma", str(SIGMA)]
    assert main([*argv, "--tune", "--sure", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("tuned tv: weight=")
    assert lines[1].startswith("SURE MSE ") and "estimated PSNR" in lines[1]
    tuned = nt.tune(y, "tv", sigma=SIGMA)
    assert f"weight={tuned['weight']:.4g}" in lines[0]
    expected = nt.denoise_lazy(y, "tv", sigma=SIGMA, **tuned).compute()
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)


def test_uncertainty_of_the_bundled_prior_is_a_plausible_std(clean):
    if nt.DENOISERS["prior"].requires():
        pytest.skip("bundled prior weights missing")
    y = gaussian_noisy(clean, 6)
    std = nt.uncertainty(y, "prior", sigma=SIGMA, probes=4)
    assert std.shape == y.shape and std.dtype == np.float32
    assert 0.1 * SIGMA < float(np.sqrt(np.mean(std**2))) < SIGMA
    np.testing.assert_array_equal(std, nt.uncertainty(y, "prior", sigma=SIGMA, probes=4))


def test_sure_and_uncertainty_take_the_device_keyword_of_denoise():
    """The Denoise widget's settings carry ``device`` (the quality panel passes them on)."""
    import napari_tweedie as nt

    rng = np.random.default_rng(0)
    noisy = (0.5 + 0.1 * rng.standard_normal((32, 32))).astype(np.float32)
    assert np.isfinite(nt.sure(noisy, "tv", sigma=0.1, device="cpu"))
    assert nt.uncertainty(noisy, "prior", sigma=0.1, device="cpu", probes=4).shape == noisy.shape
    with pytest.raises(ValueError, match="device must be"):
        nt.sure(noisy, "prior", sigma=0.1, device="gpu")
