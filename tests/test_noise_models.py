"""Noise models: exact Tweedie inversions, unbiased Anscombe inverse, estimation, sampling.

The last section runs the same checks on every entry of ``NOISE_MODELS``.
"""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from scipy import integrate, special, stats

from napari_tweedie.noise import (
    NOISE_MODELS,
    GammaNoise,
    GaussianNoise,
    NoiseModel,
    PoissonGaussianNoise,
    PoissonNoise,
    estimation,
    make_noise_model,
)
from napari_tweedie.noise.vst import generalized_anscombe, inverse_generalized_anscombe


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    """The camera-man image on [0.05, 0.95] (a real image, strictly positive)."""
    return 0.05 + 0.9 * skimage.data.camera().astype(np.float64) / 255


# --- Tweedie inversions against closed-form posteriors ------------------------


def test_gaussian_tweedie_is_the_posterior_mean_of_a_gaussian_prior():
    mu, tau, sigma = 0.4, 0.2, 0.1
    y = np.linspace(-0.5, 1.5, 41)
    score = lambda t: -(t - mu) / (tau**2 + sigma**2)  # noqa: E731  marginal N(mu, tau^2+sigma^2)
    posterior = mu + tau**2 / (tau**2 + sigma**2) * (y - mu)
    model = GaussianNoise(sigma)
    np.testing.assert_allclose(model.tweedie(y, score), posterior, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.tweedie(y, score(y)), posterior, rtol=1e-12, atol=1e-14)


def test_poisson_tweedie_is_the_posterior_mean_of_a_gamma_prior():
    # x / zeta ~ Gamma(a, rate b): the counts are negative binomial, with log-pmf
    # lgamma(z + a) - lgamma(z + 1) + z log(1 / (b + 1)) + const, smooth in z.
    zeta, a, b = 0.05, 3.0, 0.4
    z = np.arange(0, 60, dtype=np.float64)
    y = zeta * z

    def score(t):
        u = t / zeta
        return (special.digamma(u + a) - special.digamma(u + 1) - np.log(b + 1)) / zeta

    posterior = zeta * (z + a) / (b + 1)
    model = PoissonNoise(zeta)
    np.testing.assert_allclose(model.tweedie(y, score, nodes=12), posterior, rtol=1e-9)
    # one node: (y + zeta) exp(zeta s(y + zeta/2)), accurate to O(1/z^2)
    midpoint = model.tweedie(y, score)
    assert np.all(np.abs(midpoint / posterior - 1)[10:] < 2e-3)
    # Noise2Score's code form (y + zeta/2) exp(zeta s(y)) is biased by -zeta/2 x shrinkage
    code_form = (y + zeta / 2) * np.exp(zeta * score(y))
    np.testing.assert_allclose((code_form - posterior)[20:], -zeta / 2 / (b + 1), rtol=0.05)
    # the posterior mean itself, by quadrature over the prior
    lam = np.linspace(1e-6, 80, 400001)
    for count in (0, 7, 30):
        weight = stats.gamma.pdf(lam, a, scale=1 / b) * stats.poisson.pmf(count, lam)
        exact = zeta * integrate.simpson(lam * weight, x=lam) / integrate.simpson(weight, x=lam)
        assert exact == pytest.approx(posterior[count], rel=1e-6)


def test_poisson_gaussian_tweedie_is_the_posterior_mean_of_a_discrete_prior():
    zeta, sigma = 0.1, 0.15
    atoms, weights = np.array([0.3, 1.0, 2.2]), np.array([0.5, 0.3, 0.2])
    counts = np.arange(0, 80)[:, None, None]

    def densities(t):
        lam = (atoms / zeta)[None, :, None]
        pois = stats.poisson.pmf(counts, lam)
        gauss = stats.norm.pdf(np.asarray(t)[None, None, :], zeta * counts, sigma)
        return (pois * gauss).sum(axis=0), (pois * gauss * (zeta * counts - t) / sigma**2).sum(0)

    def score(t):
        t = np.asarray(t, dtype=np.float64)
        p, dp = densities(t.ravel())
        return ((weights @ dp) / (weights @ p)).reshape(t.shape)

    y = np.linspace(-0.1, 2.5, 27)
    p, _ = densities(y)
    posterior = (weights * atoms) @ p / (weights @ p)
    model = PoissonGaussianNoise(zeta, sigma)
    np.testing.assert_allclose(model.tweedie(y, score, nodes=24), posterior, rtol=1e-7)


