"""The bundled prior: load the trained EDM denoiser and call it on images of any size.

>>> from napari_tweedie.prior import load_prior
>>> prior = load_prior()                        # doctest: +SKIP
>>> x0_hat = prior(noisy, 25 / 255)             # doctest: +SKIP

Conventions (shared with the samplers): images are single-channel, clean values
on [0, 1]; ``x = x0 + sigma * n`` with ``n`` standard normal, ``sigma`` in the
same units; the call returns the Tweedie estimate ``E[x0 | x]``.  Gradients flow
to ``x`` (the weights are frozen), so DPS-style guidance can differentiate
through the denoiser; wrap calls in ``torch.no_grad()`` when they are not needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor
from torch.nn import functional as tf

from .network import EDMDenoiser, NetConfig

__all__ = [
    "WEIGHTS_PATH",
    "PriorDenoiser",
    "load_prior",
    "pad_to_multiple",
    "pick_device",
    "read_weights",
    "weights_missing_message",
]

WEIGHTS_PATH = Path(__file__).resolve().parent.parent / "weights" / "prior.safetensors"
#: Noise levels seen in training (data on [0, 1]); outside, the preconditioning still
#: makes the output tend to the identity (small sigma) or a constant (large sigma).
SIGMA_RANGE = (0.002, 100.0)


def weights_missing_message(path: Path | str | None = None) -> str | None:
    """``None`` if the weights file (default :data:`WEIGHTS_PATH`) exists, else a message."""
    path = WEIGHTS_PATH if path is None else path
    if Path(path).is_file():
        return None
    return (
        f"the bundled prior's weights are missing ({path}); "
        "train them with: python scripts/train_prior.py --minutes 150"
    )


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA, then Apple MPS, then CPU (:func:`.devices.resolve_device`)."""
    from ..devices import resolve_device

    return resolve_device(device)


def read_weights(path: Path | str | None = None) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Tensors (as float32) and string metadata of a safetensors file (no pickle involved)."""
    from safetensors import safe_open

    if path is None:
        message = weights_missing_message(WEIGHTS_PATH)
        if message:
            raise FileNotFoundError(message)
        path = WEIGHTS_PATH
    elif not Path(path).is_file():
        raise FileNotFoundError(f"no weights file {path}")
    tensors = {}
    with safe_open(str(path), framework="pt", device="cpu") as handle:
        metadata = dict(handle.metadata() or {})
        for key in handle.keys():  # noqa: SIM118  (safe_open has no __iter__)
            tensors[key] = handle.get_tensor(key).float()
    return tensors, metadata


def pad_to_multiple(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, int]]:
    """Pad the last two axes at the bottom/right to multiples of ``multiple``.

    Reflects where the image is large enough, else replicates the edge.
    Returns the padded tensor and the original (H, W) for cropping back.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, (h, w)
    mode = "reflect" if ph < h and pw < w else "replicate"
    return tf.pad(x, (0, pw, 0, ph), mode=mode), (h, w)


class PriorDenoiser:
    """Gaussian denoiser ``D(x, sigma) = E[x0 | x]`` for single-channel images on [0, 1].

    Parameters
    ----------
    model : EDMDenoiser
        The preconditioned network (its parameters are frozen here).
    device : torch.device
        Where the network runs; inputs on another device are moved there and
        the result is moved back.
    metadata : dict
        The weights file's metadata (training step, time, ...).
    """

    def __init__(self, model: EDMDenoiser, device: torch.device, metadata: dict | None = None):
        self.model = model.to(device).eval()
        self._use_channels_last(device)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.device = device
        self.metadata = dict(metadata or {})
        self.config = model.config
        self.sigma_range = SIGMA_RANGE

    def __call__(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        """Denoise ``x`` of shape (B, 1, H, W) (also (1, H, W) or (H, W)) at noise level ``sigma``.

        ``sigma`` is a float, a 0-d tensor or a tensor of shape (B,), the noise
        standard deviation on the [0, 1] scale.  Any H, W: the input is padded to
        the network's multiple (reflect) and cropped back.  Returns a tensor of
        ``x``'s shape, dtype and device.
        """
        if not isinstance(x, Tensor):
            x = torch.as_tensor(x)
        shape, dtype, device = x.shape, x.dtype, x.device
        if x.ndim < 2 or x.ndim > 4 or (x.ndim >= 3 and x.shape[-3] != 1):
            raise ValueError(f"expected (B, 1, H, W), (1, H, W) or (H, W); got {tuple(shape)}")
        batch = x.reshape(-1, 1, *shape[-2:]).to(self.device, torch.float32)
        b = batch.shape[0]
        sigma_t = torch.as_tensor(sigma, dtype=torch.float32).to(self.device).reshape(-1)
        if sigma_t.numel() not in (1, b):
            raise ValueError(f"sigma has {sigma_t.numel()} values for a batch of {b}")
        padded, (h, w) = pad_to_multiple(batch, self.config.multiple)
        if self.device.type == "cpu":
            padded = padded.contiguous(memory_format=torch.channels_last)
        out = self.model(padded, sigma_t.expand(b))[..., :h, :w]
        return out.reshape(shape).to(device, dtype)

    def to(self, device: str | torch.device) -> PriorDenoiser:
        """Move the network to ``device`` (``"auto"`` allowed); returns ``self``."""
        self.device = pick_device(device)
        self.model.to(self.device)
        self._use_channels_last(self.device)
        return self

    def _use_channels_last(self, device: torch.device) -> None:
        """oneDNN convolutions on CPU are ~30 % faster in channels-last layout (same results)."""
        layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.model.to(memory_format=layout)

    def __repr__(self) -> str:
        step = self.metadata.get("step", "?")
        return f"PriorDenoiser(channels={self.config.channels}, step={step}, device={self.device})"


def build_model(tensors: dict[str, Tensor], metadata: dict[str, str]) -> EDMDenoiser:
    """An :class:`EDMDenoiser` with the architecture in ``metadata["config"]`` and ``tensors``."""
    config = NetConfig.from_dict(json.loads(metadata.get("config", "{}")))
    model = EDMDenoiser(config)
    model.load_state_dict(tensors)
    return model


def load_prior(
    device: str | torch.device = "auto", path: Path | str | None = None
) -> PriorDenoiser:
    """Load the bundled prior (or the safetensors file ``path``) on ``device``.

    ``device="auto"`` picks CUDA, then MPS, then CPU.  Raises
    ``FileNotFoundError`` with a hint if the weights file is missing.
    """
    tensors, metadata = read_weights(path)
    return PriorDenoiser(build_model(tensors, metadata), pick_device(device), metadata)
