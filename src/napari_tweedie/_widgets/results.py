"""Result layers shared by the dock widgets: overlay a region's result, write a whole layer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import napari
import numpy as np
from magicgui.widgets import FileEdit

from ..data import ROI, open_levels, store_atomic
from .jobs import Job
from .live import discard_layer, replace_image
from .scope import check_planes, full_resolution, oriented, overlay

STORE_KEY = "napari_tweedie_store"  # layer metadata: the zarr store a result layer reads


@dataclass(frozen=True)
class Failed:
    """An expected error returned by a job function as its result.

    :class:`~napari_tweedie._widgets.jobs.Job`'s workers re-raise errors in
    the Qt event loop (napari's default), so a job function catches the
    errors it expects (bad input) and returns them wrapped in this class; the
    ``on_done`` callback reports them in the status instead.
    """

    error: Exception


def put_image(
    viewer: napari.viewer.Viewer,
    source: napari.layers.Image,
    roi: ROI,
    data: np.ndarray,
    name: str,
    **kwargs: Any,
) -> napari.layers.Image:
    """Create or update the image layer ``name`` showing ``data`` over ``roi`` of ``source``.

    The layer gets the source's transforms and a translate that overlays it on the
    region; an image layer of that name is updated in place (its contrast limits
    kept).  ``kwargs`` go to ``add_image`` (default: the source's contrast
    limits and colormap).
    """
    data = np.asarray(data).reshape(roi.shape)
    place = overlay(source, roi)
    layer = replace_image(viewer, name, data, place)
    if layer is not None:
        return layer
    discard_layer(viewer, name)  # of another dimensionality: removed a turn later
    kwargs.setdefault("contrast_limits", source.contrast_limits)
    kwargs.setdefault("colormap", source.colormap)
    return viewer.add_image(data, name=name, **place, **kwargs)


def default_output(stem: str) -> Path:
    """``<cwd>/<stem>.zarr`` with the characters unsafe in file names replaced."""
    safe = re.sub(r"_+", "_", re.sub(r"[^\w.-]+", "_", stem)).strip("._") or "result"
    return Path.cwd() / f"{safe}.zarr"


def output_edit(stem: Callable[[], str], *signals) -> FileEdit:
    """The "output" zarr store of a whole-layer result, following :func:`default_output`.

    It shows ``default_output(stem())``, renewed at each of ``signals``, until
    the user edits it: each result of a layer and method then gets its own
    store by default, instead of every "Apply" overwriting one ``denoised.zarr``.
    """
    output = FileEdit(label="output", mode="w", filter="*.zarr",
                      tooltip="zarr store the whole layer's result is written to")  # fmt: skip
    auto: list[Path] = []

    def update(*_) -> None:
        if not auto or Path(output.value) == auto[-1]:
            auto.append(default_output(stem()))
            output.value = auto[-1]

    for signal in signals:
        signal.connect(update)
    update()
    return output


def stores_in_use(viewer: napari.viewer.Viewer, *, except_name: str = "") -> dict[Path, str]:
    """Zarr stores that result layers (other than ``except_name``) read lazily: path -> layer."""
    return {
        Path(layer.metadata[STORE_KEY]).resolve(): layer.name
        for layer in viewer.layers
        if STORE_KEY in layer.metadata and layer.name != except_name
    }


def zarr_target(path: str | Path) -> Path:
    """``path`` with ``~`` expanded; a ``ValueError`` unless it names a ``.zarr`` store."""
    target = Path(path).expanduser()
    if target.suffix.lower() != ".zarr":
        raise ValueError("the output must be a .zarr store")
    return target


def whole_layer_stage(stage, source: napari.layers.Image, name: str, keep_rgb: bool) -> None:
    """Make ready (at the click) the layer :func:`whole_layer_job` opens its result in.

    A single-scale result fills a lazy placeholder staged now; a multiscale one
    (its pyramid's levels are known only once written) is added at the end.
    """
    if source.multiscale:
        return
    rgb = keep_rgb and source.rgb
    shape = tuple(full_resolution(source).shape)
    place = {"scale": source.scale, "translate": source.translate, **oriented(source)}
    look = {"rgb": True} if rgb else {"colormap": source.colormap}
    stage.lazy_image(name, shape if rgb or not source.rgb else shape[:-1], place,
                     contrast_limits=source.contrast_limits, **look)  # fmt: skip


def whole_layer_job(
    viewer: napari.viewer.Viewer,
    source: napari.layers.Image,
    lazy,
    target: str | Path,
    name: str,
    *,
    on_error: Callable[[Exception], None],
    on_progress: Callable[[int, int], None] | None = None,
    on_finish: Callable[[], None] | None = None,
    on_done: Callable[[Path], None] | None = None,
    keep_rgb: bool = False,
) -> Job:
    """A (not yet started) job writing ``lazy`` atomically to ``target`` and opening it lazily.

    ``lazy`` is the result of the whole layer as a dask array (for instance
    from :func:`napari_tweedie.data.map_tiles`), or a function returning it,
    called in the worker (where set-up that reads pixels, such as a noise
    estimate, does not block the GUI); it is computed tile by tile in the
    background by :func:`~napari_tweedie.data.store_atomic` (never over the
    source file), then added as the layer ``name`` over the source.  A
    multiscale source gets a multiscale result (an OME-Zarr pyramid with as
    many levels), so that napari can show it zoomed out without reading it all.
    ``keep_rgb``: an RGB source (denoised with its channel axis) gives an RGB result.
    """
    rgb = keep_rgb and source.rgb
    if not rgb:
        check_planes(source)
    target = zarr_target(target)
    in_use = stores_in_use(viewer, except_name=name)
    if target.resolve() in in_use:
        raise ValueError(
            f"{target.name} is shown by the layer {in_use[target.resolve()]!r}; choose "
            "another output (or remove that layer first)"
        )
    path = getattr(source.source, "path", None)
    inputs = [path] if path else []

    levels = len(source.data) if source.multiscale and source.ndim <= 5 else 1

    def work(progress):
        array = lazy() if callable(lazy) else lazy
        written = store_atomic(array, target, inputs=inputs, callback=progress, levels=levels)
        return written, open_levels(written)  # opened here: the GUI thread only shows it

    def done(outcome: tuple[Path, list]) -> None:
        written, pyramid = outcome
        place = {"scale": source.scale, "translate": source.translate, **oriented(source)}
        layer = None if len(pyramid) > 1 else replace_image(viewer, name, pyramid[0], place)
        if layer is None:  # a pyramid, or nothing staged (see whole_layer_stage)
            discard_layer(viewer, name)
            layer = viewer.add_image(
                pyramid if len(pyramid) > 1 else pyramid[0],
                multiscale=len(pyramid) > 1,
                name=name,
                **place,
                **({"rgb": True} if rgb else {"colormap": source.colormap}),
            )
        layer.contrast_limits = source.contrast_limits
        layer.metadata[STORE_KEY] = str(written)
        if on_done is not None:
            on_done(written)

    return Job(work, on_done=done, on_error=on_error, on_progress=on_progress, on_finish=on_finish)