def test_gamma_tweedie_is_the_harmonic_posterior_mean_of_an_inverse_gamma_prior():
    # 1/x ~ Gamma(alpha, rate beta); y | x ~ x Gamma(k, 1/k) = Gamma(k, rate k/x).
    k, alpha, beta = 20.0, 4.0, 1.5
    y = np.linspace(0.05, 3.0, 30)
    score = lambda t: (k - 1) / t - k * (alpha + k) / (beta + k * t)  # noqa: E731
    harmonic = (beta + k * y) / (alpha + k)  # 1 / E[1/x | y]
    np.testing.assert_allclose(GammaNoise(k).tweedie(y, score), harmonic, rtol=1e-12)
    # check the closed-form posterior by quadrature over theta = 1/x
    theta = np.linspace(1e-6, 30, 300001)
    prior = stats.gamma.pdf(theta, alpha, scale=1 / beta)
    for value in (0.2, 1.0, 2.5):
        weight = prior * stats.gamma.pdf(value, k, scale=1 / (k * theta))
        mean_theta = integrate.simpson(theta * weight, x=theta) / integrate.simpson(weight, x=theta)
        assert 1 / mean_theta == pytest.approx((beta + k * value) / (alpha + k), rel=1e-6)


# --- generalised Anscombe: unbiased inverse -----------------------------------


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_anscombe_inverse_is_unbiased_for_poisson_counts(sigma):
    nodes = np.linspace(-8, 8, 1601)  # expectation over the Gaussian part (fine grid)
    gh_weights = stats.norm.pdf(nodes) / stats.norm.pdf(nodes).sum()
    for lam in (0.3, 1.0, 3.0, 10.0, 40.0, 200.0):
        z = np.arange(0, int(lam + 15 * np.sqrt(lam) + 20), dtype=np.float64)
        pmf = stats.poisson.pmf(z, lam)
        values = generalized_anscombe(z[:, None] + sigma * nodes[None, :], sigma)
        ideal = float(pmf @ np.asarray(values, np.float64) @ gh_weights)  # E[f(z)]
        inverse = float(inverse_generalized_anscombe(np.array([ideal]), sigma)[0])
        assert abs(inverse - lam) < 1e-3 + 1e-4 * lam, (lam, inverse)
        if lam <= 3:  # where the naive algebraic inverse is visibly biased
            naive = (ideal / 2) ** 2 - 3 / 8 - sigma**2
            assert abs(naive - lam) > 10 * (1e-3 + 1e-4 * lam), (lam, naive)


def test_stabilizer_round_trip_in_image_units():
    zeta = 0.01
    lam = np.array([0.5, 2.0, 8.0])  # mean counts
    stabilizer = PoissonNoise(zeta).stabilizer()
    for value in lam:
        z = np.arange(0, 100, dtype=np.float64)
        pmf = stats.poisson.pmf(z, value)
        ideal = pmf @ np.asarray(stabilizer.forward(zeta * z), np.float64)
        assert stabilizer.inverse(np.array([ideal]))[0] == pytest.approx(zeta * value, rel=0.01)


# --- estimation on a real image --------------------------------------------------


@pytest.mark.parametrize("sigma", [0.03, 0.1])
def test_estimate_sigma_within_10_percent(camera, sigma):
    y = GaussianNoise(sigma).sample(camera, np.random.default_rng(1))
    assert estimation.estimate_sigma(y) == pytest.approx(sigma, rel=0.1)


@pytest.mark.parametrize("zeta", [0.01, 0.03, 0.1])
def test_estimate_poisson_within_10_percent(camera, zeta):
    y = PoissonNoise(zeta).sample(camera, np.random.default_rng(2))
    assert estimation.estimate_poisson(y) == pytest.approx(zeta, rel=0.1)
    assert PoissonNoise.estimate(y).zeta == pytest.approx(zeta, rel=0.1)


