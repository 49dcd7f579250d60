"""The quality panel of the Filter2Noise widget: the estimated PSNR of each re-render, Auto-tune.

A fitted Filter2Noise model re-rendered with the current sigma multipliers
(and painted regions) is a function of the image,
``y -> render(y, sigma_maps(y), ...)``, that no registry entry describes: its
risk is estimated with :func:`napari_tweedie.tuning.generic.function_risk`
(two renders; milliseconds at a few hundred pixels), after the fit and after
every edit.  Auto-tune searches the spatial multiplier (``sigma_x`` and
``sigma_y`` together) and ``sigma_r`` on the fitted region without refitting.
The host provides ``fitted``, ``viewer``, ``sigma_x``/``sigma_y``/``sigma_r``,
``region_labels()``, ``regions``, ``rerender()``, ``start()``, ``action()`` and
``say()``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..specs import Param
from ..steps import run
from .quality import QualityPanel, Rated, set_value, signal_range
from .scope import overlay

__all__ = ["Filter2NoiseQuality"]

#: the multipliers Auto-tune searches (the sliders' range)
TUNED = (
    Param("spatial", 1.0, "multiplier of sigma_x and sigma_y", min=0.1, max=4.0),
    Param("sigma_r", 1.0, "multiplier of sigma_r", min=0.1, max=4.0),
)
TUNE_BUDGET = 24  # renders (two per trial): cheap, no refitting


def render_function(model, labels, regions: dict):
    """``func(y, sigma_x, sigma_y, sigma_r, spatial)``: ``model``'s filter with these edits."""

    def func(y, sigma_x=1.0, sigma_y=1.0, sigma_r=1.0, spatial=None):
        if spatial is not None:
            sigma_x = sigma_y = spatial
        return model.render(y, model.sigma_maps(y), labels=labels, regions=regions,
                            sigma_x=sigma_x, sigma_y=sigma_y, sigma_r=sigma_r)  # fmt: skip

    return func


class Filter2NoiseQuality(QualityPanel):
    """:class:`~.quality.QualityPanel` of :class:`~.filter2noise.Filter2NoiseWidget`."""

    def __init__(self, host):
        super().__init__(host, uncertainty=False)
        self._problem: tuple[object, object] | None = None  # (fitted, FunctionRisk)
        host.action(self.tune_button, lambda: host.fitted is not None)
        self.tune_button.clicked.connect(self.auto_tune)

    def _render_function(self):
        """``func(y, sigma_x, sigma_y, sigma_r)``: the fitted filter as edited now, on ``y``."""
        host = self.host
        return render_function(host.fitted.model, host.region_labels(), dict(host.regions))

    @staticmethod
    def first_rating(model, plane, problem, regions: dict, multipliers: dict):
        """``(risk, out)`` of a new fit at ``multipliers`` (no painted regions yet), computed
        in the fit's worker thread; None where there is nothing to rate."""
        if problem is None or np.ndim(plane) != 2:
            return None
        func = render_function(model, None, regions)
        return run(replace(problem, func=func).risk_steps(**multipliers))

    def show_rating(self, risk, out) -> float | None:
        """Show a rating computed elsewhere (see :meth:`first_rating`), as :meth:`rate` does."""
        host = self.host
        fitted = host.fitted
        psnr = self.show_estimate(float(np.mean(risk)), signal_range(fitted.plane),
                                  context=self._context(), values=host.multipliers(),
                                  default_axis="sigma_r")  # fmt: skip
        if self.sure_map.value and fitted.layer in host.viewer.layers:
            layer = host.viewer.layers[fitted.layer]
            self.put_maps(layer, fitted.roi, Rated(out, risk=risk), "filter2noise")
        return psnr

    def stage_map(self, stage, layer, place) -> None:
        """Make ready (at the Fit click) the SURE map layer the fit's rating fills."""
        if self.active.value and self.sure_map.value and not layer.rgb:
            stage.image(f"{layer.name} [filter2noise, SURE map]", tuple(place.shape),
                        overlay(layer, place), colormap="inferno", opacity=0.7)  # fmt: skip

    @staticmethod
    def prepare(plane, quiet: bool = False):
        """The risk problem of ``plane``: its noise estimated (the slow part: the fit's worker
        thread does it).  ``quiet``: None instead of a ``ValueError`` (reported by :meth:`rate`).
        """
        from ..tuning.generic import function_risk

        try:
            return function_risk(lambda y: y, plane)
        except ValueError:
            if quiet:
                return None
            raise

    def prepared(self, fitted, problem) -> None:
        """Keep ``problem`` (from :meth:`prepare`, or None) as the one of ``fitted``."""
        if problem is not None:
            self._problem = (fitted, problem)

    def problem(self):
        """The risk problem of the fitted region (noise estimated once per fit), this edit."""
        fitted = self.host.fitted
        if self._problem is None or self._problem[0] is not fitted:
            self._problem = (fitted, self.prepare(fitted.plane))
        return replace(self._problem[1], func=self._render_function())

    def rate(self) -> float | None:
        """Estimate the current re-render's PSNR; show it, its curve point and the SURE map."""
        host = self.host
        if host.fitted is None or not self.active.value:
            return None
        if host.fitted.plane.ndim != 2:
            return self.show_estimate(None, 1.0, note="rated on grey planes only (not colour)")
        try:
            problem = self.problem()
            risk, out = run(problem.risk_steps(**host.multipliers()))
        except ValueError as error:
            return self.show_estimate(None, 1.0, note=str(error))
        return self.show_rating(risk, out)

    def auto_tune(self):
        """Search the spatial and range multipliers on the fitted region; set the sliders."""
        from ..tuning.tune import search_steps

        host = self.host
        if host.fitted is None:
            host.say("cannot auto-tune: fit first")
            return None
        current = host.multipliers()
        start = {"spatial": float(np.sqrt(current["sigma_x"] * current["sigma_y"])),
                 "sigma_r": current["sigma_r"]}  # fmt: skip
        problem = replace(self.problem(), params=start)

        def work():
            return (yield from search_steps(problem, TUNED, TUNE_BUDGET))

        def done(best: dict) -> None:
            values = {"sigma_x": best["spatial"], "sigma_y": best["spatial"],
                      "sigma_r": best["sigma_r"]}  # fmt: skip
            for name, value in values.items():
                set_value(getattr(host, name), value)
            host.say("tuned: " + ", ".join(f"{k} x {v:.3g}" for k, v in values.items()))
            host.rerender()
            self.rate()

        return self.tune_with(work, self._context(), {}, "sigma_r", done, _as_sliders)

    def _context(self) -> tuple:
        """What must stay for points to share a curve: the fit and the painted regions."""
        labels = self.host.region_labels()
        painted = None if labels is None else hash(labels.tobytes())
        return id(self.host.fitted), repr(sorted(self.host.regions.items())), painted


def _as_sliders(values: dict) -> dict:
    """Trial values as the sliders' multipliers (``spatial`` is ``sigma_x`` and ``sigma_y``)."""
    spatial = values.get("spatial", 1.0)
    return {"sigma_x": spatial, "sigma_y": spatial, "sigma_r": values.get("sigma_r", 1.0)}
