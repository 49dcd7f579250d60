"""The Restore widget's layers: made ready at Run, filled live and at the end, none added later.

A run of tag ``"<layer> [<operator>, <sampler>]"`` shows, over the source:

- ``"<tag> mean"``: the live Tweedie estimate ``x0_hat = E[x0 | x_t]`` while
  it runs, the posterior mean once done (RGB sources: the colour mean, at the
  end only);
- ``"<tag> sample"``: the sampler's state ``x_t`` while it runs, the last
  posterior sample once done (grey sources);
- ``"<tag> std"``: the per-pixel posterior std (several samples; hidden);
- ``"<tag> trajectory"``: the estimates of the run, one per slider position
  (grey sources; hidden).

All are staged at the Run click (:class:`~.staging.Stage`), so the job's
updates and its result only replace data (see ``benchmarks/bench_gui_stalls.py``).
"""

from __future__ import annotations

import numpy as np

from .live import one_per_turn, robust_limits, show_image
from .restore_colour import rgb_mean
from .restore_inputs import on_plane
from .scope import full_resolution, stacked

__all__ = ["show_restored", "stage_restore"]


def stage_restore(stage, layer, place: dict, shape: tuple, tag: str, samples: int) -> None:
    """Make ready the layers of a run over ``place`` (its plane of ``shape``) of ``layer``."""
    plane = np.zeros(shape, np.float32)
    if layer.rgb:
        colours = full_resolution(layer).shape[-1]
        mean, look = rgb_mean(np.zeros((*shape, colours), np.float32), place, layer)
        stage.image(f"{tag} mean", mean.shape, place, **look)
    else:
        stage.image(f"{tag} sample", on_plane(plane, place).shape, place, colormap="gray")
        stage.image(f"{tag} mean", on_plane(plane, place).shape, place, colormap="gray")
        stage.image(f"{tag} trajectory", (1, *on_plane(plane, place).shape), stacked(place),
                    colormap="gray", visible=False)  # fmt: skip
    if samples > 1:
        stage.image(f"{tag} std", on_plane(plane, place).shape, place, colormap="magma",
                    blending="additive", visible=False)  # fmt: skip


def show_live(previews, tag: str, step, estimate: np.ndarray, place: dict) -> None:
    """Show a grey run's sampler state and Tweedie estimate (contrast following each)."""
    for name, data in ((f"{tag} sample", np.asarray(step.x)[0]), (f"{tag} mean", estimate)):
        previews.show(name, on_plane(data, place), colormap="gray", **place)


def show_restored(viewer, layer, result, place: dict, tag: str, trajectory: list) -> None:
    """Put ``result`` (a ``Restored``) into the run's layers: the mean now, the others one per
    later turn of the event loop (each update re-slices a layer: together they stalled it)."""
    if layer.rgb:
        mean, look = rgb_mean(result.mean, place, layer)
    else:
        mean, look = on_plane(result.mean, place), {"colormap": "gray"}
    show_image(viewer, f"{tag} mean", mean, place, **look)
    later = []
    if not layer.rgb:
        last = on_plane(np.asarray(result.samples[-1], np.float32), place)
        later.append(lambda: show_image(viewer, f"{tag} sample", last, place, colormap="gray"))
    if result.samples.shape[0] > 1:
        std = on_plane(result.std.mean(-1) if layer.rgb else result.std, place)
        later.append(lambda: show_image(viewer, f"{tag} std", std, place, colormap="magma",
                                        blending="additive", visible=False))  # fmt: skip
    if trajectory:
        stack = np.stack([on_plane(step, place) for step in trajectory])
        later.append(lambda: show_image(viewer, f"{tag} trajectory", stack, stacked(place),
                                        colormap="gray", visible=False,
                                        contrast_limits=robust_limits(stack[-1])))  # fmt: skip
    one_per_turn(later, viewer)
