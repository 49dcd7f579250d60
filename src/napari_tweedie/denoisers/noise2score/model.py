"""Noise2Score (Kim & Ye, NeurIPS 2021): the score network and the fitted model (Tweedie inversion).

The score of the noisy data is parametrised through a noise-conditional
Gaussian denoiser ``D`` (the bundled prior's architecture,
:class:`~napari_tweedie.prior.network.EDMDenoiser`).  For Gaussian noise, at
AR-DAE perturbation level ``sigma_a``::

    s(z; sigma_a) = (D(z, tau) - z) / tau^2,   tau^2 = sigma_eff^2 + sigma_a^2

where ``sigma_eff`` is the data's noise level (fixed when the fit starts).
This is the exact form of the true score (``y + sigma_a u`` is the clean image
plus Gaussian noise of standard deviation ``tau``), so the bundled prior is a
ready-made starting point.  For Poisson and Gamma noise the same form is used
in variance-stabilised coordinates ``v = g(y)`` and mapped back by the change
of variables (:mod:`.coords`).  The fitted model's score is ``s(y; 0)``;
:meth:`Noise2Score.denoise` feeds it to the noise model's Tweedie formula
(:meth:`~napari_tweedie.noise.NoiseModel.tweedie`).  The network,
:class:`~.net.ScoreNet`, lives in :mod:`.net`.

Internally images are mapped to about [0, 1] by a stored affine map
``(y - offset) / scale`` (the identity for data already on [0, 1]; no offset
for Poisson and Gamma noise, whose models are not shift-invariant).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from ...data.finite import fill_non_finite
from ...data.tiles import map_tiles
from ...noise import NoiseModel, make_noise_model
from ...prior.bundled import pad_to_multiple, pick_device
from ...prior.network import EDMDenoiser, NetConfig
from ..saving import check_config, loading, read_model, write_model
from .coords import Coordinates, scale_noise_model
from .net import ScoreNet

__all__ = ["Noise2Score"]

FORMAT = "napari-tweedie/noise2score/1"
#: bounds of the saved architecture (sizes read from a file)
NET_LIMITS = {"channels": (1, 1024), "blocks": (1, 16), "emb_dim": (1, 4096)}
TILE = 1024  # planes larger than this are scored tile by tile
TILE_OVERLAP = 32
BATCH_PIXELS = 2**20


@dataclass
class Noise2Score:
    """A fitted Noise2Score model (Kim & Ye 2021): learned score + Tweedie inversion.

    Attributes
    ----------
    net : ScoreNet
        The score network (in scaled units).
    noise_model : NoiseModel
        The noise model in the data's units (used by :meth:`denoise` by default).
    offset, scale : float
        The data map ``(y - offset) / scale`` to about [0, 1].
    sigma_eff : float
        Root mean noise variance of the training data (scaled units).
    sigma_min : float
        Smallest AR-DAE level reached in training (score coordinates' units).
    step : int
        Training steps done so far (all fits of this model together).
    config : dict
        The training options (JSON-serialisable).
    optimizer_state : dict, optional
        Adam's ``state_dict`` for resuming (plain tensors; no pickle on disk).
    progress : float
        Fraction of the sigma_a annealing done (resumed fits continue from it).
    history : list of float
        Training losses.
    """

    net: ScoreNet
    noise_model: NoiseModel
    offset: float = 0.0
    scale: float = 1.0
    sigma_eff: float = 0.0
    sigma_min: float = 0.0
    step: int = 0
    config: dict = field(default_factory=dict)
    optimizer_state: dict | None = None
    progress: float = 0.0
    history: list = field(default_factory=list)

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def to(self, device: str | torch.device) -> Noise2Score:
        """Move the network to ``device`` (``"auto"`` allowed); returns ``self``."""
        device = pick_device(device)
        self.net.to(device)
        layout = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.net.to(memory_format=layout)
        return self

    # -- the score ---------------------------------------------------------------------------
    @torch.no_grad()
    def score_scaled(self, y: np.ndarray, sigma_a: float = 0.0) -> np.ndarray:
        """``s(y; sigma_a)`` of a scaled array (..., H, W), as float64 (tiled when large)."""
        y = np.asarray(y, np.float32)
        planes = y.reshape((-1,) + y.shape[-2:])
        h, w = planes.shape[-2:]
        out = np.empty(planes.shape, np.float64)
        if h * w > TILE * TILE:
            for i, plane in enumerate(planes):
                tiles = map_tiles(
                    lambda block, seed: self._forward(
                        block.reshape((1,) + block.shape[-2:]), sigma_a
                    ).reshape(block.shape),
                    plane,
                    TILE,
                    TILE_OVERLAP,
                )
                out[i] = tiles.compute(scheduler="synchronous")
            return out.reshape(y.shape)
        batch = max(1, BATCH_PIXELS // (h * w))
        for start in range(0, len(planes), batch):
            out[start : start + batch] = self._forward(planes[start : start + batch], sigma_a)
        return out.reshape(y.shape)

    def _forward(self, planes: np.ndarray, sigma_a: float) -> np.ndarray:
        self.net.eval()
        x = torch.from_numpy(np.ascontiguousarray(planes, np.float32))[:, None].to(self.device)
        padded, (h, w) = pad_to_multiple(x, self.net.denoiser.config.multiple)
        if self.device.type == "cpu":
            padded = padded.contiguous(memory_format=torch.channels_last)
        s = self.net(padded, float(sigma_a))[..., :h, :w]
        return s[:, 0].cpu().double().numpy()  # MPS has no float64

    def score(self, y: np.ndarray, sigma_a: float = 0.0) -> np.ndarray:
        """The learned score ``d/dy log p(y)`` of the noisy data, in the data's units.

        ``y`` is (H, W) or (N, H, W) (any leading axes); returns float32 of its shape.
        """
        ys = (np.asarray(y, np.float64) - self.offset) / self.scale
        return (self.score_scaled(ys, sigma_a / self.scale) / self.scale).astype(np.float32)

    # -- denoising ---------------------------------------------------------------------------
    def denoise(self, image: np.ndarray, noise_model: NoiseModel | None = None) -> np.ndarray:
        """Noise2Score estimate: Tweedie's formula of ``noise_model`` with the learned score.

        Parameters
        ----------
        image : array, (H, W) or (N, H, W) (any leading axes)
            Noisy images in the data's units; NaNs are kept where they were.
        noise_model : NoiseModel, optional
            In the data's units; default the model stored at fit time.

        Returns
        -------
        numpy.ndarray
            float32 estimate of the image's shape.
        """
        data = np.asarray(image, np.float64)
        if data.ndim < 2:
            raise ValueError(f"expected an image with at least 2 axes (Y, X), got {data.shape}")
        data, bad = fill_non_finite(data)
        model = scale_noise_model(noise_model or self.noise_model, self.scale)
        ys = (data - self.offset) / self.scale
        with np.errstate(all="ignore"):
            xs = np.asarray(model.tweedie(ys, self.score_scaled), np.float64)
        xs = model.plausible(ys, np.where(np.isfinite(xs), xs, ys))
        out = (xs * self.scale + self.offset).astype(np.float32)
        if bad is not None:
            out[bad] = np.nan
        return out

    def apply_lazy(
        self, array, tile: int = 512, overlap: int = 32, noise_model: NoiseModel | None = None
    ):
        """Lazy, tiled :meth:`denoise` of a (dask) array of any size (see ``map_tiles``)."""
        import dask.array as da

        return map_tiles(
            _TileDenoiser(self, noise_model), da.asarray(array).astype(np.float32), tile, overlap
        )

    # -- persistence -------------------------------------------------------------------------
    def metadata(self) -> dict:
        """JSON-serialisable description (everything but the tensors)."""
        model = self.noise_model
        return {
            "format": FORMAT,
            "noise": model.name,
            "noise_params": {f.name: float(getattr(model, f.name)) for f in fields(model)},
            "offset": self.offset,
            "scale": self.scale,
            "sigma_eff": self.sigma_eff,
            "sigma_min": self.sigma_min,
            "step": self.step,
            "progress": self.progress,
            "config": self.config,
            "net_config": self.net.denoiser.config.to_dict(),
            "coords": self.net.coords.to_dict(),
            "history": [float(v) for v in self.history[-1000:]],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write weights, optimizer state and metadata to one safetensors file (atomically)."""
        tensors = {f"net.{k}": v.float() for k, v in self.net.denoiser.state_dict().items()}
        meta = self.metadata()
        if self.optimizer_state is not None:
            for index, entry in self.optimizer_state["state"].items():
                for key, value in entry.items():
                    tensors[f"optim.{index}.{key}"] = torch.as_tensor(value).float()
            meta["param_groups"] = self.optimizer_state["param_groups"]
        return write_model(path, tensors, "noise2score", meta)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> Noise2Score:
        """Read a model written by :meth:`save` (no pickle involved)."""
        tensors, meta = read_model(path, "noise2score", "Noise2Score")
        with loading(path, "Noise2Score"):
            return cls._from_file(tensors, meta, path).to(device)

    @classmethod
    def _from_file(cls, tensors: dict, meta: dict, path) -> Noise2Score:
        check_config(meta["net_config"], NET_LIMITS, path, "Noise2Score")
        denoiser = EDMDenoiser(NetConfig.from_dict(meta["net_config"]))
        net_state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
        denoiser.load_state_dict(net_state)
        optimizer_state = None
        if "param_groups" in meta:
            state: dict[int, dict] = {}
            for key, value in tensors.items():
                if key.startswith("optim."):
                    _, index, name = key.split(".", 2)
                    state.setdefault(int(index), {})[name] = value
            optimizer_state = {"state": state, "param_groups": meta["param_groups"]}
        model = cls(
            net=ScoreNet(denoiser, Coordinates(**meta["coords"])),
            noise_model=make_noise_model(meta["noise"], **meta["noise_params"]),
            offset=float(meta["offset"]),
            scale=float(meta["scale"]),
            sigma_eff=float(meta["sigma_eff"]),
            sigma_min=float(meta["sigma_min"]),
            step=int(meta["step"]),
            config=dict(meta["config"]),
            optimizer_state=optimizer_state,
            progress=float(meta.get("progress", 1.0)),
            history=list(meta.get("history", [])),
        )
        return model


@dataclass(frozen=True)
class _TileDenoiser:
    model: Noise2Score
    noise_model: NoiseModel | None

    def __call__(self, block: np.ndarray, *, seed: int) -> np.ndarray:
        if not np.isfinite(block).any():
            return block
        return self.model.denoise(block, self.noise_model)
