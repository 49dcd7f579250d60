"""What a bioimage.io package needs from each fitted model (Noise2Score, Filter2Noise, ZS-N2N).

:func:`read_fitted` opens a model file saved by this plugin (without
knowing its kind beforehand) and :func:`exportable` turns a fitted model into
an :class:`Exportable`: the architecture file and its keyword arguments, the
state dict of that architecture, the plugin's own ``denoise`` (the
reference the package must reproduce), citations and the noise model.
Dispatch is on the model's type, never on a registry name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Exportable", "exportable", "read_fitted"]

ARXIV = "https://arxiv.org/abs/"
#: (text, url) of each method's paper
NOISE2SCORE = (
    "Kim K., Ye J. C. Noise2Score: Tweedie's approach to self-supervised image denoising "
    "without clean images. NeurIPS 2021.",
    ARXIV + "2106.07009",
)
FILTER2NOISE = (
    "Sun Y., Schneider L.-S., Mei S., et al. Filter2Noise: a framework for interpretable and "
    "zero-shot low-dose CT image denoising. 2025.",
    ARXIV + "2504.13519",
)
ZS_N2N = (
    "Mansour Y., Heckel R. Zero-Shot Noise2Noise: efficient image denoising without any data. "
    "CVPR 2023.",
    ARXIV + "2303.11253",
)
EDM = (
    "Karras T., Aittala M., Aila T., Laine S. Elucidating the design space of diffusion-based "
    "generative models. NeurIPS 2022 (the denoiser's preconditioning).",
    ARXIV + "2206.00364",
)
#: one-file models: their safetensors metadata key -> (module, class, ``load`` keywords)
ONE_FILE_MODELS = {
    "noise2score": ("..denoisers.noise2score.model", "Noise2Score", {"device": "cpu"}),
    "zs_n2n": ("..denoisers.zs_n2n.model", "ZSN2NModel", {}),
}


@dataclass(frozen=True)
class Exportable:
    """A fitted model described for a bioimage.io package.

    Attributes
    ----------
    method : str
        The method's name and paper, e.g. ``"Noise2Score (Kim & Ye 2021)"``.
    source : str
        File name of the architecture in :mod:`napari_tweedie.bioimageio`.
    callable : str
        The ``nn.Module`` class in ``source``.
    kwargs : dict
        Its keyword arguments (plain YAML values).
    state : dict of str to Tensor
        The state dict of ``callable(**kwargs)``.
    denoise : callable
        The plugin's own result on a 2-D float32 image (what the package reproduces).
    cite : tuple of (text, url)
        The method's paper first.
    noise : dict
        The noise model and its parameters in the data's units (``{}``: none assumed).
    data_range : (float, float)
        The data's typical range (from the model's normalisation).
    about : str
        A paragraph on what the package's network does.
    """

    method: str
    source: str
    callable: str
    kwargs: dict
    state: dict
    denoise: Callable[[np.ndarray], np.ndarray]
    cite: tuple
    noise: dict = field(default_factory=dict)
    data_range: tuple[float, float] = (0.0, 1.0)
    about: str = ""


def read_fitted(path: str | os.PathLike) -> Any:
    """The fitted model saved at ``path`` by this plugin (Noise2Score, Filter2Noise, ZS-N2N).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming
    the file when it is no model file of this plugin.
    """
    path = Path(path)
    settings = path.with_suffix(".json")
    if settings.is_file() and path.suffix in (".json", ".safetensors", ""):
        from ..denoisers.filter2noise.model import Filter2Noise

        return Filter2Noise.load(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file {path}")
    keys = _metadata_keys(path)
    for key, (module, name, options) in ONE_FILE_MODELS.items():
        if key in keys:
            return getattr(import_module(module, __package__), name).load(path, **options)
    raise ValueError(
        f"{path} is not a model saved by napari-tweedie (Noise2Score, Filter2Noise or "
        "zero-shot Noise2Noise .safetensors)"
    )


def _metadata_keys(path: Path) -> set[str]:
    """Keys of a safetensors file's string metadata (empty when it is not safetensors)."""
    raw = path.read_bytes()[:8]
    if len(raw) < 8:
        return set()
    size = int.from_bytes(raw, "little")
    if not 2 <= size <= 100_000_000:
        return set()
    with open(path, "rb") as file:
        file.seek(8)
        try:
            header = json.loads(file.read(size))
        except ValueError:
            return set()
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return set(metadata) if isinstance(metadata, dict) else set()


def exportable(model: Any) -> Exportable:
    """The :class:`Exportable` of a fitted model (by type)."""
    from ..denoisers.filter2noise.model import Filter2Noise
    from ..denoisers.noise2score.model import Noise2Score
    from ..denoisers.zs_n2n.model import ZSN2NModel

    for kind, make in ((Noise2Score, _noise2score), (Filter2Noise, _filter2noise),
                       (ZSN2NModel, _zs_n2n)):  # fmt: skip
        if isinstance(model, kind):
            return make(model)
    raise TypeError(f"cannot export a {type(model).__name__} to bioimage.io")


