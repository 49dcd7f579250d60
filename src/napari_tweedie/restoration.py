"""``restore``: solve an inverse problem with a diffusion prior and draw posterior samples.

The measurement is normalised so that the unknown image lies roughly in [0, 1]
(the prior's range): a quick classical reconstruction (the operator's
``baseline``) gives an offset ``lo`` and a scale ``s``; for a linear ``A``,
``y' = (y - lo * A 1) / s`` measures ``x' = (x - lo) / s`` with noise
``sigma_y / s``.  Results are mapped back to the image's units.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch

from .data.scaling import percentile_range
from .operators import OPERATORS, LinearOperator, operator_spec
from .prior.bundled import pick_device
from .prior.select import get_prior
from .samplers import SAMPLERS, SamplerSpec, karras_sigmas
from .steps import Step, blocking, map_steps
from .validation import MAX_SAMPLES, MAX_STEPS, check_count, check_image, route

SIGMA_MAX = 20.0


@dataclass(frozen=True)
class Restoration:
    """Posterior samples of a restoration and their per-pixel mean and standard deviation."""

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray
    baseline: np.ndarray


@dataclass(frozen=True)
class Problem:
    """A normalised inverse problem ready for a sampler."""

    op: LinearOperator
    y: torch.Tensor
    offset: float
    scale: float
    baseline: np.ndarray

    def to_image(self, x: torch.Tensor) -> np.ndarray:
        return (x.detach().cpu().numpy()[:, 0] * self.scale + self.offset).astype(np.float32)


def sampler_spec(name: str) -> SamplerSpec:
    """The spec of sampler ``name``; a ``ValueError`` naming the choices if there is none."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; available: {', '.join(SAMPLERS)}")
    return SAMPLERS[name]


def split_params(operator: str, sampler: str, params: dict) -> tuple[dict, dict]:
    """Route keyword arguments to the operator or the sampler by their specs' params.

    Unknown names are a ``TypeError`` listing what each takes.
    """
    op_params, sampler_params = route(
        params, {operator: operator_spec(operator).params, sampler: sampler_spec(sampler).params}
    )
    return op_params, sampler_params


def prepare(y, operator: str, device: torch.device, **op_params) -> Problem:
    """Build the operator for ``y`` and normalise the problem to the prior's range."""
    measurement = np.asarray(y)
    check_image(measurement, "measurement", complex_ok=True)
    if measurement.ndim != 2:
        raise ValueError(f"expected a 2-D measurement, got shape {measurement.shape}")
    op = operator_spec(operator).for_measurement(measurement.shape, **op_params)
    dtype = torch.complex64 if np.iscomplexobj(measurement) else torch.float32
    finite = np.isfinite(measurement)
    y_t = torch.as_tensor(np.where(finite, measurement, 0), dtype=dtype, device=device)[None, None]
    y_t = op.observed(y_t)
    # NaN may mark what is not observed (inpainting holes); anywhere else it is an error
    bad = op.observed(torch.as_tensor(~finite, dtype=torch.float32, device=device)[None, None])
    if bool((bad.abs() > 0).any()):
        raise ValueError("the measurement contains NaN or infinite values where it is observed")
    baseline = op.baseline(y_t)
    lo, hi = percentile_range(baseline.real.cpu().numpy())
    scale = hi - lo if hi > lo else 1.0
    ones = torch.ones((1, 1, *op.image_shape), device=device)
    y_norm = (y_t - lo * op.forward(ones)) / scale
    op.sigma_y = op.sigma_y / scale
    image = baseline.real.cpu().numpy()[0, 0].astype(np.float32)
    return Problem(op, y_norm, lo, scale, image)


