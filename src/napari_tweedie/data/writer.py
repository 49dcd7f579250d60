"""Atomic writing of results: into a temporary store beside the target, then a rename.

A reader never sees a half-written result: if the computation raises or is
cancelled, the temporary store is removed and the target is left as it was.
The target may never be (or contain, or lie inside) an input.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import zarr
from dask.callbacks import Callback

from .io import suffix_of
from .pyramid import write_pyramid
from .targets import check_replaceable, clean_stale, temporary_path

ProgressCallback = Callable[[int, int], "bool | None"]


class Cancelled(RuntimeError):
    """Raised when a progress callback asks to stop."""


def check_not_input(target: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> Path:
    """Return ``target`` resolved, refusing a path that is, contains or lies inside an input."""
    target = Path(target).resolve()
    for source in inputs:
        source = Path(source).resolve()
        if target == source or source in target.parents or target in source.parents:
            raise ValueError(f"refusing to write {target}: it would overwrite the input {source}")
    return target


def check_output(target: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """``target`` resolved, if it is no input and replaceable (else a ``ValueError``)."""
    target = check_not_input(target, inputs)
    check_replaceable(target, suffix_of(target))
    return target


def replace(tmp: Path, target: Path) -> None:
    """Move ``tmp`` onto ``target`` (a file or a directory store), replacing it.

    ``target`` must be replaceable (:func:`~.targets.check_replaceable`): checked again here.
    """
    check_replaceable(target, suffix_of(target))
    if target.is_dir() and not target.is_symlink():
        backup = temporary_path(target)
        os.replace(target, backup)
        os.replace(tmp, target)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(tmp, target)


def remove(path: Path) -> None:
    """Remove a file or directory if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class _TaskProgress(Callback):
    """dask callback counting finished tasks; a callback returning False cancels."""

    def __init__(self, callback: ProgressCallback):
        super().__init__()
        self.callback = callback
        self.total = 0
        self.done = 0

    def _start_state(self, dsk, state):
        # several computations (a pyramid's levels) count on from the earlier ones
        self.total = self.done + sum(len(state[key]) for key in ("ready", "waiting", "running"))

    def _posttask(self, key, result, dsk, state, worker_id):
        self.done += 1
        if self.callback(self.done, max(self.total, self.done)) is False:
            raise Cancelled("cancelled by the user")


def _local_callbacks(callback: ProgressCallback | None) -> list | None:
    """The ``callbacks=`` argument of one local dask computation (dask's tuple form).

    ``None`` without a callback: dask then uses the callbacks active around the
    call (a user's ``ProgressBar``), as it does for any computation.
    """
    return [_TaskProgress(callback)._callback] if callback else None


def store_atomic(
    array,
    target: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    callback: ProgressCallback | None = None,
    chunks: tuple[int, ...] | None = None,
    levels: int = 1,
) -> Path:
    """Compute ``array`` into ``target`` atomically.

    Parameters
    ----------
    array : numpy or dask array
        What to write.
    target : path-like
        ``.zarr`` (a zarr v3 array), ``.tif``/``.tiff``, ``.npy`` or ``.png``.
    inputs : paths
        Inputs that must not be overwritten.
    callback : callable, optional
        ``callback(done, total)`` after each finished dask task (local
        schedulers); returning ``False`` cancels (raises :class:`Cancelled`).
        With a ``dask.distributed`` client active, progress is not reported.
    chunks : tuple of int, optional
        Zarr chunk shape (default: the dask array's, made regular).
    levels : int
        ``.zarr`` only: with more than one, an OME-Zarr group holding the
        array and ``levels - 1`` 2x-downsampled copies
        (:func:`~napari_tweedie.data.pyramid.write_pyramid`); :func:`open_array`
        reads its full resolution, :func:`~napari_tweedie.data.pyramid.open_levels`
        all of it.

    Returns
    -------
    Path
        The written target.
    """
    target = check_not_input(target, inputs)
    suffix = suffix_of(target)
    if levels > 1 and suffix != ".zarr":
        raise ValueError("a multiscale output (levels > 1) must be a .zarr store")
    gate = WriteGate()  # closed when the computation failed: no chunk lands after that
    writers = {
        ".zarr": partial(_write_zarr, levels=levels, gate=gate),
        ".tif": _write_tiff,
        ".tiff": _write_tiff,
        ".npy": _write_npy,
        ".png": _write_png,
    }
    if suffix not in writers:
        raise ValueError(f"unsupported output format {suffix!r}; use " + ", ".join(writers))
    check_replaceable(target, suffix)  # before the computation: fail fast, delete nothing
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    tmp = temporary_path(target)
    # the callback goes to this computation only: a `with Callback()` block would
    # register it for every dask computation in the process (napari's slicing too)
    callbacks = _local_callbacks(callback)
    try:
        writers[suffix](da.asarray(array), tmp, chunks, callbacks)
        replace(tmp, target)
    except BaseException:
        # dask raises without waiting for the tasks still running: their writes
        # are refused from now on, and those under way end before the removal
        gate.close()
        remove(tmp)
        raise
    return target


