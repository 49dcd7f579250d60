"""Lazy data engine: open images as dask arrays, regions of interest, tiles, atomic writes.

No napari or Qt here: this runs in scripts, the CLI and dask workers.
"""

from .io import SUPPORTED_SUFFIXES, open_array
from .pyramid import open_levels
from .roi import ROI
from .tiles import map_tiles
from .writer import Cancelled, check_not_input, compute_with_progress, store_atomic

__all__ = [
    "ROI",
    "SUPPORTED_SUFFIXES",
    "Cancelled",
    "check_not_input",
    "compute_with_progress",
    "map_tiles",
    "open_array",
    "open_levels",
    "store_atomic",
]
