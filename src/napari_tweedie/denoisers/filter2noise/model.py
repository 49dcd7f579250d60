"""Filter2Noise (Sun et al. 2025): the fitted filter, its editable sigma maps, apply and save.

:class:`Filter2Noise` holds the per-stage attention networks and the
normalisation of the image it was fitted on; ``render`` re-runs only the
compiled bilateral kernel with edited width maps (global and per-region
multipliers, :mod:`.widths`), so edits show in milliseconds.  Fitting lives
in :mod:`.fit`, the lazy tile-by-tile application in :mod:`.tiles`, the
file format in :mod:`.model_files`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..classical.bilateral import bilateral_filter_varying
from .model_files import CONFIG_LIMITS, FORMAT, FORMAT_VERSION, load_model, save_model
from .planes import MIN_SIDE, prepare
from .planes import keep_nans as _keep_nans
from .tiles import apply_lazy as _apply_lazy
from .widths import Regions, multiplier_maps

# the file format, the planes and the width edits have modules of their own; their names
# stay importable from here
__all__ = [
    "CONFIG_LIMITS",
    "FORMAT",
    "FORMAT_VERSION",
    "MIN_SIDE",
    "Filter2Noise",
    "Regions",
    "multiplier_maps",
    "prepare",
]


@dataclass
class Filter2Noise:
    """A fitted Filter2Noise (Sun et al. 2025) model: sigma predictors plus a normalisation.

    Attributes
    ----------
    net : F2NNet
        The torch module (:mod:`.net`).
    offset, scale : float
        Normalisation of the fitted image: ``(image - offset) / scale``.
    history : list of float
        Training loss per iteration.
    """

    net: Any
    offset: float
    scale: float
    history: list[float] = field(default_factory=list)

    #: Images carry a channel axis last, filtered jointly (:mod:`.colour`).
    channel_last = False

    @property
    def stages(self) -> int:
        return len(self.net.stages)

    @property
    def radius(self) -> int:
        """Half size of the square filter window (fixed per model)."""
        return self.net.radius

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def config(self) -> dict:
        """What :meth:`load` needs besides the weights (saved as JSON)."""
        first = self.net.stages[0]
        return {
            "stages": self.stages,
            "radius": self.radius,
            "patch": first.patch,
            "dim": first.embed.out_features,
            "window": self.net.window,
        }

    @property
    def device(self):
        """The torch device of the network (where :meth:`apply` runs; numba on CPU)."""
        return next(self.net.parameters()).device

    def to(self, device) -> Filter2Noise:
        """Move the network to ``device`` (``"auto"`` allowed): numba on CPU, torch elsewhere."""
        from ...devices import resolve_device

        where = resolve_device(device)
        self.net.to(where)
        self.net.backend = "numba" if where.type == "cpu" else "torch"
        return self

    def _filter(self, x: np.ndarray, sx, sy, sr_units) -> np.ndarray:
        sr = np.asarray(sr_units, np.float32) / np.float32(self.scale)
        if self.device.type == "cpu":  # the compiled numba kernel
            return bilateral_filter_varying(x, sx, sy, sr, radius=self.radius)
        return _filter_on(self.device, x, sx, sy, sr, self.radius)

    def sigma_maps(self, image: np.ndarray) -> list[np.ndarray]:
        """Per-stage sigma maps of a 2-D image: a list of (3, H, W) float32 arrays.

        Channels: ``sigma_x``, ``sigma_y`` in pixels and ``sigma_r`` in the
        image's units.  Stage ``k`` sees the output of stage ``k - 1``.
        """
        return self._chain(image)[0]

    def _chain(self, image: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """The sigma maps and the unedited output (normalised units) of every stage in turn."""
        import torch

        from ..fitting import one_torch_thread

        x = self._normalise(image)
        maps = []
        with torch.no_grad(), one_torch_thread():
            for stage in self.net.stages:
                guide = torch.from_numpy(self._guide(x))[None].to(self.device)
                s = stage(guide, self.net.window)[0].cpu().numpy().copy()
                s[2] *= self.scale
                maps.append(s)
                x = self._filter(x, s[0], s[1], s[2])
        return maps, x

    def _guide(self, x: np.ndarray) -> np.ndarray:
        """The (H, W) plane the attention networks see (the image itself)."""
        return x

    def _denormalise(self, x: np.ndarray) -> np.ndarray:
        return (x * np.float32(self.scale) + np.float32(self.offset)).astype(np.float32)

    def render(
        self,
        image: np.ndarray,
        maps: list[np.ndarray],
        *,
        sigma_x: float = 1.0,
        sigma_y: float = 1.0,
        sigma_r: float = 1.0,
        labels: np.ndarray | None = None,
        regions: Regions | None = None,
    ) -> np.ndarray:
        """Filter ``image`` with given (possibly edited) maps and multipliers; no attention run.

        Parameters
        ----------
        image : ndarray, shape (H, W)
            The image the maps belong to.
        maps : list of ndarray (3, H, W)
            From :meth:`sigma_maps`.
        sigma_x, sigma_y, sigma_r : float
            Global multipliers of the three widths (all stages).
        labels : ndarray of int, shape (H, W), optional
            Region labels; ``regions[k] = (mx, my, mr)`` multiplies the widths
            where ``labels == k`` (on top of the global multipliers).

        Returns
        -------
        ndarray, float32, shape (H, W)
            Filtered image in the image's units.
        """
        x = self._normalise(image)
        mx, my, mr = multiplier_maps(x.shape[-2:], sigma_x, sigma_y, sigma_r, labels, regions)
        for s in maps:
            x = self._filter(x, s[0] * mx, s[1] * my, s[2] * mr)
        return _keep_nans(image, self._denormalise(x))

    def apply(self, image: np.ndarray, **edits) -> np.ndarray:
        """Denoise a 2-D image: :meth:`sigma_maps` then :meth:`render` (``edits`` as there).

        Without edits the output of the map computation is returned as is (the
        same numbers as ``render`` with unit multipliers, half the filtering).
        """
        maps, x = self._chain(image)
        factors = multiplier_maps(x.shape[-2:], **edits)
        if all(isinstance(f, float) and f == 1.0 for f in factors):
            return _keep_nans(image, self._denormalise(x))
        return self.render(image, maps, **edits)

    #: Lazy, tiled :meth:`apply` of an n-D array (:func:`.tiles.apply_lazy`).
    apply_lazy = _apply_lazy

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        array = np.asarray(image, np.float32)
        if array.ndim != 2:
            raise ValueError(f"expected a 2-D image, got shape {array.shape}")
        # filled for the filter (NaN would spread); put back by _keep_nans
        from ...data.finite import fill_non_finite

        array = fill_non_finite(array, if_empty=self.offset)[0]
        return np.ascontiguousarray((array - np.float32(self.offset)) / np.float32(self.scale))

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (settings).

        Returns the path of the weights file (:func:`.model_files.save_model`).
        """
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Filter2Noise:
        """Read a model written by :meth:`save` (give either file or their common stem)."""
        return load_model(path, cls)


def _filter_on(device, x: np.ndarray, sx, sy, sr, radius: int) -> np.ndarray:
    """The torch AGBF (:func:`.agbf.agbf_reference`) of one plane on a non-CPU ``device``."""
    import torch

    from ...devices import with_cpu_fallback
    from .agbf import agbf_reference

    shape = np.shape(x)
    planes = [np.broadcast_to(np.asarray(a, np.float32), shape).copy() for a in (x, sx, sy, sr)]
    t = [torch.from_numpy(a)[None].to(device) for a in planes]
    with torch.no_grad():
        return with_cpu_fallback(agbf_reference, *t, radius)[0].cpu().numpy()