@pytest.mark.parametrize(("zeta", "sigma"), [(0.01, 0.03), (0.02, 0.05)])
def test_estimate_poisson_gaussian_within_10_percent(camera, zeta, sigma):
    y = PoissonGaussianNoise(zeta, sigma).sample(camera, np.random.default_rng(3))
    est_zeta, est_sigma = estimation.estimate_poisson_gaussian(y)
    assert est_zeta == pytest.approx(zeta, rel=0.1)
    assert est_sigma == pytest.approx(sigma, rel=0.1)
    fixed = estimation.estimate_poisson_gaussian(y, sigma=sigma)
    assert fixed[0] == pytest.approx(zeta, rel=0.1) and fixed[1] == sigma
    # a given zeta leaves sigma to fit against the whole variance zeta * mean + sigma^2
    fixed = estimation.estimate_poisson_gaussian(y, zeta=zeta)
    assert fixed[0] == zeta and fixed[1] == pytest.approx(sigma, rel=0.1)


@pytest.mark.parametrize("k", [2.0, 10.0, 50.0, 100.0])
def test_estimate_gamma_k_within_10_percent(camera, k):
    y = GammaNoise(k).sample(camera, np.random.default_rng(4))
    assert estimation.estimate_gamma_k(y) == pytest.approx(k, rel=0.1)


def test_make_noise_model_estimates_missing_parameters(camera):
    y = PoissonGaussianNoise(0.02, 0.05).sample(camera, np.random.default_rng(5))
    model = make_noise_model("poisson_gaussian", y, sigma=0.05)
    assert model.sigma == 0.05 and model.zeta == pytest.approx(0.02, rel=0.1)
    assert make_noise_model("gamma", k=3.0) == GammaNoise(3.0)
    with pytest.raises(ValueError, match="unknown noise"):
        make_noise_model("laplace")


# --- sampling and likelihoods ---------------------------------------------------

