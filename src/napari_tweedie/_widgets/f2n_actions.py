"""Filter2Noise (Sun et al. 2025) dock widget, output part: apply, save and load a fitted filter.

:class:`ModelActions` is mixed into
:class:`~napari_tweedie._widgets.filter2noise.Filter2NoiseWidget`: it applies
the fitted (and edited) filter to the current slice or, tiled in the
background, to the whole layer (written to zarr), and saves or loads the
model (``.safetensors`` weights plus a ``.json`` of settings).
"""

from __future__ import annotations

from pathlib import Path

from ..data import ROI, compute_with_progress
from ..denoisers.filter2noise import Filter2Noise
from .jobs import Job
from .results import whole_layer_job
from .scope import current_index, full_resolution, overlay

__all__ = ["ModelActions"]


class ModelActions:
    """Apply, save and load for the Filter2Noise widget.

    The host widget provides ``viewer``, ``fitted``, ``regions``, ``target``,
    ``output``, ``model_path``, ``source_layer``, ``multipliers``,
    ``region_labels``, ``_region_plane``, ``_result_layer``, ``_fitted``,
    ``_start`` and the status callbacks.
    """

    def apply(self) -> Job | None:
        """Apply the fitted (and edited) filter to the current slice or the whole layer."""
        if self.fitted is None:
            self._say("fit or load a model first")
            return None
        self.cancel()
        fit = self.fitted
        whole = self.target.value == "Whole layer"
        try:
            layer = self.source_layer()
            full = full_resolution(layer)
            roi = ROI.whole(full.shape)
            if not whole:
                roi = ROI.current_slice(full.shape, current_index(self.viewer, layer))
            lazy = fit.model.apply_lazy(
                full[roi.slices],
                labels=self.region_labels(),
                regions=self.regions,
                label_offset=fit.roi.offset[-2:],
                **self.multipliers(),
            )
            job = self._whole_job(layer, lazy) if whole else self._slice_job(layer, roi, lazy)
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot apply: {error}")
            return None
        self._say("applying...")
        return self._start(job)

    def _whole_job(self, layer, lazy) -> Job:
        """Write the whole filtered layer to the output zarr, then open it lazily."""
        return whole_layer_job(
            self.viewer, layer, lazy, self.output.value, f"{layer.name} [filter2noise, whole]",
            on_error=self._failed, on_progress=self._progressed, on_finish=self._idle,
            on_done=lambda path: self._say(f"applied to the whole: {path}"),
        )  # fmt: skip

    def _slice_job(self, layer, roi: ROI, lazy) -> Job:
        """Compute the filtered slice in memory and overlay it on the source."""

        def done(result) -> None:
            name = f"{layer.name} [filter2noise, slice]"
            if name in self.viewer.layers:
                self.viewer.layers.remove(name)
            self.viewer.add_image(
                result,
                name=name,
                **overlay(layer, roi),
                contrast_limits=layer.contrast_limits,
                colormap=layer.colormap,
            )
            self._say("applied to the slice")

        return Job(
            lambda progress: compute_with_progress(lazy, progress),
            on_done=done,
            on_error=self._failed,
            on_progress=self._progressed,
            on_finish=self._idle,
        )

    def save(self) -> Path | None:
        """Save the fitted model (weights ``.safetensors`` and settings ``.json``)."""
        if self.fitted is None:
            self._say("nothing to save: fit or load a model first")
            return None
        try:
            path = self.fitted.model.save(Path(self.model_path.value).expanduser())
        except OSError as error:
            self._say(f"cannot save: {error}")
            return None
        self._say(f"saved {path}")
        return path

    def load(self) -> Filter2Noise | None:
        """Load a model and show its sigma maps on the chosen region (no fitting)."""
        self.cancel()
        try:
            model = Filter2Noise.load(Path(self.model_path.value).expanduser())
            layer, roi, plane = self._region_plane()
        except (OSError, ValueError, KeyError) as error:
            self._say(f"cannot load: {error}")
            return None
        self._result_layer(layer, roi, plane)
        self._fitted(model, layer, roi, plane)
        self._say(f"loaded {self.model_path.value}")
        return model