def restore_steps(
    y,
    operator: str,
    *,
    sampler: str | None = None,
    prior: str | Callable = "default",
    steps: int | None = None,
    samples: int | None = None,
    seed: int = 0,
    device: str = "auto",
    channel_axis: int | None = None,
    **params,
) -> Generator[Step, None, Restoration]:
    """Restore an image from a measurement with a diffusion prior (posterior sampling).

    ``restore_steps`` yields each sampler step (``x0_hat`` in image units, numpy;
    cancel by closing it) and returns the result; ``restore`` is its blocking form.

    Parameters
    ----------
    y : array-like
        The measurement: a 2-D image (denoise, blur, inpaint), the low-resolution
        image (superres), the sinogram (ct, angles x detectors) or the complex
        k-space (mri).
    operator : str
        A key of ``OPERATORS``: ``"denoise"``, ``"blur"`` (``psf=`` or
        ``sigma_blur=``/``motion=``), ``"inpaint"`` (``mask=``, 1 where
        observed), ``"superres"`` (``factor=``), ``"ct"`` (``angles=``,
        ``size=``), ``"mri"`` (``acceleration=`` or ``mask=``).  All take
        ``sigma_y`` (measurement noise std in the measurement's units; for MRI, of
        the real and of the imaginary part each).
    sampler : str, optional
        ``None`` (default): the operator's best point estimate
        (``OPERATORS[operator].default_sampler`` with its steps, settings and,
        for a stochastic sampler, the mean of ``default_samples`` samples;
        measured by ``benchmarks/bench_restore.py --defaults``).  Or a key
        of ``SAMPLERS``: ``"ddim"``, ``"dps"``, ``"dds"``, ``"red_diff"``,
        ``"diffpir"``, ``"pnp"`` (deterministic plug-and-play HQS: fast, one
        estimate, zero std); their own parameters (e.g. ``gamma``, ``cg_steps``,
        ``eta``, ``zeta``, ``lam``, ``lr``) pass through ``**params``.
    prior : str or callable
        ``"default"`` (the bundled network), ``"default-x8"`` (the same averaged
        over the eight flips and rotations: 8x slower, a little better; worth it
        with ``"pnp"``), a ``DENOISERS`` key, or a callable ``D(x, sigma)`` on
        [0, 1] images.
    steps, samples : int, optional
        Sampler steps and number of posterior samples; ``None``: the operator's
        defaults for its default sampler, else 50 steps and one sample.
        ``samples > 1`` gives the mean and the per-pixel std over samples
        (with ``sampler=None`` where the default is one deterministic
        estimate: samples of the operator's ``uncertainty_sampler``, DDS).
    seed : int
        Seed (same seed, same result).
    device : str
        ``"auto"`` (cuda, then mps, then cpu), or a torch device.
    channel_axis : int, optional
        The axis of ``y`` holding colour channels: the prior runs per channel in
        the orthonormal opponent colour space (:mod:`~napari_tweedie.data.colour`),
        and the result has the channel axis where ``y`` had it.

    Returns
    -------
    Restoration
        The generator's return value: ``mean``, ``std`` (per pixel, over
        samples), ``samples`` and the classical ``baseline`` reconstruction, in
        the image's units.
    """
    if channel_axis is not None:
        from .restoration_colour import colour_restore_steps

        settings = dict(sampler=sampler, prior=prior, steps=steps, samples=samples, seed=seed)
        return (yield from colour_restore_steps(y, operator, channel_axis, device=device,
                                                **settings, **params))  # fmt: skip
    sampler, steps, samples, params = resolve_defaults(operator, sampler, steps, samples, params)
    op_params, sampler_params = split_params(operator, sampler, params)
    steps = check_count("steps", steps, 1, MAX_STEPS, owner="restore")
    samples = check_count("samples", samples, 1, MAX_SAMPLES, owner="restore")
    torch_device = pick_device(device)
    problem = prepare(y, operator, torch_device, **op_params)
    denoiser = get_prior(prior, torch_device)
    spec = SAMPLERS[sampler]
    if spec.needs_differentiable_prior and getattr(denoiser, "differentiable", True) is False:
        raise ValueError(
            f"{sampler} needs a differentiable prior (the bundled network or a torch module)"
        )
    if not spec.data_term:
        _check_denoising(sampler, operator, problem)
    generator = torch.Generator().manual_seed(int(seed))
    shape = (samples, 1, *problem.op.image_shape)
    if spec.schedule is not None:
        sigmas = spec.schedule(steps, problem.op.sigma_y)
    else:
        sigmas = karras_sigmas(steps, sigma_max=SIGMA_MAX)
    kwargs = spec.defaults() | sampler_params
    if spec.data_term:
        x = (sigmas[0] * torch.randn(shape, generator=generator)).to(torch_device)
        kwargs |= {"op": problem.op, "y": problem.y}
    else:  # it denoises y from its own noise level
        x = problem.y.expand(shape).clone()
    if spec.needs_start_image:
        start = (problem.baseline - problem.offset) / problem.scale
        kwargs["init"] = torch.as_tensor(start, device=torch_device).expand(shape).clone()
    inner = spec.func(denoiser, x, sigmas, generator=generator, **kwargs)
    result = yield from _image_steps(inner, problem)
    images = problem.to_image(result)
    return Restoration(images.mean(0), images.std(0), images, problem.baseline)


