"""Channels and volumes around the denoisers (``channel_axis``, ``volumetric``, ``spacing``).

Used by :mod:`napari_tweedie.api` whenever an image has a channel axis or is
denoised as a volume.  The image goes channel-last (:class:`~.data.axes.Layout`);
the noise is estimated and modelled per channel (one
:class:`~.noise.setup.NoiseSetup` each, with the model's variance-stabilising
transform per channel); then each unit (a (Y, X) plane or, with
``volumetric=True``, a (Z, Y, X) volume; leading axes are looped over) goes
to the method:

- ``spec.channels == "joint"``: one call on the channel-last unit with a
  per-channel ``sigma`` array of shape (C,);
- ``"per_channel"`` (the fallback of every method without joint support):
  one call per channel, each with its own ``sigma`` and data-dependent
  defaults (``spec.resolve``), seeds ``(seed + unit) * C + channel``;
- ``volumetric=True`` needs ``spec.volumetric`` (else :func:`check_layout`
  names the methods that have it); ``func`` then also gets ``spacing``.

Non-finite pixels are filled per channel and put back, as for planes.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from .data.axes import Layout, make_layout
from .data.finite import fill_non_finite
from .denoisers import DENOISERS, DenoiserSpec
from .devices import check_device, uses_device
from .noise.registry import noise_model_class
from .noise.setup import NoiseSetup, finite_sample, resolve_noise, sample_planes
from .steps import Step, map_steps
from .validation import check_noise_data


def check_layout(
    spec: DenoiserSpec, ndim: int, channel_axis, volumetric, spacing, sigma=None
) -> Layout:
    """The image's :class:`Layout`; ``volumetric=True`` on a method without 3-D support is refused.

    ``sigma`` with one value per channel needs a channel axis.
    """
    layout = make_layout(ndim, channel_axis, volumetric, spacing)
    if layout.channel_axis is None and sigma is not None and np.ndim(sigma) != 0:
        raise ValueError("sigma: one value per channel needs channel_axis")
    if layout.volumetric and not spec.volumetric:
        able = sorted(name for name, s in DENOISERS.items() if s.volumetric)
        have = ", ".join(able) if able else "none is registered"
        raise ValueError(
            f"method {spec.name!r} has no 3-D (volumetric) mode; methods with one: {have}. "
            "Use volumetric=False to denoise plane by plane."
        )
    return layout


def device_params(spec: DenoiserSpec, device) -> dict:
    """``{"device": device}`` for methods whose ``func`` takes one (torch methods); else ``{}``.

    ``device`` is ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    """
    check_device(device)
    return {"device": device} if uses_device(spec.func) else {}


def scalar_sigma(sigma):
    """``sigma`` when it is one value (or None); None when it gives one value per channel."""
    return sigma if np.ndim(sigma) == 0 else None


def divide_sigma(sigma, scale: float):
    """``sigma`` (None, one value or one per channel) divided by ``scale``."""
    if sigma is None or np.ndim(sigma) == 0:
        return None if sigma is None else sigma / scale
    return np.asarray(sigma, np.float64) / scale


def channel_sigmas(sigma, layout: Layout, channels: int) -> list[float | None]:
    """The user's ``sigma`` per channel: None (estimate), one value, or one per channel."""
    if sigma is None or np.ndim(sigma) == 0:
        return [None if sigma is None else float(sigma)] * channels
    values = np.asarray(sigma, dtype=np.float64).ravel()
    if layout.channel_axis is None:
        raise ValueError("sigma: one value per channel needs channel_axis")
    if values.size != channels or not np.all(np.isfinite(values) & (values >= 0)):
        raise ValueError(f"sigma needs {channels} finite values >= 0 (one per channel)")
    return [float(v) for v in values]