def _noise2score(model) -> Exportable:
    config, coords = model.net.denoiser.config, model.net.coords
    noise = model.noise_model
    params = {f.name: float(getattr(noise, f.name)) for f in fields(noise)}
    kwargs = {
        "channels": [int(c) for c in config.channels],
        "blocks": int(config.blocks),
        "emb_dim": int(config.emb_dim),
        "sigma_data": float(config.sigma_data),
        "center": float(config.center),
        "coords": coords.kind,
        "coords_noise": float(coords.noise),
        "low": float(coords.low),
        "span": float(coords.span),
        "coords_zeta": float(coords.zeta),
        "coords_sigma": float(coords.sigma),
        "eps": float(coords.eps),
        "noise": noise.name,
        **params,
        "offset": float(model.offset),
        "scale": float(model.scale),
    }
    levels = len(config.channels)
    state = {_unet_key(k, levels): v for k, v in model.net.denoiser.state_dict().items()}
    return Exportable(
        method="Noise2Score (Kim & Ye 2021)",
        source="arch_noise2score.py",
        callable="Noise2ScoreNet",
        kwargs=kwargs,
        state=state,
        denoise=lambda image: model.denoise(image),
        cite=(NOISE2SCORE, EDM),
        noise={"model": noise.name, "params": params},
        data_range=_data_range(model),
        about=(
            "A score network fitted by AR-DAE on noisy images only, and Tweedie's formula "
            f"for {noise.name} noise: the posterior-mean estimate of the clean image. The "
            "network includes the data normalisation, the variance-stabilising score "
            f"coordinates ({coords.kind}) and the Tweedie step."
        ),
    )


def _unet_key(key: str, levels: int) -> str:
    """A key of napari-tweedie's EDMDenoiser state dict in :class:`Noise2ScoreNet`'s layout."""
    key = key.removeprefix("net.")
    if match := re.fullmatch(r"enc\.(\d+)\.(\d+)\.(.+)", key):
        key = f"enc.{match[1]}.blocks.{match[2]}.{match[3]}"
    elif match := re.fullmatch(r"dec\.(\d+)\.(\d+)\.(.+)", key):
        key = f"dec.{levels - 1 - int(match[1])}.blocks.{match[2]}.{match[3]}"
    elif match := re.fullmatch(r"down\.(\d+)\.(.+)", key):
        key = f"enc.{match[1]}.down.{match[2]}"
    elif match := re.fullmatch(r"up\.(\d+)\.(.+)", key):
        key = f"dec.{levels - 1 - int(match[1])}.up.{match[2]}"
    return "unet." + key


def _data_range(model) -> tuple[float, float]:
    """The range ``[offset, offset + scale]`` of the model's normalisation."""
    return float(model.offset), float(model.offset + model.scale)


def _applied(model) -> dict:
    """The :class:`Exportable` fields of a model whose ``net`` is exported and ``apply`` runs."""
    return {
        "state": dict(model.net.state_dict()),
        "denoise": lambda image: model.apply(image),
        "data_range": _data_range(model),
    }


def _filter2noise(model) -> Exportable:
    kwargs = dict(model.config())
    kwargs["window"] = int(kwargs.get("window") or 0)
    kwargs |= {"offset": float(model.offset), "scale": float(model.scale)}
    return Exportable(
        method="Filter2Noise (Sun et al. 2025)",
        source="arch_filter2noise.py",
        callable="Filter2NoiseNet",
        kwargs=kwargs,
        cite=(FILTER2NOISE,),
        **_applied(model),
        about=(
            f"{kwargs['stages']} attention-guided bilateral filters fitted self-supervised "
            "on one noisy image: a small attention network predicts per-pixel widths "
            "(sigma_x, sigma_y, sigma_range) of each bilateral filter. The network includes "
            "the data normalisation."
        ),
    )


def _zs_n2n(model) -> Exportable:
    kwargs = {
        "channels": int(model.channels),
        "ensemble": bool(model.ensemble),
        "offset": float(model.offset),
        "scale": float(model.scale),
    }
    return Exportable(
        method="zero-shot Noise2Noise (Mansour & Heckel 2023)",
        source="arch_zs_n2n.py",
        callable="ZSN2NNet",
        kwargs=kwargs,
        cite=(ZS_N2N,),
        **_applied(model),
        about=(
            "A two-layer residual network fitted on one noisy image (zero-shot Noise2Noise); "
            "the network includes the data normalisation"
            + (" and the 8-fold flip/rotation ensemble." if model.ensemble else ".")
        ),
    )