MODELS = [GaussianNoise(0.1), PoissonNoise(0.02), PoissonGaussianNoise(0.02, 0.03), GammaNoise(5.0)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_sampling_is_reproducible_with_the_same_generator(model):
    x = np.linspace(0.1, 1.0, 64).reshape(8, 8)
    a = model.sample(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, model.sample(x, np.random.default_rng(7)))
    assert not np.array_equal(a, model.sample(x, np.random.default_rng(8)))
    xt = torch.from_numpy(x)
    t = model.sample_torch(xt, torch.Generator().manual_seed(7))
    torch.testing.assert_close(t, model.sample_torch(xt, torch.Generator().manual_seed(7)))
    # right mean and variance
    big = np.full(200000, 0.5)
    draws = model.sample(big, np.random.default_rng(9))
    variance = {"gaussian": 0.01, "poisson": 0.01, "poisson_gaussian": 0.01 + 0.0009}
    variance["gamma"] = 0.25 / 5.0
    assert draws.mean() == pytest.approx(0.5, abs=0.003)
    assert draws.var() == pytest.approx(variance[model.name], rel=0.03)


def test_log_likelihoods_match_scipy():
    y, x = np.array([0.3, 0.5, 1.2]), np.array([0.4, 0.5, 1.0])
    np.testing.assert_allclose(
        GaussianNoise(0.1).log_likelihood(y, x), stats.norm.logpdf(y, x, 0.1), rtol=1e-12
    )
    np.testing.assert_allclose(
        PoissonNoise(0.1).log_likelihood(y, x), stats.poisson.logpmf([3, 5, 12], x / 0.1)
    )
    np.testing.assert_allclose(
        GammaNoise(7.0).log_likelihood(y, x), stats.gamma.logpdf(y, 7.0, scale=x / 7.0)
    )
    grid = np.linspace(-1, 3, 4001)
    density = np.exp(PoissonGaussianNoise(0.1, 0.05).log_likelihood(grid, np.full_like(grid, 0.7)))
    assert integrate.simpson(density, x=grid) == pytest.approx(1.0, abs=1e-6)


# --- every entry of NOISE_MODELS ---------------------------------------------------

#: a typical value of every noise parameter (a new parameter name needs one here)
EXAMPLE = {"sigma": 0.05, "zeta": 0.02, "k": 20.0}


def example(cls: type[NoiseModel]) -> NoiseModel:
    return cls(**{name: EXAMPLE[name] for name in cls.param_names()})


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_registry_entry_describes_itself(name):
    cls = NOISE_MODELS[name]
    assert issubclass(cls, NoiseModel) and cls.name == name
    assert cls.summary and cls.params and cls.variance_terms
    assert all(p.default is None and p.kind == "float" and p.tooltip for p in cls.params)
    model = example(cls)
    assert model.values() == {n: EXAMPLE[n] for n in cls.param_names()}
    assert make_noise_model(name, **model.values()) == model
    assert cls.invalid(model.values()) == []
    assert cls.invalid({n: -1.0 for n in cls.param_names()}) == list(cls.param_names())


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_variance_function_matches_sampling(name):
    model = example(NOISE_MODELS[name])
    draws = model.sample(np.full(200000, 0.5), np.random.default_rng(11))
    expected = float(model.variance(np.array([0.5]))[0])
    assert draws.var() == pytest.approx(expected, rel=0.03)
    assert model.mean_variance(draws) == pytest.approx(expected, rel=0.03)
    assert model.signal_dependent == (model.variance_terms != (0,))


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_stabiliser_round_trip_is_unbiased(name):
    model = example(NOISE_MODELS[name])
    rng = np.random.default_rng(12)
    stabilizer = model.stabilizer()
    for level in (0.1, 0.5, 0.9):
        y = model.sample(np.full(100000, level), rng)
        if stabilizer is None:  # additive Gaussian noise: nothing to stabilise
            assert not model.signal_dependent
            np.testing.assert_allclose(model.stabilise(y) * model.sigma, y, rtol=1e-5, atol=1e-6)
            continue
        d = np.mean(np.asarray(stabilizer.forward(y), np.float64))
        assert float(stabilizer.inverse(np.array([d]))[0]) == pytest.approx(level, rel=0.01)
        assert np.std(model.stabilise(y)) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_tweedie_inverts_sampling_under_a_point_prior(name):
    # a point prior x: the marginal density is the likelihood itself, and every
    # posterior estimate is x.  The score is a central difference of the
    # log-likelihood, over one lattice step zeta for the Poisson family.
    model = example(NOISE_MODELS[name])
    x = np.linspace(0.2, 0.8, 256).reshape(16, 16)
    y = model.sample(x, np.random.default_rng(13))
    h = getattr(model, "zeta", 1e-4)

    def score(t):
        return (model.log_likelihood(t + h / 2, x) - model.log_likelihood(t - h / 2, x)) / h

    estimate = model.tweedie(y, score)
    assert np.all(np.isfinite(estimate))
    assert np.median(np.abs(estimate / x - 1)) < 0.01


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_estimator_recovers_the_parameters(camera, name):
    truth = example(NOISE_MODELS[name])
    y = truth.sample(camera, np.random.default_rng(14))
    found = NOISE_MODELS[name].estimate(y)
    assert type(found) is type(truth)
    for key, value in truth.values().items():
        assert found.values()[key] == pytest.approx(value, rel=0.1), found
    assert make_noise_model(name, y) == found


@pytest.mark.parametrize("name", list(NOISE_MODELS))
def test_plausible_keeps_the_clean_image_and_clips_runaway_estimates(camera, name):
    # the guard on learned-score Tweedie estimates: the clean image is (almost
    # always) within 3 noise standard deviations of its measurement, an estimate
    # 100 times the data's maximum is not, and is moved next to the measurement
    model = example(NOISE_MODELS[name])
    y = model.sample(camera, np.random.default_rng(15))
    assert np.mean(model.plausible(y, camera) == camera) > 0.995
    runaway = np.full_like(camera, 100 * y.max())
    clipped = model.plausible(y, runaway)
    assert np.all(clipped < runaway) and np.all(clipped >= y)
    assert np.median(clipped - camera) < 4 * np.sqrt(model.variance(camera)).max()
    low = model.plausible(y, np.full_like(camera, -100.0))
    assert np.all(low > -100.0) and np.all(low <= y)
