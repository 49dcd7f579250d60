"""The ``napari-tweedie`` argument parser: ``denoise``, ``restore``, ``run``, ``export``, ``bench``.

Builds the parser only; the commands themselves are in :mod:`napari_tweedie.cli`
and :mod:`napari_tweedie.cli_denoise`.  The registries are imported when the
parser is built (they load no heavy module: tests/test_import.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

from . import __version__
from .cli_args import DEVICE_HELP, _positive, add_shape_options, device_arg, parse_roi, parse_sigma
from .cli_export import add_export_parser

__all__ = ["DESCRIPTION", "build_parser"]

DESCRIPTION = (
    "Command line: ``napari-tweedie denoise INPUT OUTPUT --method NAME [--set key=value ...]``."
)

AddParser = Callable[..., argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser, every sub-command with its options."""
    parser = argparse.ArgumentParser(prog="napari-tweedie", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    add = partial(commands.add_parser, parents=[debug])
    _add_denoise(add)
    _add_restore(add)
    _add_run(add)
    add_export_parser(add)
    _add_bench(add)
    return parser


def _add_denoise(add: AddParser) -> None:
    from .denoisers import DENOISERS
    from .noise import NOISE_MODELS

    den = add("denoise", help="denoise an image file tile by tile")
    den.add_argument("input", help="input .zarr, .tif, .tiff, .npy or .png")
    den.add_argument("output", help="output .zarr, .tif, .tiff, .npy or .png (written atomically)")
    den.add_argument("--method", required=True, choices=sorted(DENOISERS))
    den.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="method or noise parameter (repeatable)",
    )
    noise_help = "; ".join(f"{name}: {model.summary}" for name, model in NOISE_MODELS.items())
    den.add_argument("--noise", default="gaussian", choices=list(NOISE_MODELS), help=noise_help)
    den.add_argument(
        "--sigma", type=parse_sigma, default=None,
        help="noise std, or one per channel 'a,b,c' (default: estimate)",
    )  # fmt: skip
    den.add_argument("--seed", type=int, default=0)
    den.add_argument("--device", default="auto", type=device_arg, help=DEVICE_HELP)
    add_shape_options(den)
    den.add_argument(
        "--roi",
        type=parse_roi,
        default=None,
        help='numpy slices, one per axis at most: "0:512,0:512" (2-D), "3,0:512,0:512" (3-D)',
    )
    den.add_argument(
        "--tile", type=_positive, default=None, help="tile size in pixels (Y and X; default 512)"
    )
    den.add_argument("--overlap", type=int, default=None, help="tile overlap (default: method's)")
    den.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    den.add_argument(
        "--dtype",
        choices=("float32", "input"),
        default="float32",
        help="output dtype: float32 or the input's (rounded and clipped)",
    )
    den.add_argument("--quiet", action="store_true", help="no progress bar")
    den.add_argument(
        "--tune",
        action="store_true",
        help="first tune the method's parameters on the input (or --roi) by minimising "
        "SURE/PURE (no clean image needed), print them, then denoise with them",
    )
    den.add_argument(
        "--sure",
        action="store_true",
        help="print the unbiased estimate of the result's MSE and PSNR (SURE/PURE)",
    )


def _add_restore(add: AddParser) -> None:
    from .operators import OPERATORS
    from .samplers import SAMPLERS

    res = add("restore", help="solve an inverse problem with a diffusion prior")
    res.add_argument("input", help="measurement: image, low-res image, sinogram or k-space (.npy)")
    res.add_argument(
        "output",
        help="posterior mean: .zarr, .tif, .tiff or .npy (float32); a stack (more than 2 axes): "
        ".zarr, plane by plane (OME-Zarr: mean at '0', std at 'std'; rerun to resume)",
    )
    res.add_argument("--operator", required=True, choices=sorted(OPERATORS))
    res.add_argument(
        "--sampler",
        default=None,
        choices=sorted(SAMPLERS),
        help="default: the operator's best point estimate (e.g. pnp; CT: mean of 4 DDS samples)",
    )
    res.add_argument(
        "--prior", default="default", help="'default', 'default-x8' (8x slower) or a denoiser name"
    )
    res.add_argument(
        "--channel-axis", type=int, default=None, metavar="N",
        help="colour axis: the prior per channel of the opponent colour transform",
    )  # fmt: skip
    res.add_argument("--steps", type=int, default=None, help="default: the operator's")
    res.add_argument("--samples", type=int, default=None, help="default: the operator's")
    res.add_argument(
        "--plane-tile", type=int, default=512, help="stack: tile larger planes' prior (0: never)"
    )
    res.add_argument("--seed", type=int, default=0)
    res.add_argument("--device", default="auto", type=device_arg, help=DEVICE_HELP)
    res.add_argument("--std", default=None, help="also write the per-pixel std here")
    res.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="operator/sampler parameter; a path to an image file loads an array",
    )


def _add_run(add: AddParser) -> None:
    replay = add("run", help="replay a recipe saved from the GUI on a file")
    replay.add_argument("recipe", help="recipe .json (Denoise widget: Save recipe)")
    replay.add_argument("input", help="input .zarr, .tif, .tiff, .npy or .png")
    replay.add_argument("output", help="output file (written atomically)")
    replay.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.add_argument("--device", default=None, type=device_arg, help="override the recipe's")


def _add_bench(add: AddParser) -> None:
    bench = add("bench", help="quality and speed table of the denoisers")
    bench.add_argument("--quick", action="store_true", help="a few small images only")
    bench.add_argument("--json", action="store_true", help="JSON instead of a table")
    bench.add_argument("--methods", default=None, help="comma-separated subset")
