"""Zero-shot Noise2Noise (Mansour & Heckel, CVPR 2023): the fitted model, applied, saved, loaded.

:class:`ZSN2NModel` is what :func:`~.fit.fit_zs_n2n` returns: the network,
the affine map ``(image - offset) / scale`` of the image it was fitted on
(the noise level the network learned lives in those units, so other regions
and planes of the same data are mapped the same way), the loss history and
the estimate of the fitted image.  It denoises any 2-D image
(:meth:`ZSN2NModel.apply`) or, lazily and tile by tile, an n-D (dask) array
(:meth:`ZSN2NModel.apply_lazy`), and saves itself as one safetensors file
with JSON metadata (:mod:`..saving`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...prior.ensemble import self_ensemble
from ..fitting import one_torch_thread
from ..saving import check_config, loading, read_model, write_model
from .net import ZSN2NNet

__all__ = ["ZSN2NModel"]

FORMAT = "napari-tweedie/zs_n2n/1"
KEY = "zs_n2n"
TILE = 1024
#: Context of each tile: the network sees 2 pixels around each output pixel.
OVERLAP = 8


@dataclass
class ZSN2NModel:
    """A fitted zero-shot Noise2Noise network and the normalisation it was fitted with.

    Attributes
    ----------
    net : ZSN2NNet
        Predicts the noise of a normalised image; the estimate is ``y - net(y)``.
    offset, scale : float
        The image map ``(image - offset) / scale`` used in fitting.
    ensemble : bool
        Average the estimate over the 8 flips/rotations by default.
    losses : list of float
        Training loss per step.
    iterations : int
        Steps run.
    stopped_early : bool
        Whether the self-supervised early stop ended the fit.
    estimate : ndarray or None
        The estimate of the fitted image (not saved; None after :meth:`load`).
    channel_last : bool
        Images carry a channel axis last, denoised jointly by a network with
        that many channels in and out (colour).
    """

    net: ZSN2NNet
    offset: float = 0.0
    scale: float = 1.0
    ensemble: bool = True
    losses: list[float] = field(default_factory=list)
    iterations: int = 0
    stopped_early: bool = False
    estimate: np.ndarray | None = field(default=None, repr=False)
    channel_last: bool = False

    @property
    def channels(self) -> int:
        return self.net.conv1.out_channels

    @property
    def image_channels(self) -> int:
        """Image channels the network takes and returns (1: grey)."""
        return self.net.conv1.in_channels

    @property
    def volumetric(self) -> bool:
        """Whether the network works on (Z, Y, X) volumes."""
        return self.net.z_layers > 0

    def apply(self, image: np.ndarray, *, ensemble: bool | None = None) -> np.ndarray:
        """Denoise an image of the fitted image's layout, in its units.

        Parameters
        ----------
        image : ndarray, shape (H, W), (H, W, C), (Z, Y, X) or (Z, Y, X, C)
            Noisy image of the same kind and layout as the fitted one
            (:attr:`channel_last`, :attr:`volumetric`); non-finite pixels
            are filled for the network and are NaN in the result.
        ensemble : bool, optional
            Average over the 8 flips/rotations; default :attr:`ensemble`.

        Returns
        -------
        ndarray, float32, the shape of ``image``
        """
        from ...data.finite import fill_non_finite
        from .layout import check_image, from_tensor, to_tensor

        data = np.asarray(image, dtype=np.float32)
        check_image(data, self.channel_last, self.volumetric)
        filled, bad = fill_non_finite(data, if_empty=self.offset)
        device = next(self.net.parameters()).device  # where it was fitted (or moved)
        y = to_tensor((filled - self.offset) / self.scale, self.channel_last).to(device)
        count = 8 if (self.ensemble if ensemble is None else ensemble) else 1
        # one torch thread: the same bits in any thread (conv results depend on the split)
        with torch.no_grad(), one_torch_thread():
            estimate = self_ensemble(lambda v, _: v - self.net(v), y, 0.0, count)
        out = (from_tensor(estimate.cpu(), self.channel_last) * self.scale + self.offset).astype(
            np.float32
        )
        if bad is not None:
            out[bad] = np.nan
        return out

    def apply_lazy(
        self, array, *, tile: int = TILE, overlap: int = OVERLAP, ensemble: bool | None = None
    ):
        """Lazy, tiled :meth:`apply` of every Y, X plane of an n-D (numpy or dask) array.

        Tiles of about ``tile`` pixels see ``overlap`` pixels of context
        (:func:`napari_tweedie.data.tiles.map_tiles`; the network's reach is 2
        pixels); the network runs on the part of each tile inside the plane,
        so the result (float32, the array's shape) is :meth:`apply`'s up to
        float rounding, but for pixels near missing (NaN) ones: they are
        filled with each tile's median.
        """
        import dask.array as da

        from ...data.tiles import map_tiles

        if self.channel_last or self.volumetric:
            raise ValueError("apply_lazy takes grey 2-D models; apply colour or 3-D ones whole")

        x = da.asarray(array).astype(np.float32)
        run = _TileApply(self, ensemble, x.shape[-2:])
        return map_tiles(run, x, int(tile), int(overlap), origin=True)

    # -- persistence -------------------------------------------------------------------------
    def metadata(self) -> dict:
        """JSON-serialisable description (everything but the weights)."""
        return {
            "format": FORMAT,
            "method": "zero-shot Noise2Noise (Mansour & Heckel 2023)",
            "channels": self.channels,
            "image_channels": self.image_channels,
            "z_layers": self.net.z_layers,
            "channel_last": self.channel_last,
            "offset": self.offset,
            "scale": self.scale,
            "ensemble": self.ensemble,
            "iterations": self.iterations,
            "stopped_early": self.stopped_early,
            "losses": [float(v) for v in self.losses],
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the weights and :meth:`metadata` to one safetensors file; returns its path."""
        return write_model(path, self.net.state_dict(), KEY, self.metadata())

    @classmethod
    def load(cls, path: str | os.PathLike) -> ZSN2NModel:
        """Read a model written by :meth:`save` (no pickle involved)."""
        what = "zero-shot Noise2Noise"
        tensors, meta = read_model(path, KEY, what)
        meta = {"image_channels": 1, "z_layers": 0} | meta  # files from before colour / 3-D
        limits = {"channels": (1, 1024), "image_channels": (1, 1024), "z_layers": (0, 2)}
        check_config(meta, limits, path, what)
        with loading(path, what):
            net = ZSN2NNet(
                channels=int(meta["channels"]),
                image_channels=int(meta["image_channels"]),
                z_layers=int(meta["z_layers"]),
            )
            net.load_state_dict(tensors)
            net.eval()
        return cls(
            net,
            offset=float(meta["offset"]),
            scale=float(meta["scale"]),
            ensemble=bool(meta["ensemble"]),
            losses=list(meta.get("losses", [])),
            iterations=int(meta.get("iterations", 0)),
            stopped_early=bool(meta.get("stopped_early", False)),
            channel_last=bool(meta.get("channel_last", False)),
        )


@dataclass(frozen=True)
class _TileApply:
    """The tile function of :meth:`ZSN2NModel.apply_lazy` (one plane at a time)."""

    model: ZSN2NModel
    ensemble: bool | None
    plane: tuple[int, int]

    def __call__(self, block: np.ndarray, *, seed: int, origin: tuple[int, int]) -> np.ndarray:
        # only the pixels inside the plane: its reflected halo would change the border
        inside = tuple(
            slice(max(0, -o), min(n, size - o))
            for o, n, size in zip(origin, block.shape[-2:], self.plane)
        )
        planes = block.reshape((-1,) + block.shape[-2:])
        out = np.zeros_like(planes)  # the halo outside the plane is discarded by map_tiles
        for plane, result in zip(planes, out):
            result[inside] = self.model.apply(plane[inside], ensemble=self.ensemble)
        return out.reshape(block.shape)
