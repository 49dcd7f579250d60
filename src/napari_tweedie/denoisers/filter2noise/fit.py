"""Filter2Noise (Sun et al. 2025): an attention-guided bilateral filter trained on the image itself.

Filter2Noise denoises one image with about 3.6k parameters (two stages).  In
each stage a small patch-attention module predicts, per pixel, the widths of
a bilateral filter: ``sigma_x``, ``sigma_y`` (pixels, anisotropic) and
``sigma_r`` (the range width, in the image's units).  The filter is trained
self-supervised on the single noisy image (:mod:`.loss`).  Because the
widths are explicit, they can be shown and edited after training (global
multipliers and per-region multipliers from a label image) and the image
re-rendered without retraining.

This module holds :func:`fit_filter2noise` (a generator yielding
:class:`~napari_tweedie.steps.Step` and returning a
:class:`~.model.Filter2Noise`) and :func:`denoise_filter2noise`, the registry
function.  The network lives in :mod:`.net`, the training kernels in
:mod:`.agbf`; torch is imported only when a model is fitted or loaded.

Conventions: images are normalised by robust percentiles
(``(y - p0.5) / (p99.5 - p0.5)``) inside; the fitted model keeps that
normalisation so ``sigma_r`` maps and the output are in the image's units.
The kernel radius is fixed per model (``radius``), so an edited region
changes the output only within ``(stages - 1) * radius`` pixels of the region
(each stage's widths belong to the centre pixel; later stages spread the change).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np

from ...steps import Step
from ..fitting import percentile_scale
from .model import Filter2Noise, prepare

if TYPE_CHECKING:
    import torch

__all__ = ["denoise_filter2noise", "fit_filter2noise"]


def fit_filter2noise(
    image: np.ndarray,
    *,
    iterations: int = 400,
    learning_rate: float = 0.01,
    stages: int = 2,
    radius: int = 4,
    edge_weight: float = 3.0,
    crop: int = 128,
    window: int | None = 0,
    sigma: float | None = None,
    seed: int = 0,
    generator: torch.Generator | None = None,
    preview_every: int = 10,
    early_stop: bool = True,
    device: str = "auto",
    channel_last: bool = False,
) -> Generator[Step, None, Filter2Noise]:
    """Fit Filter2Noise (Sun et al. 2025) to one noisy 2-D image, self-supervised.

    AdamW with a one-cycle learning-rate schedule minimises the Filter2Noise
    loss (:class:`~.loss.F2NLoss`) on a random ``crop x crop`` window of
    the image per iteration (the whole image if smaller).

    Parameters
    ----------
    image : ndarray, shape (H, W), or (H, W, C) with ``channel_last``
        The noisy image, any units (normalised inside by robust percentiles,
        one offset and scale for all channels).
    iterations : int
        Maximum number of optimisation steps.
    learning_rate : float
        Peak learning rate of the one-cycle schedule.
    stages : int
        Chained AGBF stages (2: F2N-S2).
    radius : int
        Half size of the square filter window; spatial sigmas are capped at ``radius / 2``.
    edge_weight : float
        Weight ``lambda`` of the difference-of-Gaussians edge term.
    crop : int
        Side of the random training window (the cost per iteration).
    window : int or None
        Attention window in patches (``None``: global attention, quadratic cost);
        0 (default): the training crop in 8-pixel patches (16), so that applying
        the model gives each patch the context it was trained with, at a cost
        linear in the number of pixels.
    sigma : float or array of shape (C,), optional
        Noise level in image units (per channel), used only to initialise ``sigma_r``.
    seed : int
        Seed of the initialisation and the crops (when ``generator`` is None).
    generator : torch.Generator, optional
        Source of randomness (overrides ``seed``).
    preview_every : int
        Yield a :class:`~napari_tweedie.steps.Step` with the current estimate
        of the whole image every this many iterations.
    early_stop : bool
        Stop when the mean loss of 25 iterations has not improved by 0.1 %
        for 75 iterations (after at least a quarter of ``iterations``).
    channel_last : bool
        ``image`` is a colour image: one sigma map per pixel shared by the
        channels and a joint colour range kernel (:mod:`.colour`).

    Yields
    ------
    Step
        ``x0_hat`` is the current denoised image; ``info`` holds the loss terms.

    Returns
    -------
    Filter2Noise
        The fitted model; ``model.apply(image)`` is the final estimate.
    """
    import torch

    from ...devices import resolve_device
    from .loss import train
    from .net import F2NNet

    data = np.asarray(image, np.float32)
    if data.ndim != 2 + bool(channel_last) or not np.isfinite(data).all():
        kind = "colour (H, W, C)" if channel_last else "2-D"
        raise ValueError(f"expected a finite {kind} image, got shape {data.shape}")
    offset, scale = percentile_scale(data)
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    # the range distance of noise grows with the channels: |n_p - n_q| ~ sqrt(2 C) sigma
    noise = 0.0 if sigma is None else float(np.sqrt(np.sum(np.square(sigma))))
    init_r = 0.1 if not noise else float(np.clip(2.0 * noise / scale, 0.01, 0.5))
    if window == 0:
        window = max(1, int(crop or 256) // 8)
    where = resolve_device(device)
    # the numba kernels are the CPU path; other devices filter with the torch AGBF
    backend = "numba" if where.type == "cpu" else "torch"
    net = F2NNet(stages=stages, radius=radius, window=window, init=(1.5, init_r), backend=backend)
    net.reset_parameters(generator)
    net.to(where)
    unit = (data - offset) / scale
    if channel_last:
        from .colour import ColourFilter2Noise, ColourNet

        model = ColourFilter2Noise(net, offset, scale)
        y = torch.from_numpy(np.stack([prepare(c) for c in np.moveaxis(unit, -1, 0)])).to(where)
        trained = ColourNet(net)
    else:
        model = Filter2Noise(net, offset, scale)
        y = torch.from_numpy(prepare(unit)).to(where)
        trained = net
    steps = train(
        trained,
        y,
        iterations=int(iterations),
        learning_rate=learning_rate,
        edge_weight=edge_weight,
        crop=crop,
        generator=generator,
        early_stop=early_stop,
    )
    for i, loss, terms, last in steps:
        model.history.append(loss)
        if i % max(1, int(preview_every)) == 0 or last:
            estimate = model.apply(data)
            info = {"loss": loss, **terms}
            yield Step(i, int(iterations), 0.0, x=estimate, x0_hat=estimate, info=info)
    net.eval()
    return model


def denoise_filter2noise(
    image: np.ndarray, *, sigma: float | np.ndarray, seed: int = 0, device: str = "auto", **params
) -> Generator[Step, None, np.ndarray]:
    """Filter2Noise (Sun et al. 2025) on one plane: fit on it, then apply (registry function).

    ``sigma`` initialises the range widths; a per-channel ``sigma`` of shape
    (C,) says that ``image`` is channel-last colour (H, W, C), filtered
    jointly.  ``params`` go to :func:`fit_filter2noise`.
    """
    params.setdefault("channel_last", np.ndim(sigma) == 1)
    model = yield from fit_filter2noise(image, sigma=sigma, seed=seed, device=device, **params)
    return model.apply(image)
