"""Noise2Score (Kim & Ye, NeurIPS 2021): an AR-DAE score network fitted to noisy images + Tweedie.

Noise2Score denoises a dataset of noisy images without clean ones in two steps:

1. learn the score ``s(y) = d/dy log p(y)`` of the noisy images with the
   amortised residual denoising autoencoder loss (AR-DAE, :mod:`.training`),
   with ``sigma_a`` annealed from ``sigma_max`` down to ``sigma_min``;
2. invert the noise with Tweedie's formula for the noise model
   (:mod:`napari_tweedie.noise.models`): ``y + sigma^2 s(y)`` (Gaussian),
   ``(y + zeta) exp(zeta s(y + zeta/2))`` (Poisson), ``k y / ((k - 1) - y s(y))``
   (Gamma).  The network does not depend on the noise parameters; only the
   inversion does, so a trained model can be re-applied with other parameters.

The score network (:mod:`.model`) is the bundled prior's UNet used as a
noise-conditional denoiser; ``init="prior"`` starts from the prior's trained
weights (for Gaussian noise that is already the right score family),
``init="scratch"`` from random weights (as in the paper).

>>> gen = fit_noise2score(stack, noise="poisson", minutes=5)   # doctest: +SKIP
>>> model = run(gen, callback=show_preview)                    # doctest: +SKIP
>>> clean = model.denoise(stack)                               # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Generator

import numpy as np
import torch

from ...noise import noise_model_class
from ...steps import Step
from .coords import make_coordinates, noise_variance, scale_noise_model
from .data import PatchSource
from .model import Noise2Score
from .net import build_score_net
from .spec import DEFAULTS

__all__ = ["fit_noise2score", "lattice_step"]

LR = {"prior": 1e-4, "scratch": 1e-3}
LATTICE_FLOOR = 0.75  # smallest sigma_a in units of the data's quantisation step


def _scaling(sample: np.ndarray, noise: str) -> tuple[float, float]:
    """``(offset, scale)`` mapping the data to about [0, 1]; identity if it is already there.

    Noisy data on [0, 1] overshoots by a few noise levels, hence the margins.
    Signal-dependent models (Poisson, Gamma) are not shift-invariant: scale only.
    """
    finite = sample[np.isfinite(sample)]
    low, high = (float(v) for v in np.percentile(finite, [0.1, 99.9]))
    model = noise_model_class(noise)
    if model.signal_dependent:
        if model.positive_only and low < -0.05 * max(abs(high), 1e-12):
            raise ValueError(f"{noise} noise needs non-negative images")
        if 0.25 <= high <= 1.5:
            return 0.0, 1.0
        return 0.0, high if high > 0 else 1.0
    if low >= -0.5 and high <= 1.5 and high - low >= 0.25:
        return 0.0, 1.0
    return low, (high - low) if high > low else 1.0


def _noise_model(noise: str, sample: np.ndarray, noise_params: dict | None):
    cls = noise_model_class(noise)
    params = {k: v for k, v in (noise_params or {}).items() if v is not None}
    unknown = set(params) - set(cls.param_names())
    if unknown:
        raise ValueError(f"noise {noise!r} takes {cls.param_names()}, got {sorted(unknown)}")
    if cls.invalid(params):
        raise ValueError(f"noise parameters must be positive, got {params}")
    finite = np.where(np.isfinite(sample), sample, np.nanmedian(sample))
    return cls.estimate(finite, **params)


def _new_model(source, noise, noise_params, coordinates, init, config, seed) -> Noise2Score:
    sample = source.statistics_sample()
    offset, scale = _scaling(sample, noise)
    model = _noise_model(noise, sample, noise_params)
    scaled, scaled_sample = scale_noise_model(model, scale), (sample - offset) / scale
    sigma_eff = math.sqrt(max(noise_variance(scaled, scaled_sample), 1e-12))
    coords = make_coordinates(coordinates, scaled, scaled_sample, sigma_eff)
    net = build_score_net(init, coords, seed)
    v_sample = coords.transform(torch.from_numpy(scaled_sample.astype(np.float32)))[0]
    config = config | {"lattice": lattice_step(v_sample.numpy())}
    return Noise2Score(net, model, offset, scale, sigma_eff=sigma_eff, config=config)


def lattice_step(sample: np.ndarray) -> float:
    """Noise2Score AR-DAE floor: the spacing of the values of quantised data (0 if continuous).

    Counts (Poisson: multiples of ``zeta``) and integer images take values on
    a lattice.  Smoothed by ``sigma_a`` much below its spacing, their density
    is a comb whose score reveals the perturbation itself, so the AR-DAE fit
    would learn the comb instead of the smooth score that Tweedie's formula
    needs; ``sigma_a >= 0.75 * spacing`` damps the comb by ``exp(-2 pi^2
    0.75^2)``, about 1e-5.
    """
    values = np.unique(sample[np.isfinite(sample)])
    if values.size < 2 or values.size > 0.5 * np.isfinite(sample).sum():
        return 0.0
    gaps = np.diff(values)
    return float(np.median(gaps[gaps > 0]))


def fit_noise2score(
    images,
    *,
    noise: str = "gaussian",
    noise_params: dict | None = None,
    minutes: float | None = None,
    steps: int = DEFAULTS["steps"],
    batch: int = DEFAULTS["batch"],
    patch: int = DEFAULTS["patch"],
    lr: float | None = None,
    sigma_max: float = DEFAULTS["sigma_max"],
    sigma_min: float = DEFAULTS["sigma_min"],
    ema: float = DEFAULTS["ema"],
    init: str = "prior",
    coordinates: str = "auto",
    preview_every: int = DEFAULTS["preview_every"],
    preview_crop: np.ndarray | None = None,
    state: Noise2Score | str | None = None,
    seed: int = 0,
    device: str = "auto",
    stop: Callable[[], bool] | None = None,
) -> Generator[Step, None, Noise2Score]:
    """Noise2Score (Kim & Ye 2021): fit the AR-DAE score network to a dataset of noisy images.

    Parameters
    ----------
    images : array, dask array, list of arrays, or folder path
        The noisy dataset: a 2-D image, an (N, H, W) stack (n-D: planes of the
        last two axes), a list of 2-D images, a dask array (random patches are
        read lazily) or a folder of ``.tif``/``.png``/``.npy`` files.
    noise : {"gaussian", "poisson", "poisson_gaussian", "gamma"}
        Noise model used for the Tweedie inversion and the data's noise level.
    noise_params : dict, optional
        Known parameters (``sigma``, ``zeta``, ``k`` as in ``nt.denoise``);
        missing ones are estimated from the data.
    minutes : float, optional
        Wall-clock budget; training stops at ``steps`` or this, whichever first.
        With a budget, the annealing (noise floor, learning rate) follows the
        larger of the step and time fractions, so that a run cut by the clock
        still ends annealed, but its result depends on the machine's speed;
        without one, the same seed gives the same model.
    steps, batch, patch : int
        Adam steps of this call, patches per step, patch side in pixels.
    lr : float, optional
        Peak learning rate (default 1e-4 from the prior, 1e-3 from scratch).
    sigma_max, sigma_min : float
        AR-DAE perturbation levels as fractions of the data's noise level
        (in the score coordinates; ``sigma_eff`` for Gaussian noise); the
        lower end of the sampled range is annealed from ``sigma_max`` to
        ``sigma_min`` (see :mod:`.training`), never
        below 0.75 times the spacing of quantised data (see :func:`lattice_step`).
    ema : float
        Decay of the weights' moving average (0: plain weights).
    init : {"prior", "scratch"}
        Start from the bundled prior's weights or from random ones.
    coordinates : {"auto", "identity", "anscombe", "log"}
        Where the score network's denoiser works (:mod:`.coords`):
        ``"auto"`` is the identity for Gaussian noise and the
        variance-stabilised coordinates (Anscombe, log) for Poisson and Gamma
        noise, in which the bundled prior is a good start.
    preview_every : int
        Yield a :class:`~napari_tweedie.steps.Step` every this many steps
        (and at the end): ``x`` the preview crop, ``x0_hat`` its current
        Noise2Score estimate, ``sigma`` the current sigma_a floor (as a
        fraction of the noise level), ``info`` with ``loss`` (mean since the
        last preview), ``sigma_a`` (= ``sigma``), ``lr`` and ``seconds``.
    preview_crop : 2-D array, optional
        Noisy crop to preview on (e.g. a region of interest; keep it small);
        default: the central 128 x 128 crop of the first image.
    state : Noise2Score or path, optional
        Continue training this model (its network, optimiser state, data
        scaling, noise model, step count and sigma_a annealing progress;
        ``noise``, ``noise_params``, ``init`` and ``coordinates`` are then
        ignored).  A model object is trained further in place.
    seed : int
        Seeds the initialisation (scratch), patches and perturbations.
    device : str
        ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ...
    stop : callable, optional
        Checked after every step; when it returns true the fit ends as if its
        budget had run out and returns a usable (resumable) model.  Closing
        the generator instead discards the model.

    Returns
    -------
    Noise2Score
        The fitted model (averaged weights); ``model.denoise(images)`` denoises.
    """
    from ...prior.bundled import pick_device

    if init not in LR:
        raise ValueError(f"unknown init {init!r}; expected 'prior' or 'scratch'")
    if not 0 < sigma_min <= sigma_max:
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min}, {sigma_max}")
    if steps < 1 or batch < 1 or patch < 8:
        raise ValueError("steps and batch must be >= 1 and patch >= 8")
    source = PatchSource.from_images(images, patch)
    config = dict(
        batch=int(batch), patch=source.patch, lr=lr or LR[init], sigma_max=float(sigma_max),
        sigma_min=float(sigma_min), ema=float(ema), init=init, coordinates=coordinates,
        seed=int(seed),
    )  # fmt: skip
    if isinstance(state, str) or hasattr(state, "__fspath__"):
        state = Noise2Score.load(state)
    if state is not None:  # trained further in place
        model, fresh = state, False
        source.statistics_sample()  # validates the data, sets the NaN fill value
        config |= {
            k: model.config[k] for k in ("init", "coordinates", "lattice") if k in model.config
        }
    else:
        model = _new_model(source, noise, noise_params, coordinates, init, config, seed)
        fresh = True
    model.to(pick_device(device))
    from .training import Schedule, Trainer

    noise_v = model.net.coords.noise  # noise level in the score coordinates
    lowest = max(sigma_min * noise_v, LATTICE_FLOOR * model.config.get("lattice", 0.0))

    # a copy is trained: Cancel (closing the generator) leaves ``state`` as it was
    trainer = Trainer(
        copy.deepcopy(model.net),
        source,
        offset=model.offset,
        scale=model.scale,
        schedule=Schedule(max(sigma_max * noise_v, lowest), lowest),
        lr=config["lr"],
        batch=batch,
        ema=ema,
        seed=seed,
        start_step=model.step,
        optimizer_state=model.optimizer_state,
        device=model.device,
    )
    crop = source.preview() if preview_crop is None else np.asarray(preview_crop, np.float32)
    preview = Noise2Score(trainer.ema, model.noise_model, model.offset, model.scale)
    start, begin, start_progress = model.step, time.monotonic(), model.progress
    budget = None if minutes is None else 60.0 * float(minutes)
    losses: list[float] = []
    done, local = False, 0
    while not done:
        elapsed = time.monotonic() - begin
        fraction = local / steps if budget is None else max(local / steps, elapsed / budget)
        p = start_progress + (1 - start_progress) * fraction  # resumed: annealing continues
        loss, floor = trainer.step(p, Schedule.lr_factor(fraction, warmup=fresh))
        losses.append(loss)
        local += 1
        elapsed = time.monotonic() - begin
        done = local >= steps or (budget is not None and elapsed >= budget)
        done = done or (stop is not None and bool(stop()))
        if local % max(1, int(preview_every)) == 0 or done:
            recent = losses[-max(1, int(preview_every)) :]
            info = {"loss": float(np.mean(recent)), "sigma_a": floor / noise_v,
                    "lr": trainer.optimizer.param_groups[0]["lr"], "seconds": elapsed}  # fmt: skip
            yield Step(
                start + local, start + steps, floor / noise_v, x=crop,
                x0_hat=preview.denoise(crop), info=info,
            )  # fmt: skip
    model.net.load_state_dict(trainer.ema.state_dict())
    model.net.eval()
    model.step = start + local
    model.progress = p
    model.sigma_min = floor if fresh else min(model.sigma_min, floor)
    model.config = {**model.config, **config, "minutes": minutes}
    model.optimizer_state = trainer.optimizer_state()
    model.history = list(model.history) + losses
    return model
