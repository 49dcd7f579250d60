"""Lazy opening of images on disk as dask arrays (zarr v2/v3, OME-Zarr, TIFF, NPY, PNG).

Nothing here reads pixels: every opener returns a :class:`dask.array.Array`
whose chunks are read on compute.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import zarr

SUPPORTED_SUFFIXES = (".zarr", ".tif", ".tiff", ".npy", ".png")


def suffix_of(path: str | os.PathLike) -> str:
    """Lower-case suffix of ``path`` ignoring trailing slashes (``.ome.zarr`` -> ``.zarr``)."""
    return Path(str(path).rstrip("/\\")).suffix.lower()


def open_array(path: str | os.PathLike, *, chunks: int | tuple | None = None) -> da.Array:
    """Open an image file lazily as a dask array.

    Parameters
    ----------
    path : path-like
        ``.zarr`` (zarr v2 or v3 array or group; OME-Zarr groups open their
        full-resolution level), ``.tif``/``.tiff`` (through tifffile's zarr
        interface), ``.npy`` (memory-mapped) or ``.png``.
    chunks : int or tuple, optional
        Chunking for formats without native chunks (NPY, PNG); defaults to
        planes of the last two axes split in 512-pixel blocks.

    Returns
    -------
    dask.array.Array
        The image, not yet read.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing path, unsupported format, an unreadable or corrupt file (also
        for a chunk found corrupt on compute), or more pixels than
        :data:`~napari_tweedie.validation.MAX_ELEMENTS`, with a one-line reason.
    """
    from ..validation import check_size

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    suffix = suffix_of(path)
    if suffix == ".zarr" or (path.is_dir() and _looks_like_zarr(path)):
        opener = _open_zarr
    elif suffix in (".tif", ".tiff"):
        opener = _open_tiff
    elif suffix == ".npy":
        opener = partial(_open_npy, chunks=chunks)
    elif suffix == ".png":
        opener = partial(_open_png, chunks=chunks)
    else:
        raise ValueError(
            f"unsupported image format {suffix!r} for {path}; expected one of "
            + ", ".join(SUPPORTED_SUFFIXES)
        )
    try:
        array = opener(path)
    except FileFormatError:
        raise
    except Exception as error:  # each library has its own: tifffile, zarr, numpy, imageio
        raise FileFormatError(f"cannot read {path}: {one_line(error)}") from error
    check_size(array.shape, str(path))
    return array


class FileFormatError(ValueError):
    """An input file that cannot be read: truncated, corrupt or of another format."""


def one_line(error: BaseException) -> str:
    """``error``'s message on one line (its type's name when it has none)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


class _Checked:
    """A chunked array (zarr, TIFF) whose reads turn any failure into a :class:`FileFormatError`."""

    def __init__(self, node, path: Path):
        self.node, self.path = node, path
        self.shape, self.dtype, self.ndim = node.shape, node.dtype, node.ndim

    def __getitem__(self, key):
        try:
            return self.node[key]
        except Exception as error:
            raise FileFormatError(
                f"cannot read {self.path}: a chunk is corrupt or unreadable ({one_line(error)})"
            ) from error

    def __dask_tokenize__(self):
        from dask.base import tokenize

        return ("checked", str(self.path), tokenize(self.node))


def _from_node(node, path: Path) -> da.Array:
    """``node`` (a zarr array) as a dask array with its chunks, read through :class:`_Checked`."""
    chunks = getattr(node, "chunks", None) or node.shape
    return da.from_array(_Checked(node, path), chunks=chunks, asarray=False, fancy=False)


def _looks_like_zarr(path: Path) -> bool:
    return any((path / name).exists() for name in ("zarr.json", ".zarray", ".zgroup"))


def _open_zarr(path: Path) -> da.Array:
    node = zarr.open(str(path), mode="r")
    if isinstance(node, zarr.Array):
        return _from_node(node, path)
    level = _ome_full_resolution_path(dict(node.attrs))
    if level is not None:
        return _from_node(node[level], path)
    arrays = list(node.array_keys())
    if len(arrays) == 1:
        return _from_node(node[arrays[0]], path)
    raise FileFormatError(
        f"{path} is a zarr group with {len(arrays)} arrays and no OME-Zarr multiscales; "
        "open one array inside it (e.g. path/to/group.zarr/name)"
    )


def ome_dataset_paths(attrs: dict) -> list[str] | None:
    """Paths of the datasets (levels, largest first) of OME-Zarr 0.4 or 0.5 metadata."""
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if not multiscales:
        return None
    return [str(dataset["path"]) for dataset in multiscales[0]["datasets"]]


def _ome_full_resolution_path(attrs: dict) -> str | None:
    """Path of the first (full-resolution) dataset of OME-Zarr 0.4 or 0.5 metadata."""
    paths = ome_dataset_paths(attrs)
    return paths[0] if paths else None


def _open_tiff(path: Path) -> da.Array:
    import logging

    import tifffile

    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)  # a damaged file is reported once, by the exception
    try:
        store = tifffile.imread(str(path), aszarr=True)
    finally:
        log.setLevel(level)
    node = zarr.open(store, mode="r")
    if not isinstance(node, zarr.Array):  # pyramidal TIFF: level 0 is full resolution
        node = node[_ome_full_resolution_path(dict(node.attrs)) or "0"]
    return _from_node(node, path)


def _default_chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 for _ in shape[:-2]) + tuple(min(512, s) for s in shape[-2:])


def _open_npy(path: Path, chunks) -> da.Array:
    memmap = np.load(path, mmap_mode="r")
    return da.from_array(memmap, chunks=chunks or _default_chunks(memmap.shape), asarray=False)


def _open_png(path: Path, chunks) -> da.Array:
    import imageio.v3 as iio

    props = iio.improps(path)  # reads the header only
    shape, dtype = tuple(props.shape), props.dtype
    delayed = dask.delayed(_read_png, pure=True)(path)
    array = da.from_delayed(delayed, shape=shape, dtype=dtype)
    return array.rechunk(chunks) if chunks else array


def _read_png(path: Path) -> np.ndarray:
    import imageio.v3 as iio

    try:
        return iio.imread(path)
    except Exception as error:
        raise FileFormatError(f"cannot read {path}: {one_line(error)}") from error
