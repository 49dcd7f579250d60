"""SURE/PURE with a channel axis: Monte-Carlo risk of the denoiser as ``nt.denoise`` applies it.

With ``channel_axis`` the image goes channel-last; each channel gets its own
noise model, weights ``v(y)`` and method defaults (one
:class:`~.sure.RiskProblem` per channel, for the set-up only), and the
denoiser runs as :func:`napari_tweedie.denoise` runs it (jointly, or per
channel, through :class:`~napari_tweedie.api_shapes.Plan`).  The divergence
is the Monte-Carlo estimate of Ramani, Blu & Unser (2008) with one +-1
probe over all pixels and channels, so cross-channel terms of a joint method
average out.  The risk map's mean is the MSE per pixel and channel.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, replace

import numpy as np

from ..steps import Step

EPSILON = 0.01  # as in .sure: the finite-difference step relative to the noise std


@dataclass(frozen=True)
class ChannelRisk:
    """The risk problem of one multichannel image (the interface of :class:`~.sure.RiskProblem`)."""

    image: np.ndarray  # in the input's layout
    inner: np.ndarray  # channel-last
    layout: object
    plan: object
    weights: np.ndarray  # channel-last
    probe: np.ndarray  # channel-last
    epsilon: float
    params: dict
    method_sigma: float
    seed: int = 0
    calls: int = 2

    def _denoise(self, data: np.ndarray, values: dict) -> Generator[Step, None, np.ndarray]:
        plan = replace(self.plan, params=tuple(p | values for p in self.plan.params))
        units = data.reshape((-1,) + data.shape[-3:])
        out = np.empty_like(units)
        for index, unit in enumerate(units):
            out[index] = yield from plan.unit_steps(unit, self.seed + index)
        return out.reshape(data.shape)

    def risk_steps(self, **values) -> Generator[Step, None, tuple[np.ndarray, np.ndarray]]:
        """Per-pixel risk terms and ``f(y)``, both in the input's layout: two denoiser calls."""
        out = yield from self._denoise(self.inner, values)
        moved = yield from self._denoise(self.inner + self.epsilon * self.probe, values)
        divergence = self.probe * (moved.astype(np.float64) - out) / self.epsilon
        residual = (out.astype(np.float64) - self.inner) ** 2
        risk = residual - self.weights + 2 * self.weights * divergence
        return self.layout.outer(risk), self.layout.outer(out)


def channel_risk_problem(
    image, method: str, channel_axis: int, *, noise: str = "gaussian", sigma=None, seed: int = 0,
    probe: str = "rademacher", **params,
) -> ChannelRisk:  # fmt: skip
    """Set up :class:`ChannelRisk`: noise per channel estimated once, defaults fixed, one probe."""
    from ..api import get_spec
    from ..api_shapes import Plan, channel_sigmas, check_layout
    from .inputs import _draw_probe, _finite
    from .sure import risk_problem

    spec = get_spec(method)
    if spec.extra.get("dataset"):
        raise ValueError(f"sure/tune: {method!r} fits on a dataset; no risk with channel_axis")
    data = _finite(image)
    layout = check_layout(spec, data.ndim, channel_axis, False, None, sigma)
    inner = np.ascontiguousarray(layout.inner(data))
    sigmas = channel_sigmas(sigma, layout, inner.shape[-1])
    problems = [
        risk_problem(inner[..., c], method, noise=noise, sigma=sigmas[c], seed=seed,
                     divergence="monte-carlo", **params)
        for c in range(inner.shape[-1])
    ]  # fmt: skip
    joint = spec.channels == "joint"
    setups = tuple(p.setup for p in problems)
    each = (problems[0].params,) if joint else tuple(p.params for p in problems)
    plan = Plan(spec, setups, each, joint, None)
    weights = np.stack([p.weights for p in problems], axis=-1)
    scale = math.sqrt(max(float(np.mean(weights)), 0.0)) or float(np.ptp(inner)) or 1.0
    return ChannelRisk(
        image=data, inner=inner, layout=layout, plan=plan, weights=weights,
        probe=_draw_probe(inner.shape, seed, probe), epsilon=EPSILON * scale,
        params=problems[0].params, method_sigma=float(np.mean([p.method_sigma for p in problems])),
        seed=seed,
    )  # fmt: skip