def regular_chunks(array: da.Array, chunks: tuple[int, ...] | None) -> tuple[int, ...]:
    """A regular chunk shape for zarr (the largest chunk of each axis)."""
    return tuple(chunks) if chunks else tuple(max(c) for c in array.chunks)


class WriteGate:
    """Lets chunk writes through until :meth:`close`, which waits for those under way."""

    def __init__(self):
        self._changed = threading.Condition()
        self._active = 0
        self._closed = False

    def target(self, array) -> GatedTarget:
        """``array`` as a ``da.store`` target whose writes pass through this gate."""
        return GatedTarget(array, self)

    def write(self, array, key, value) -> None:
        with self._changed:
            if self._closed:
                return
            self._active += 1
        try:
            array[key] = value
        finally:
            with self._changed:
                self._active -= 1
                self._changed.notify_all()

    def close(self, timeout: float = 30.0) -> None:
        """Refuse further writes; wait (up to ``timeout`` s) for the ones under way."""
        with self._changed:
            self._closed = True
            self._changed.wait_for(lambda: self._active == 0, timeout)


class GatedTarget:
    """A ``da.store`` target writing into ``array`` through a :class:`WriteGate`."""

    def __init__(self, array, gate: WriteGate):
        self.array, self.gate = array, gate
        self.shape, self.dtype = array.shape, array.dtype

    def __setitem__(self, key, value) -> None:
        self.gate.write(self.array, key, value)

    def __reduce__(self):
        # sent to a dask.distributed worker: the gate (a lock) stays here, the array goes
        return (_ungated, (self.array,))


def _ungated(array):
    return array


def _write_zarr(
    array: da.Array, tmp: Path, chunks, callbacks: list | None, levels: int, gate: WriteGate
) -> None:
    shape = regular_chunks(array, chunks)
    if levels > 1:
        write_pyramid(array, tmp, shape, levels, callbacks, gate)
        return
    store = zarr.create_array(
        str(tmp), shape=array.shape, chunks=shape, dtype=array.dtype, zarr_format=3
    )
    da.store(array.rechunk(shape), gate.target(store), lock=False, callbacks=callbacks)


def _write_tiff(array: da.Array, tmp: Path, chunks, callbacks: list | None) -> None:
    import tifffile

    tifffile.imwrite(tmp, np.asarray(array.compute(callbacks=callbacks)), compression="zlib")


def _write_npy(array: da.Array, tmp: Path, chunks, callbacks: list | None) -> None:
    with open(tmp, "wb") as handle:
        np.save(handle, np.asarray(array.compute(callbacks=callbacks)))


def _write_png(array: da.Array, tmp: Path, chunks, callbacks: list | None) -> None:
    import imageio.v3 as iio

    data = np.asarray(array.compute(callbacks=callbacks))
    if data.dtype not in (np.uint8, np.uint16):
        raise ValueError("PNG output needs uint8 or uint16 data; use --dtype or a .tif output")
    iio.imwrite(tmp, data, extension=".png")


def compute_with_progress(array, callback: ProgressCallback | None = None):
    """Compute a dask array with the same progress/cancel callback as :func:`store_atomic`."""
    if callback is None or not isinstance(array, da.Array):
        return np.asarray(dask.compute(array)[0])
    return np.asarray(array.compute(callbacks=_local_callbacks(callback)))
