"""One validation layer for the entry points, driven by the registries' :class:`~.specs.Param`.

:func:`check_params` enforces each parameter's kind and bounds (a ``ValueError``
or ``TypeError`` naming the parameter, its value and its range);
:func:`check_count` makes iteration counts finite integers;
:func:`check_noise` lets a noise model reject its parameters;
:func:`check_image` refuses arrays no method can take (complex, bool, object,
dates and text; no pixels; too many pixels); :func:`intensity_scale` gives the
power of two that brings an image of extreme magnitude (1e-30, 1e30) to a unit
range, so that every method computes in float32 without under- or overflow.
Called by :func:`napari_tweedie.denoise`, :func:`~napari_tweedie.denoise_lazy`,
:func:`napari_tweedie.restore`, recipes and the command line.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .specs import Param

__all__ = [
    "MAX_ELEMENTS",
    "check_count",
    "check_image",
    "check_noise",
    "check_noise_data",
    "check_params",
    "check_size",
    "intensity_scale",
    "route",
]

#: The most pixels an image (from a file or an array) may claim: 2^36, 256 GiB as float32.
MAX_ELEMENTS = 2**36
#: Magnitudes between these (powers of two) are processed as they are; outside, rescaled.
SAFE_RANGE = (2.0**-14, 2.0**20)
#: the most sampler steps and posterior samples ``restore`` takes
MAX_STEPS, MAX_SAMPLES = 100_000, 10_000


def _range(param: Param) -> str:
    low = "-inf" if param.min is None else f"{param.min:g}"
    high = "inf" if param.max is None else f"{param.max:g}"
    return f"[{low}, {high}]"


def check_value(param: Param, value: Any, owner: str) -> Any:
    """``value`` of ``param`` checked against its kind and bounds (ints cast to ``int``)."""
    if value is None:
        return value
    if param.kind == "array":
        return check_array_value(param, value, owner)
    if isinstance(value, np.ndarray | list | tuple):  # e.g. CT angles as an array of degrees
        return check_array_value(param, value, owner)
    where = f"{owner}: {param.name}={value!r}"
    if param.kind == "path":  # a file (a model package): a path, or an object already opened
        return str(value) if isinstance(value, str | os.PathLike) else value
    if param.kind == "choice":
        if value not in param.choices:
            raise ValueError(f"{where} is not one of {list(param.choices)}")
        return value
    if param.kind == "bool":
        if not isinstance(value, bool | np.bool_) and value not in (0, 1):
            raise TypeError(f"{where} must be true or false")
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must be a number in {_range(param)}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{where} must be a finite number in {_range(param)}")
    if param.kind == "int":
        if float(value) != int(value):
            raise ValueError(f"{where} must be a whole number in {_range(param)}")
        value = int(value)
    if (param.min is not None and value < param.min) or (
        param.max is not None and value > param.max
    ):
        raise ValueError(f"{where} is outside its range {_range(param)}")
    return value


def check_array_value(param: Param, value: Any, owner: str) -> Any:
    """An ``"array"`` parameter (mask, PSF, shape): booleans or real numbers, finite, not empty."""
    array = np.asarray(value)
    if array.dtype.kind == "b":
        array = array.astype(np.uint8)
    check_image(array, f"{owner} {param.name}", min_ndim=0)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{owner}: {param.name} contains NaN or infinite values")
    return value


def check_params(params: tuple[Param, ...], values: Mapping[str, Any], owner: str) -> dict:
    """``values`` with each entry named in ``params`` checked by :func:`check_value`.

    Names not in ``params`` pass through unchanged (the caller rejects unknown ones).
    """
    by_name = {p.name: p for p in params}
    return {
        name: check_value(by_name[name], value, owner) if name in by_name else value
        for name, value in values.items()
    }


def route(values: Mapping[str, Any], owners: Mapping[str, tuple[Param, ...]]) -> list[dict]:
    """Split ``values`` among ``owners`` (name -> params) by parameter name, each checked.

    Returns one dict per owner, in order, with :func:`check_params` applied; a
    name no owner takes is a ``TypeError`` listing what each takes.
    """
    names = {owner: {p.name for p in params} for owner, params in owners.items()}
    unknown = set(values) - set().union(*names.values())
    if unknown:
        takes = "; ".join(
            f"{owner} takes {sorted(keys) or 'none'}" for owner, keys in names.items()
        )
        raise TypeError(f"unknown parameter(s) {sorted(unknown)}: {takes}")
    return [
        check_params(params, {k: v for k, v in values.items() if k in names[owner]}, owner)
        for owner, params in owners.items()
    ]


def check_count(
    name: str, value: Any, minimum: int = 1, maximum: int | None = None, owner: str = "count"
) -> int:
    """A finite whole number ``>= minimum`` (and ``<= maximum``), else a clear error."""
    param = Param(name, None, name, kind="int", min=minimum, max=maximum)
    return check_value(param, value, owner)


def check_noise(cls, values: Mapping[str, Any]) -> None:
    """Refuse noise parameters the model ``cls`` (a ``NOISE_MODELS`` entry) cannot take."""
    given = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"noise {cls.name!r}: {name}={value!r} must be a number")
        given[name] = float(value)
    bad = cls.invalid(given)
    if bad:
        shown = ", ".join(f"{name}={given[name]!r}" for name in bad)
        raise ValueError(
            f"noise {cls.name!r}: {shown} is not valid (noise parameters must be finite and "
            "> 0; leave them out to estimate them)"
        )


def check_noise_data(cls, sample: np.ndarray) -> None:
    """Refuse data a signal-dependent noise model cannot describe (mostly negative values).

    Poisson counts and multiplicative noise live on non-negative signals; a
    sample that is mostly negative (a subtracted background, the wrong model)
    would give NaN or a meaningless stabilising transform.
    """
    if not cls.signal_dependent:
        return
    finite = np.asarray(sample)[np.isfinite(sample)]
    if finite.size and float(np.mean(finite < 0)) > 0.5:
        raise ValueError(
            f"noise {cls.name!r} describes non-negative signals, but most of the image is "
            "negative; use noise='gaussian' or add back the subtracted offset"
        )


def check_size(shape: tuple[int, ...], what: str = "the image") -> None:
    """Refuse a shape of more than :data:`MAX_ELEMENTS` pixels (e.g. read from a file)."""
    count = math.prod(int(s) for s in shape)
    if count > MAX_ELEMENTS:
        raise ValueError(
            f"{what} has shape {tuple(shape)}: {count:.3g} pixels, more than the limit of "
            f"{MAX_ELEMENTS:.3g}"
        )


def check_image(image, what: str = "image", min_ndim: int = 2, complex_ok: bool = False) -> None:
    """Refuse an array no method takes: non-real dtypes, too few axes, no or too many pixels.

    Raises
    ------
    TypeError
        Complex (unless ``complex_ok``), bool, object, datetime, timedelta, string or
        structured dtypes.
    ValueError
        Fewer than ``min_ndim`` axes, no elements, more than :data:`MAX_ELEMENTS`.
    """
    dtype = np.dtype(getattr(image, "dtype", None) or np.asarray(image).dtype)
    shape = tuple(np.shape(image))
    if dtype.kind not in ("iufc" if complex_ok else "iuf"):
        raise TypeError(
            f"cannot process an {what} of dtype {dtype} (kind {dtype.kind!r}); "
            "expected real numbers (integers or floats)"
        )
    if len(shape) < min_ndim:
        raise ValueError(f"expected an {what} with at least {min_ndim} axes (Y, X), got {shape}")
    if 0 in shape:
        raise ValueError(f"the {what} has no pixels (shape {shape})")
    check_size(shape, f"the {what}")


def intensity_scale(sample: np.ndarray) -> float:
    """A power of two ``s`` such that ``sample / s`` has a unit-order range; 1 if it already has.

    Images whose robust magnitude lies within :data:`SAFE_RANGE` are left as
    they are (``s = 1``: results unchanged bit for bit); extreme ones (physical
    flux units, 1e-30 or 1e30) are divided by ``s`` and the result multiplied
    back, exactly (powers of two scale floats without rounding).
    """
    finite = np.asarray(sample, np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    magnitude = max(float(np.ptp(finite)), float(np.max(np.abs(finite))))
    if magnitude == 0 or SAFE_RANGE[0] <= magnitude <= SAFE_RANGE[1]:
        return 1.0
    return float(2.0 ** round(math.log2(magnitude)))
