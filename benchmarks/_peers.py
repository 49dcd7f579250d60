"""The peers of ``bench_peers.py``: CAREamics N2V2 and scikit-image's J-invariant calibration.

Both are optional (``pip install napari-tweedie[bench]``, or ``make bench-peers``, which
installs them into ``.venv-peers``); :func:`careamics_missing` says why CAREamics cannot run.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np


def careamics_missing() -> str | None:
    """``None`` when CAREamics imports, else the reason it does not (shown in the table)."""
    try:
        import careamics  # noqa: F401
    except Exception as error:  # ImportError, or a broken dependency of it
        return f"{type(error).__name__}: {error}"
    return None


def _epoch(noisy: list[np.ndarray], patch: int, batch: int) -> list[np.ndarray]:
    """The images, repeated so that an epoch has >= 50 batches of patches.

    CAREamics cuts each image into its patches once per epoch and validates and
    saves a checkpoint after every epoch, so a single small image would make
    epochs of one batch, mostly overhead (the patches still differ by their
    random N2V masks and flips).
    """
    patches = sum((y.shape[0] // patch) * (y.shape[1] // patch) for y in noisy)
    repeats = max(1, -(-50 * batch // max(patches, 1)))
    return [np.asarray(y, np.float32) for y in noisy] * repeats


def n2v2(
    noisy: list[np.ndarray], *, seconds: float, patch: int, batch: int, seed: int
) -> tuple[list[np.ndarray], float, float]:
    """N2V2 (Hoeck et al. 2022, CAREamics): train on ``noisy`` for ``seconds``, predict them.

    Lightning's ``max_time`` stops training at the wall-clock budget (the
    epoch count is left unbounded); the validation patches are CAREamics'
    default (8 taken from the training data); an epoch is at least 50 batches
    (:func:`_epoch`).  Returns the predictions, the
    training seconds and the prediction seconds (all images).
    """
    from careamics import CAREamist
    from careamics.config.factories.n2v_factory import create_advanced_n2v_config

    config = create_advanced_n2v_config(
        experiment_name="bench_peers",
        data_type="array",
        axes="YX",
        patch_size=[patch, patch],
        batch_size=batch,
        num_epochs=1_000_000,
        use_n2v2=True,
        num_workers=0,
        trainer_params={"max_time": {"seconds": seconds}, "accelerator": "cpu", "devices": 1},
        seed=seed,
    )
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as work_dir:
        careamist = CAREamist(config, work_dir=work_dir, enable_progress_bar=False)
        start = time.perf_counter()
        careamist.train(train_data=_epoch(noisy, patch, batch))
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        predictions, _ = careamist.predict(
            [np.asarray(y, np.float32) for y in noisy], data_type="array", axes="YX"
        )
        predict_s = time.perf_counter() - start
    return [np.squeeze(p) for p in predictions], train_s, predict_s


def _grids(sigma: float) -> dict:
    """Parameter grids around the image's estimated noise level (as skimage's gallery does)."""
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    around = np.geomspace(0.25, 4.0, 9) * sigma
    return {
        "wavelet": (denoise_wavelet, {"sigma": list(around), "rescale_sigma": [True]}),
        "tv_chambolle": (denoise_tv_chambolle, {"weight": list(around)}),
        "nl_means": (
            denoise_nl_means,
            {
                "h": list(np.geomspace(0.25, 2.0, 7) * sigma),
                "sigma": [sigma],
                "fast_mode": [True],
                "patch_size": [5],
                "patch_distance": [6],
            },
        ),
    }


CALIBRATED = ("wavelet", "tv_chambolle", "nl_means")


def calibrated(image: np.ndarray, name: str) -> tuple[np.ndarray, dict]:
    """scikit-image's ``calibrate_denoiser`` (Batson & Royer 2019, Noise2Self) on one image.

    The parameters minimising the J-invariant self-supervised loss (stride 4,
    approximate loss) are picked on ``image`` and the plain denoiser is then
    applied with them (its J-invariant version, which ``calibrate_denoiser``
    returns, is a little worse).  No noise model or level is given; the grid
    is centred on ``skimage.restoration.estimate_sigma``.
    """
    from skimage.restoration import calibrate_denoiser, estimate_sigma

    image = np.asarray(image, np.float64)
    function, grid = _grids(float(estimate_sigma(image)))[name]
    _, (tested, losses) = calibrate_denoiser(image, function, grid, extra_output=True)
    best = tested[int(np.argmin(losses))]
    return function(image, **best), best
