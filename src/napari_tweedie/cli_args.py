"""Arguments of the command line: values, settings, ROIs, output checks and casts."""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence

import numpy as np

_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def parse_value(text: str):
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"``/``"no"`` -> True/False, ``"None"`` -> None."""
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_settings(items: Sequence[str]) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        settings[key.strip()] = parse_value(value.strip())
    return settings


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_roi(text: str) -> tuple[slice | int, ...]:
    """numpy-style ``"0,100:612,100:612"`` -> ``(0, slice(100, 612), slice(100, 612))``."""
    parts = []
    for part in text.split(","):
        part = part.strip()
        if ":" in part:
            bounds = [int(b) if b.strip() else None for b in part.split(":")]
            if len(bounds) != 2:
                raise ValueError(f"--roi: steps are not supported in {part!r}")
            parts.append(slice(*bounds))
        else:
            parts.append(int(part))
    return tuple(parts)


def cast_output(array, dtype: np.dtype):
    """Round and clip a float result into an integer ``dtype`` (or cast to a float one)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        # float64: float32 rounds the int32/uint32 limits up past them, and the cast wraps
        return array.astype(np.float64).round().clip(info.min, info.max).astype(dtype)
    return array.astype(dtype)


def check_not_colour(shape: tuple[int, ...]) -> None:
    """Refuse an RGB(A) image (H, W, 3 or 4): its last two axes are not Y, X."""
    if len(shape) >= 3 and shape[-1] in (3, 4) and shape[-2] > 4:
        raise ValueError(
            f"the input looks like an RGB(A) image (shape {shape}); the last two axes "
            "must be Y, X: convert it to grayscale or save each channel as a plane"
        )


def load_array_values(settings: dict) -> dict:
    """Replace values that name existing image files (e.g. ``mask=mask.npy``) by their arrays."""
    from pathlib import Path

    from .data import open_array
    from .data.io import SUPPORTED_SUFFIXES, suffix_of

    loaded = {}
    for key, value in settings.items():
        if (
            isinstance(value, str)
            and suffix_of(value) in SUPPORTED_SUFFIXES
            and Path(value).exists()
        ):
            value = np.asarray(open_array(value).compute())
        loaded[key] = value
    return loaded


def check_restore_outputs(output: str, std: str | None, inputs: list) -> None:
    """Refuse PNG (restore writes float32), ``--std`` equal to the output, and inputs as outputs."""
    from pathlib import Path

    from .data.io import suffix_of
    from .data.writer import check_output

    targets = [output] + ([std] if std else [])
    if any(suffix_of(target) == ".png" for target in targets):
        raise ValueError("restore writes float32 images: use .tif, .npy or .zarr, not .png")
    if std and Path(std).resolve() == Path(output).resolve():
        raise ValueError("--std names the output file")
    for target in targets:
        check_output(target, inputs)