@dataclass(frozen=True)
class Plan:
    """How every unit of one image is denoised: the noise set-up and parameters per channel."""

    spec: DenoiserSpec
    setups: tuple[NoiseSetup, ...]
    params: tuple[dict, ...]  # per channel; one entry for a joint method
    joint: bool
    spacing: tuple[float, float, float] | None  # passed to volumetric calls

    @property
    def sigma(self) -> float:
        """A representative noise level (the channels' mean) for progress reports."""
        return float(np.mean([s.sigma for s in self.setups]))

    def radius(self) -> int:
        """The method's in-plane reach in pixels over all channels (32 for non-local methods)."""
        if self.spec.radius is None:
            return 32
        reach = [
            self.spec.radius(s.sigma, **p) for s, p in zip(self.setups, self._each(), strict=True)
        ]
        return int(max(reach))

    def _each(self) -> tuple[dict, ...]:
        return self.params * len(self.setups) if self.joint else self.params

    def unit_steps(self, unit: np.ndarray, seed: int, keep_empty: bool = False) -> Generator:
        """Denoise one channel-last unit ((Y, X, C) or (Z, Y, X, C)), passing on steps."""
        if keep_empty and not np.isfinite(unit).any():  # a padded or masked tile
            return unit
        extra = {} if self.spacing is None else {"spacing": self.spacing}
        if self.joint:
            return (yield from self._joint_steps(unit, seed, extra, keep_empty))
        out = np.empty_like(unit)
        count = unit.shape[-1]
        for c in range(count):
            plane = unit[..., c]
            if keep_empty and not np.isfinite(plane).any():
                out[..., c] = plane
                continue
            filled, bad = fill_non_finite(plane)
            params = self.params[c] | extra
            out[..., c] = yield from self.setups[c].apply_steps(
                self.spec, filled, seed * count + c, params
            )
            if bad is not None:
                out[..., c][bad] = np.nan
        return out

    def _joint_steps(self, unit, seed, extra, keep_empty) -> Generator:
        stabilizers, sigmas, channels, masks = [], [], [], []
        for c, setup in enumerate(self.setups):
            stabilizer = setup.stabilizer if self.spec.gaussian_only else None
            filled, bad = fill_non_finite(unit[..., c], if_empty=0.0 if keep_empty else None)
            channels.append(stabilizer.forward(filled) if stabilizer else filled)
            sigmas.append(
                setup.sigma if stabilizer or setup.image_sigma is None else setup.image_sigma
            )
            stabilizers.append(stabilizer)
            masks.append(bad)
        data = np.stack(channels, axis=-1).astype(np.float32, copy=False)
        sigma = np.asarray(sigmas, dtype=np.float32)
        result = self.spec.func(data, sigma=sigma, seed=seed, **self.params[0], **extra)
        if self.spec.iterative:
            result = yield from map_steps(result, partial(_preview_inverse, stabilizers))
        result = _inverse(stabilizers, np.asarray(result, dtype=np.float32))
        for c, bad in enumerate(masks):
            if bad is not None:
                result[..., c][bad] = np.nan
        return result


def _inverse(stabilizers, result: np.ndarray) -> np.ndarray:
    """``result`` (channel-last) with each channel through its stabiliser's inverse."""
    if all(s is None for s in stabilizers):
        return result
    out = np.array(result, dtype=np.float32)
    for c, stabilizer in enumerate(stabilizers):
        if stabilizer is not None:
            out[..., c] = stabilizer.inverse(result[..., c])
    return out


def _preview_inverse(stabilizers, step: Step) -> Step:
    if step.x0_hat is None or np.shape(step.x0_hat)[-1:] != (len(stabilizers),):
        return step
    return replace(step, x0_hat=_inverse(stabilizers, np.asarray(step.x0_hat, np.float32)))


