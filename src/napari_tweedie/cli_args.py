"""Arguments of the command line: values, settings, ROIs, output checks and casts."""

from __future__ import annotations

import argparse
import ast
import contextlib
import math
import sys
from collections.abc import Sequence

import numpy as np

#: failures of the user's input or environment: one line, exit 2 (anything else is a bug)
EXPECTED_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    FileNotFoundError,
    ImportError,
    OSError,
    MemoryError,
)
#: options whose value may start with "-" (``--roi -20:,-20:``)
VALUE_OPTIONS = ("--roi",)

_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def parse_value(text: str):
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"``/``"no"`` -> True/False, ``"None"`` -> None."""
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        pass
    try:
        return float(text)  # "nan", "inf": numbers, refused or accepted by the parameter's range
    except ValueError:
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


DEVICE_HELP = "torch device: auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps"


def device_arg(text: str) -> str:
    """``--device``: the device string, checked by :func:`check_device_option` after parsing.

    Not checked here: argparse would print its usage and exit, where every
    other bad value of the command gives one line (``napari-tweedie: error: ...``).
    """
    return text


def check_device_option(args) -> None:
    """Raise ``ValueError`` for a bad ``--device`` (:func:`napari_tweedie.devices.check_device`)."""
    device = getattr(args, "device", None)
    if device is not None:
        from .devices import check_device

        check_device(device)


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


def check_not_colour(shape: tuple[int, ...], channel_axis: int | None = None) -> None:
    """Refuse an RGB(A) image (H, W, 3 or 4) given without a channel axis."""
    if channel_axis is None and len(shape) >= 3 and shape[-1] in (3, 4) and shape[-2] > 4:
        raise ValueError(
            f"the input looks like an RGB(A) image (shape {shape}); the last two axes "
            "must be Y, X: pass --channel-axis -1 to denoise it as colour"
        )


def parse_sigma(text: str) -> float | tuple[float, ...]:
    """``"0.1"`` -> 0.1; ``"0.05,0.1,0.2"`` -> one value per channel (with --channel-axis)."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or numbers, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def parse_spacing(text: str) -> tuple[float, ...]:
    """``"dz,dy,dx"`` (or ``"dy,dx"``) -> floats, each > 0."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 2,0.5,0.5, got {text!r}") from None
    if len(values) not in (2, 3) or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected 2 or 3 numbers > 0, got {text!r}")
    return values


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    """``--channel-axis``, ``--volumetric`` and ``--spacing`` (``nt.denoise``'s keywords)."""
    parser.add_argument(
        "--channel-axis", type=int, default=None, metavar="N",
        help="axis holding colour or channels (e.g. -1 for RGB): noise per channel",
    )  # fmt: skip
    parser.add_argument(
        "--volumetric", action="store_true",
        help="the last three axes are Z, Y, X: denoise in 3-D (methods with a 3-D mode)",
    )  # fmt: skip
    parser.add_argument(
        "--spacing", type=parse_spacing, default=None, metavar="DZ,DY,DX",
        help="voxel size per axis (anisotropy of --volumetric; default 1,1,1)",
    )  # fmt: skip


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


def attach_values(argv: Sequence[str]) -> list[str]:
    """``["--roi", "-20:,-20:"]`` -> ``["--roi=-20:,-20:"]``: a value, not an option."""
    out, items = [], list(argv)
    index = 0
    while index < len(items):
        item = items[index]
        if item in VALUE_OPTIONS and index + 1 < len(items):
            out.append(f"{item}={items[index + 1]}")
            index += 2
            continue
        out.append(item)
        index += 1
    return out


def report_error(error: Exception) -> int:
    """Write one line about ``error`` to stderr; 2 for bad input, 1 for an internal error."""
    from .data.io import one_line

    if isinstance(error, MemoryError):
        message = f"out of memory ({one_line(error)}): use a smaller --tile or --roi"
    else:
        message = one_line(error)
        if isinstance(error, KeyError) and error.args:
            message = f"missing key {error.args[0]!r}"
    if isinstance(error, EXPECTED_ERRORS):
        sys.stderr.write(f"napari-tweedie: error: {message}\n")
        return 2
    sys.stderr.write(
        f"napari-tweedie: internal error: {type(error).__name__}: {message}; "
        "run with --debug for the traceback\n"
    )
    return 1


def apply_roi(image, roi: tuple):
    """``image[roi]``, refusing a ROI with too many entries, out of range or selecting nothing."""
    if len(roi) > image.ndim:
        raise ValueError(f"--roi has {len(roi)} entries; the input has {image.ndim} axes")
    try:
        region = image[roi]
    except IndexError as error:
        raise ValueError(f"--roi is out of range for the input of shape {image.shape}") from error
    if 0 in region.shape or region.ndim < 2:
        raise ValueError(
            f"--roi selects no image (shape {region.shape}) of the input of shape {image.shape}: "
            "check that each start is below its stop and inside the input"
        )
    return region


@contextlib.contextmanager
def _scheduler(address: str | None):
    if not address:
        yield None
        return
    try:
        from distributed import Client
    except ImportError as error:
        raise ImportError("--scheduler needs dask.distributed: pip install distributed") from error
    with Client(address, timeout="10s") as client:
        yield client


@contextlib.contextmanager
def _progress(quiet: bool):
    if quiet:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=1, unit="task", file=sys.stderr, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield update