def resolve_defaults(
    operator: str, sampler: str | None, steps: int | None, samples: int | None, params: dict
) -> tuple[str, int, int, dict]:
    """``(sampler, steps, samples, params)`` with ``None`` replaced by the operator's defaults.

    ``sampler=None`` picks the operator's ``default_sampler`` and its
    ``default_settings`` (the caller's ``params`` win); its ``default_steps``
    and ``default_samples`` (the mean of several samples for a stochastic
    sampler, so that the default is never one raw sample) apply to the
    ``None`` ones.  Asking for ``samples > 1`` where the default is one
    deterministic estimate picks the ``uncertainty_sampler`` (a std of zero
    is no uncertainty).  Another sampler gets 50 steps and one sample.
    """
    spec = operator_spec(operator)
    wants_spread = samples is not None and samples > 1 and spec.default_samples == 1
    if sampler is None and wants_spread:
        sampler = spec.uncertainty_sampler
    elif sampler is None:
        sampler = spec.default_sampler
        params = dict(spec.default_settings) | dict(params)
    sampler_spec(sampler)
    default = sampler == spec.default_sampler
    if steps is None:
        steps = spec.default_steps if default else 50
    if samples is None:
        samples = spec.default_samples if default and SAMPLERS[sampler].stochastic else 1
    return sampler, steps, samples, params


def _check_denoising(sampler: str, operator: str, problem: Problem) -> None:
    """Samplers without a data term start from y at its noise level: A = I, sigma_y > 0."""
    if not OPERATORS[operator].identity or problem.op.sigma_y <= 0:
        identities = ", ".join(repr(name) for name, op in OPERATORS.items() if op.identity)
        guided = ", ".join(name for name, spec in SAMPLERS.items() if spec.data_term)
        raise ValueError(
            f"the {sampler} sampler only solves {identities} with sigma_y > 0 (it has no data "
            f"term); use {guided}"
        )


def _image_steps(inner, problem: Problem):
    """Pass the sampler's steps on with ``x`` and ``x0_hat`` as numpy arrays in image units."""
    return map_steps(
        inner,
        lambda step: Step(
            step.i,
            step.n,
            step.sigma,
            problem.to_image(step.x),
            problem.to_image(step.x0_hat),
            step.info,
        ),
    )


def simulate_measurement(
    image, operator: str, *, seed: int = 0, sigma_y: float = 0.0, **op_params
) -> np.ndarray:
    """A measurement of ``image`` through ``operator`` with noise (for demos and benchmarks).

    ``sigma_y`` is in the measurement's units; CT takes ``photons=`` for Poisson
    transmission noise.  Returns a real array, or a complex one for MRI.
    """
    x = np.asarray(image, dtype=np.float32)
    op = operator_spec(operator).for_image(x.shape, sigma_y=sigma_y, **op_params)
    generator = torch.Generator().manual_seed(int(seed))
    y = op.simulate(torch.from_numpy(x)[None, None], generator)
    return y[0, 0].numpy()


restore = blocking(restore_steps)
