"""Registry of denoisers: plain dicts name -> spec, read by the API, CLI and widgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..specs import Spec


@dataclass(frozen=True, kw_only=True)
class DenoiserSpec(Spec):
    """A registered denoiser (``nt.denoise(image, name)``).

    Attributes
    ----------
    name, summary, params
        As in :class:`~napari_tweedie.specs.Spec`; ``params`` are the method's
        parameters besides ``sigma`` and ``seed``.
    func : callable
        ``func(image2d, *, sigma, seed, **params) -> ndarray`` for slice methods
        (``iterative=False``) or a generator function yielding
        :class:`~napari_tweedie.steps.Step` and returning the array
        (``iterative=True``).  ``image2d`` is a float32 (H, W) array; ``sigma``
        the Gaussian noise standard deviation in the image's units.
    fast : bool
        Interactive (under ~1 s on a 512x512 region): the GUI may re-run it live.
    iterative : bool
        ``func`` is a generator function (see above).
    gaussian_only : bool
        The method assumes additive Gaussian noise: other noise models go
        through a variance-stabilising transform first.
    radius : callable, optional
        ``radius(sigma, **params) -> int``: the filter's reach in pixels, used
        as tile overlap; ``None`` for non-local methods.
    requires : callable, optional
        Returns ``None`` when the method can run, else a message saying what
        to install.
    resolve : callable, optional
        ``resolve(sample, sigma, params) -> params``: fills data-dependent
        defaults once from a sample of the whole image, so that every tile or
        plane uses the same values.  A ``channels="joint"`` method given a
        channel axis gets what ``func`` gets: a channel-last sample
        (..., C) and ``sigma`` of shape (C,).
    posterior_mean : bool
        The method is a Tweedie (MMSE) estimate ``E[x | y]`` for Gaussian
        noise, deterministic and smooth, so ``sigma^2`` times its Jacobian is
        the posterior covariance (:func:`napari_tweedie.uncertainty` applies).
    divergence : callable, optional
        ``divergence(shape, sigma, **params) -> ndarray``: the exact diagonal
        of the method's Jacobian ``df_i/dy_i`` on a ``shape`` (H, W) plane,
        for methods that are linear in the image (boundary handling
        included); :func:`napari_tweedie.sure` then needs one denoiser call
        instead of a Monte-Carlo probe.  ``None`` (default): Monte Carlo.
    channels : str
        How the method treats a channel axis (``nt.denoise(..., channel_axis=)``):
        ``"per_channel"`` (default): ``func`` is called once per channel on
        its (H, W) plane with that channel's ``sigma``; ``"joint"``: ``func``
        takes a channel-last float32 (H, W, C) image and ``sigma`` a float32
        array of shape (C,) (per-channel std; after the noise model's
        variance-stabilising transform, applied per channel) and returns (H, W, C).
    volumetric : bool
        ``func`` also takes a float32 (Z, Y, X) volume and a keyword
        ``spacing=(dz, dy, dx)`` (``nt.denoise(..., volumetric=True)``); widths
        in ``params`` are in Y/X pixels, so the z reach is ``width * dy / dz``
        voxels.  With ``channels="joint"`` too, a channel axis gives it
        (Z, Y, X, C); otherwise volumes with channels go channel by channel.
    extra : dict
        Optional hooks: ``"dataset"``, ``"lazy"`` (see the API); for
        :func:`napari_tweedie.sure`, ``"jvp"`` (``jvp(plane, tangent,
        sigma=, seed=, **params) -> (f, J tangent)``: an exact divergence
        probe; ``tangent`` may be a (K, H, W) stack, then ``J tangent`` too),
        ``"sure_epsilon"`` (the finite-difference step in noise stds, default
        0.01) and ``"sure_probes"`` (lattice classes of SURE's probe, a square,
        default 1: :func:`napari_tweedie.tuning.inputs.lattice_probes`).
    """

    func: Callable[..., Any]
    fast: bool = True
    iterative: bool = False
    gaussian_only: bool = True
    radius: Callable[..., int] | None = None
    requires: Callable[[], str | None] | None = None
    resolve: Callable[..., dict] | None = None
    posterior_mean: bool = False
    divergence: Callable[..., Any] | None = None
    channels: str = "per_channel"
    volumetric: bool = False
    extra: dict = field(default_factory=dict)

    def check_available(self) -> None:
        """Raise ``ImportError`` with an install hint if a dependency is missing."""
        if self.requires is not None:
            message = self.requires()
            if message:
                raise ImportError(message)


DENOISERS: dict[str, DenoiserSpec] = {}


def register(spec: DenoiserSpec) -> DenoiserSpec:
    """Add ``spec`` to :data:`DENOISERS` (replacing one of the same name)."""
    DENOISERS[spec.name] = spec
    return spec
