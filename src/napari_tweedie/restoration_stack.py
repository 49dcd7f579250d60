"""Whole-layer restoration: a stack plane by plane into OME-Zarr, resumable after a kill.

:func:`restore_stack_steps` restores each 2-D plane of a stack (the last two
axes; the leading ones are planes) with :func:`~napari_tweedie.restore_steps`,
large planes with the prior in overlapping tiles blended at every sampler
step (:class:`~napari_tweedie.prior.tiled.TiledPrior`).  Planes go into a
hidden store beside the target (``.NAME.zarr.partial``), each marked done
once its mean and std are written; the finished store is renamed onto the
target, so a reader never sees half a result.  A run stopped by Cancel, an
error or a kill leaves the partial store: the same call again (same input
shape and settings) skips the planes already done.  Other settings start
afresh.

The target is an OME-Zarr group: the posterior mean at ``"0"`` (what
:func:`~napari_tweedie.data.open_array` and napari read) and the per-pixel
std over samples at ``"std"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

import numpy as np

from .steps import Step

STD_PATH = "std"
DONE_DIR = "done"
AXES = {2: "yx", 3: "zyx", 4: "czyx", 5: "tczyx"}


def partial_path(target: Path) -> Path:
    """The hidden store beside ``target`` that a run fills plane by plane."""
    return target.with_name(f".{target.name}.partial")


def restore_stack_steps(
    y,
    operator: str,
    target: str | os.PathLike,
    *,
    sampler: str | None = None,
    prior: str | Callable = "default",
    steps: int | None = None,
    samples: int | None = None,
    seed: int = 0,
    device: str = "auto",
    tile: int | None = 512,
    overlap: int = 32,
    inputs: Iterable[str | os.PathLike] = (),
    **params,
) -> Generator[Step, None, Path]:
    """Restore every plane of ``y`` into the OME-Zarr ``target`` (mean and std), resumably.

    Parameters
    ----------
    y : array-like (numpy, dask, zarr)
        The measurement, ``(..., H, W)``: each plane over the leading axes is
        one measurement of ``operator`` (a sinogram stack for CT...).
    operator, sampler, prior, steps, samples, seed, device, **params
        As in :func:`~napari_tweedie.restore_steps` (``None``: the operator's
        best point estimate); plane ``k`` (C order) uses ``seed + k``.  An
        array parameter with the stack's leading shape in front (a mask per
        plane) is sliced per plane; a 2-D one is shared.
    target : path-like
        A ``.zarr`` store, written atomically (never over ``inputs``).
    tile, overlap : int
        Planes larger than ``tile`` pixels along Y or X run the prior in
        tiles of about ``tile`` with ``overlap`` pixels of context, blended at
        every sampler step; ``tile=None`` never tiles.

    Yields
    ------
    Step
        The sampler's steps numbered over the whole stack (``info["plane"]``);
        ``x0_hat`` is the current plane's estimate.  Closing the generator
        (Cancel) keeps the planes written so far for a later call.

    Returns
    -------
    Path
        The written target.
    """
    from .data.writer import check_output, replace
    from .restoration import resolve_defaults, restore_steps

    target = check_output(target, inputs)
    if target.suffix.lower() != ".zarr":
        raise ValueError("a whole-stack restoration is written to a .zarr store")
    if not hasattr(y, "shape") or not hasattr(y, "ndim"):
        y = np.asarray(y)
    if y.ndim < 2:
        raise ValueError(f"expected planes of at least 2 axes, got shape {y.shape}")
    sampler, steps, samples, params = resolve_defaults(operator, sampler, steps, samples, params)
    lead = tuple(y.shape[:-2])
    planes = list(np.ndindex(lead)) if lead else [()]
    settings = dict(sampler=sampler, steps=steps, samples=samples, device=device)
    denoiser = _prior(prior, device, tile, overlap)
    shape = _image_shape(operator, y.shape[-2:], _plane_params(params, lead, planes[0]))
    key = _fingerprint(y.shape, operator, prior, seed, tile, overlap, settings, params)
    store = _open_partial(partial_path(target), lead + shape, key)
    done_dir = partial_path(target) / DONE_DIR
    for k, index in enumerate(planes):
        if (done_dir / str(k)).exists():
            continue
        plane = np.asarray(y[index])
        inner = restore_steps(plane, operator, prior=denoiser, seed=seed + k, **settings,
                              **_plane_params(params, lead, index))  # fmt: skip
        result = yield from renumbered(inner, k, len(planes), "plane")
        store["0"][index] = result.mean
        store[STD_PATH][index] = result.std
        (done_dir / str(k)).touch()
    shutil.rmtree(done_dir, ignore_errors=True)
    replace(partial_path(target), target)
    return target


def _prior(prior, device: str, tile: int | None, overlap: int):
    """The denoiser behind ``prior`` (loaded once for all planes), tiled when ``tile`` is set."""
    from .prior.bundled import pick_device
    from .prior.select import get_prior
    from .prior.tiled import TiledPrior

    denoiser = get_prior(prior, pick_device(device))
    return denoiser if tile is None else TiledPrior(denoiser, tile, overlap)


def _plane_params(params: dict, lead: tuple[int, ...], index: tuple[int, ...]) -> dict:
    """``params`` for plane ``index``: arrays with the stack's leading shape are sliced."""
    out = {}
    for name, value in params.items():
        if lead and isinstance(value, np.ndarray) and value.shape[: len(lead)] == lead:
            value = value[index]
        out[name] = value
    return out


