"""Noise2Score dock widget, output part: denoise a region or the whole layer, save, load.

:class:`ModelActions` is mixed into
:class:`~napari_tweedie._widgets.noise2score.Noise2ScoreWidget`, which
provides ``viewer``, ``model``, ``scope``, ``output``, ``model_path``,
``noise``, ``source_layer``, ``_abort``, ``_start``, ``_idle`` and the status
callbacks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..denoisers.noise2score import Noise2Score
from .jobs import Job
from .results import put_image, whole_layer_job
from .scope import full_resolution, roi_for

__all__ = ["ModelActions"]


class ModelActions:
    """Denoise a region, apply to the whole layer, save and load, for the Noise2Score widget."""

    def denoise_region(self) -> Job | None:
        """Denoise the chosen region with the model; the result overlays the source."""
        if self.model is None:
            self._say("train or load a model first")
            return None
        self._abort()
        model = self.model
        try:
            layer = self.source_layer()
            roi = roi_for(self.scope.value, self.viewer, layer)
            block = np.asarray(roi.read(full_resolution(layer)), np.float32)
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot denoise: {error}")
            return None

        def done(result: np.ndarray) -> None:
            put_image(self.viewer, layer, roi, result, f"{layer.name} [noise2score]")
            self._say(f"denoised {roi.shape}")

        job = Job(lambda progress: model.denoise(block), on_done=done, on_error=self._failed,
                  on_finish=self._idle)  # fmt: skip
        self._say(f"denoising {roi.shape}...")
        return self._start(job)

    def apply_to_whole_layer(self) -> Job | None:
        """Denoise the whole layer tile by tile into the output zarr, then open it lazily."""
        if self.model is None:
            self._say("train or load a model first")
            return None
        self._abort()
        try:
            layer = self.source_layer()
            lazy = self.model.apply_lazy(full_resolution(layer))
            job = whole_layer_job(
                self.viewer, layer, lazy, self.output.value, f"{layer.name} [noise2score, whole]",
                on_error=self._failed, on_progress=self._progressed, on_finish=self._idle,
                on_done=lambda path: self._say(f"wrote {path}"),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as error:
            self._say(f"cannot apply: {error}")
            return None
        self._say(f"writing {self.output.value}...")
        return self._start(job)

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the model (one ``.safetensors`` file; default: the path in the widget)."""
        if self.model is None:
            self._say("nothing to save: train or load a model first")
            return None
        try:
            written = self.model.save(Path(path or self.model_path.value).expanduser())
        except OSError as error:
            self._say(f"cannot save: {error}")
            return None
        self._say(f"saved {written}")
        return written

    def load(self, path: str | Path | None = None) -> Noise2Score | None:
        """Load a model saved by :meth:`save` (default: the path in the widget)."""
        self._abort()
        source = Path(path or self.model_path.value).expanduser()
        try:
            model = Noise2Score.load(source)
        except (OSError, ValueError, KeyError) as error:
            self._say(f"cannot load: {error}")
            return None
        self.model = model
        self.noise.value = model.noise_model.name
        self._idle()
        self._say(f"loaded {source.name}: {model.step} steps, {model.noise_model}")
        return model
