"""The quality panel of the Denoise widget: rate each run, Auto-tune a method's parameters.

A run of a fast method computes its result and its risk estimate together
(:meth:`~napari_tweedie.tuning.sure.RiskProblem.risk_steps`: one extra
denoiser call, none with an exact divergence); slow methods, noise models
without an unbiased estimate and non-finite images are denoised as before,
without an estimate.  The host provides ``viewer``, ``method``, ``params``
(the parameter controls by name), ``settings()``, ``source_roi()``,
``start()``, ``action()``, ``refresh_actions()``, ``say()`` and ``run()``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import numpy as np

from .. import api
from ..denoisers import DENOISERS
from ..steps import Step
from .base import INPUT_ERRORS
from .quality import QualityPanel, Rated, set_value, signal_range
from .scope import full_resolution, overlay

__all__ = ["DenoiseQuality"]

RUN_KEYS = ("method", "noise", "sigma", "seed")


class DenoiseQuality(QualityPanel):
    """:class:`~.quality.QualityPanel` of :class:`~.denoise.DenoiseWidget`."""

    def __init__(self, host):
        super().__init__(host)
        host.action(self.tune_button, self._tunable)
        host.method.changed.connect(self._method_changed)
        self.tune_button.clicked.connect(self.auto_tune)
        self._method_changed()

    def _method_changed(self, event=None) -> None:
        spec = DENOISERS[self.host.method.value]
        self.uncertainty.enabled = spec.posterior_mean
        self.host.refresh_actions()

    def _tunable(self) -> bool:
        from ..tuning.tune import tunable_params

        try:
            return bool(tunable_params(DENOISERS[self.host.method.value]))
        except ValueError:
            return False

    # -- rating runs ----------------------------------------------------------------------
    def rater(self, settings: dict) -> Callable[[np.ndarray], Generator[Step, None, Rated]]:
        """A generator function ``block -> Rated`` for the worker (options read here, GUI side)."""
        spec = DENOISERS[settings["method"]]
        rate = bool(self.active.value) and spec.fast
        want_map = rate and bool(self.sure_map.value)
        want_std = rate and bool(self.uncertainty.value) and spec.posterior_mean
        note = "" if rate or not self.active.value else "slow method: use nt.sure"
        method, noise, sigma, seed = (settings[k] for k in RUN_KEYS)
        params = {k: v for k, v in settings.items() if k not in RUN_KEYS}

        def steps(block) -> Generator[Step, None, Rated]:
            from ..tuning.risk import risk_problem, trial_probes
            from ..tuning.uncertainty import uncertainty

            block = np.asarray(block)
            try:
                options = trial_probes(spec) | params  # one extra call per re-run
                problem = risk_problem(block, method, noise=noise, sigma=sigma, seed=seed,
                                       **options) if rate else None  # fmt: skip
            except ValueError as error:  # no unbiased estimate here: plain denoising
                problem, reason = None, str(error).split(";")[0]
            else:
                reason = note
            if problem is None:
                return Rated((yield from api.denoise_steps(block, **settings)), note=reason)
            risk, out = yield from problem.risk_steps()
            yield Step(1, 1, float(problem.setup.sigma or 0.0), x=block, x0_hat=out)
            std, reason = None, ""
            if want_std and noise == "gaussian":
                level = problem.noise_values.get("sigma")
                std = uncertainty(problem.image, method, sigma=level, seed=seed, **params)
            elif want_std:
                reason = "uncertainty: Gaussian noise only"
            risk_map = risk if want_map else None
            return Rated(out, float(np.mean(risk)), signal_range(problem.image), risk=risk_map,
                         std=std, note=reason)  # fmt: skip

        return steps

    def stage_maps(self, stage, layer, roi, settings: dict) -> None:
        """Make ready (at Run) the SURE map and uncertainty layers this run will fill."""
        spec = DENOISERS[settings["method"]]
        if not (self.active.value and spec.fast):
            return
        method, place = settings["method"], overlay(layer, roi)
        if self.sure_map.value:
            stage.image(f"{layer.name} [{method}, SURE map]", tuple(roi.shape), place,
                        colormap="inferno", opacity=0.7)  # fmt: skip
        if self.uncertainty.value and spec.posterior_mean:
            stage.image(f"{layer.name} [{method}, uncertainty]", tuple(roi.shape), place,
                        colormap="magma")  # fmt: skip

    def rated(self, result, layer, roi, settings: dict) -> np.ndarray:
        """Show the estimate and the maps of ``result`` (a :class:`Rated`); return the image."""
        if not isinstance(result, Rated):
            return result
        context, values, axis = self._context(layer, roi, settings)
        self.show_estimate(result.mse, result.data_range, context=context, values=values,
                           default_axis=axis, note=result.note)  # fmt: skip
        self.put_maps(layer, roi, result, settings["method"])
        return result.image

    def _context(self, layer, roi, settings: dict) -> tuple[tuple, dict, str | None]:
        """What must stay for points to share a curve, the numeric values, the default axis."""
        spec = DENOISERS[settings["method"]]
        numeric = [p.name for p in spec.params if p.kind in ("float", "int")]
        floats = [p.name for p in spec.params if p.kind == "float"]
        others = tuple((k, repr(v)) for k, v in settings.items() if k not in numeric)
        context = (layer.name, tuple((s.start, s.stop) for s in roi.slices), others)
        values = {k: settings.get(k) for k in numeric}
        return context, values, (floats or numeric or [None])[0]

    # -- auto-tune ----------------------------------------------------------------------
    def auto_tune(self):
        """Tune the method's parameters on the host's scope (background), set them, run."""
        from ..tuning.tune import tunable_params, tune_steps

        host = self.host
        try:
            layer, roi = host.source_roi()
            settings = host.settings()
            chosen = {p.name for p in tunable_params(DENOISERS[settings["method"]])}
        except INPUT_ERRORS as error:
            host.say(f"cannot auto-tune: {error}")
            return None
        method, noise, sigma, seed = (settings[k] for k in RUN_KEYS)
        fixed = {k: v for k, v in settings.items() if k not in RUN_KEYS and k not in chosen}
        data = full_resolution(layer)

        def work():
            block = np.asarray(roi.read(data), np.float32)
            return (yield from tune_steps(block, method, noise=noise, sigma=sigma, seed=seed,
                                          **fixed))  # fmt: skip

        def done(best: dict) -> None:
            for name, value in best.items():
                set_value(host.params[name], value)
            host.say("tuned: " + ", ".join(f"{k} = {v:.4g}" for k, v in best.items()))
            host.run()

        context, values, axis = self._context(layer, roi, settings)
        return self.tune_with(work, context, values, axis, done)