def _image_shape(operator: str, plane_shape, params: dict) -> tuple[int, ...]:
    """The restored image's (H, W) for a measurement plane of ``plane_shape``."""
    from .operators import operator_spec

    spec = operator_spec(operator)
    names = {param.name for param in spec.params}
    op_params = {k: v for k, v in params.items() if k in names}
    return tuple(spec.for_measurement(tuple(plane_shape), **op_params).image_shape)


def _fingerprint(shape, operator, prior, seed, tile, overlap, settings, params) -> str:
    """A digest of what decides the result: a partial store of other settings is not resumed."""
    digest = hashlib.sha256()
    scalars = {k: v for k, v in params.items() if not isinstance(v, np.ndarray)}
    described = dict(shape=list(shape), operator=operator, seed=seed, tile=tile, overlap=overlap,
                     prior=prior if isinstance(prior, str) else repr(type(prior)),
                     settings=settings, params=scalars)  # fmt: skip
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    for name in sorted(set(params) - set(scalars)):
        array = np.ascontiguousarray(params[name])
        digest.update(name.encode() + str(array.shape).encode() + array.tobytes())
    return digest.hexdigest()


def _open_partial(path: Path, shape: tuple[int, ...], key: str):
    """The partial store at ``path`` if it was made for ``key``, else a new empty one."""
    import zarr

    if path.exists():
        try:
            group = zarr.open_group(str(path), mode="r+")
            if group.attrs.get("napari_tweedie", {}).get("restore_key") == key:
                (path / DONE_DIR).mkdir(exist_ok=True)  # gone if killed just before the rename
                return group
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(path, ignore_errors=True)
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    chunks = (1,) * (len(shape) - 2) + tuple(min(n, 1024) for n in shape[-2:])
    lead = [f"dim_{i}" for i in range(len(shape) - 2)]
    names = list(AXES[len(shape)]) if len(shape) in AXES else [*lead, "y", "x"]
    for name in ("0", STD_PATH):
        group.create_array(name, shape=shape, chunks=chunks, dtype="float32",
                           dimension_names=names, fill_value=np.nan)  # fmt: skip
    group.attrs["ome"] = _ome_metadata(names)
    group.attrs["napari_tweedie"] = {"restore_key": key, "std": STD_PATH}
    (path / DONE_DIR).mkdir()
    return group


def _ome_metadata(names: list[str]) -> dict:
    """OME-Zarr 0.5 multiscales of one level (the mean at ``"0"``)."""
    kinds = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    axes = [{"name": n, "type": kinds[n]} if n in kinds else {"name": n} for n in names]
    scale = [1.0] * len(names)
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}]
    return {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}


def renumbered(inner, index: int, count: int, what: str):
    """Pass ``inner``'s steps on numbered over ``count`` runs like it (this one is ``index``).

    Each step's ``info`` gets ``{what: index}``; closing the outer generator closes ``inner``.
    """
    while True:
        try:
            step = next(inner)
        except StopIteration as stop:
            return stop.value
        try:
            yield Step(index * step.n + step.i, count * step.n, step.sigma, step.x, step.x0_hat,
                       (step.info or {}) | {what: index})  # fmt: skip
        except GeneratorExit:
            inner.close()
            raise


def restore_stack(y, operator: str, target: str | os.PathLike, **settings) -> Path:
    """Blocking form of :func:`restore_stack_steps` (same arguments): the written target."""
    from .steps import run

    return run(restore_stack_steps(y, operator, target, **settings))


def restore_stack_cli(source, args, inputs: list, settings: dict, params: dict) -> int:
    """``napari-tweedie restore`` on a stack: every plane into the ``.zarr`` output, resumably."""
    import sys

    from .steps import run

    if args.std:
        raise ValueError(f"a stack's std is written into the output store (at {STD_PATH!r})")
    shown = []

    def progress(step: Step) -> None:
        plane = step.info["plane"]
        if not shown or shown[-1] != plane:
            shown.append(plane)
            sys.stderr.write(f"napari-tweedie: plane {plane + 1} (step {step.i}/{step.n})\n")

    tile = args.plane_tile or None
    gen = restore_stack_steps(source, args.operator, args.output, inputs=inputs, tile=tile,
                              **settings, **params)  # fmt: skip
    path = run(gen, progress)
    sys.stderr.write(f"napari-tweedie: wrote {path}\n")
    return 0