def make_plan(spec, inner, layout: Layout, noise, sigmas, noise_params, method_params) -> Plan:
    """Estimate the noise per channel of ``inner`` (channel-last) and fix the parameters."""
    samples = [sample_planes(inner[..., c]) for c in range(inner.shape[-1])]
    for sample in samples:
        check_noise_data(noise_model_class(noise), sample)
    setups = tuple(
        resolve_noise(s, noise, sigma, noise_params)
        for s, sigma in zip(samples, sigmas, strict=True)
    )
    joint = layout.channel_axis is not None and spec.channels == "joint"
    if joint:  # one set of defaults, from all channels' samples
        params = (joint_resolve(spec, setups, samples, method_params),)
    else:
        params = tuple(
            setup.resolve(spec, finite_sample(s), method_params)
            for setup, s in zip(setups, samples, strict=True)
        )
    return Plan(spec, setups, params, joint, layout.spacing if layout.volumetric else None)


def joint_resolve(spec: DenoiserSpec, setups, samples, params: dict) -> dict:
    """``spec.resolve`` of a joint method, once, on a channel-last sample of all channels.

    It sees what ``spec.func`` sees: each channel through its stabiliser
    (``gaussian_only`` methods) and ``sigma`` of shape (C,), so per-channel
    defaults (the prior's range per opponent channel) are fixed for every tile.
    """
    if spec.resolve is None:
        return params
    stabilizers = [s.stabilizer if spec.gaussian_only else None for s in setups]
    columns = [finite_sample(x) for x in samples]
    columns = [t.forward(x) if t else x for t, x in zip(stabilizers, columns, strict=True)]
    sigma = [s.sigma if t or s.image_sigma is None else s.image_sigma
             for s, t in zip(setups, stabilizers, strict=True)]  # fmt: skip
    return spec.resolve(np.stack(columns, axis=-1), np.asarray(sigma, np.float32), params)


def shaped_steps(
    spec, data: np.ndarray, layout: Layout, noise, sigma, seed, noise_params, method_params
) -> Generator[Step, None, np.ndarray]:
    """In-memory denoising of ``data`` (float32, unit-order magnitude) with ``layout``."""
    inner = layout.inner(data)
    sigmas = channel_sigmas(sigma, layout, inner.shape[-1])
    if spec.extra.get("dataset"):
        return (
            yield from _dataset(
                spec, inner, layout, noise, sigmas, seed, noise_params, method_params
            )
        )
    plan = make_plan(spec, inner, layout, noise, sigmas, noise_params, method_params)
    units = inner.reshape((-1,) + inner.shape[-(layout.spatial + 1) :])
    out = np.empty_like(units)
    for index, unit in enumerate(units):
        out[index] = yield from plan.unit_steps(unit, seed + index)
        yield Step(index + 1, len(units), plan.sigma)
    return np.ascontiguousarray(layout.outer(out.reshape(inner.shape)))


def _dataset(spec, inner, layout, noise, sigmas, seed, noise_params, method_params) -> Generator:
    """A dataset-level method on all units at once: per channel, or joint (..., C) stacks."""
    if not np.isfinite(inner).any():
        raise ValueError("the image has no finite values")
    extra = {"spacing": layout.spacing} if layout.volumetric else {}
    stack = inner.reshape((-1,) + inner.shape[-(layout.spatial + 1) :])
    joint = layout.channel_axis is not None and spec.channels == "joint"
    if joint:
        # one value per channel; NaN = unknown, estimated by the method (not None: the method
        # must not have to guess which axis holds the channels)
        sigma = np.array([np.nan if s is None else s for s in sigmas], np.float32)
        groups = [(stack, sigma)]
    else:
        groups = [(stack[..., c], sigmas[c]) for c in range(stack.shape[-1])]
    results = []
    for group, sigma in groups:
        result = spec.func(
            group, sigma=sigma, seed=seed, noise=noise, **noise_params, **method_params, **extra
        )
        if spec.iterative:
            result = yield from result
        results.append(np.asarray(result, dtype=np.float32))
    out = results[0] if joint else np.stack(results, axis=-1)
    return np.ascontiguousarray(layout.outer(out.reshape(inner.shape)))
