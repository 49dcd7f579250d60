"""Command line: ``napari-tweedie denoise INPUT OUTPUT --method NAME [--set key=value ...]``.

Also ``restore`` (diffusion-prior inverse problems), ``run RECIPE.json INPUT
OUTPUT`` (replay settings saved from the GUI, see :mod:`napari_tweedie.recipes`)
and ``bench``.

Same registry and tiled engine as the widgets; exits 0 on success and
non-zero with a one-line reason on bad input.  Outputs are written
atomically and never over the input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial

import numpy as np

from . import __version__
from .cli_args import (
    DEVICE_HELP,
    _positive,
    _progress,
    _scheduler,
    add_shape_options,
    apply_roi,
    attach_values,
    cast_output,
    check_device_option,
    check_not_colour,
    check_restore_outputs,
    device_arg,
    load_array_values,
    parse_roi,
    parse_settings,
    parse_sigma,
    report_error,
)
from .cli_export import add_export_parser, run_export

TUNING_SIDE = 512  # --tune and --sure run on at most this central crop of the middle plane


def build_parser() -> argparse.ArgumentParser:
    from .denoisers import DENOISERS
    from .noise import NOISE_MODELS
    from .operators import OPERATORS
    from .samplers import SAMPLERS

    parser = argparse.ArgumentParser(prog="napari-tweedie", description=__doc__.split("\n")[0])
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
    replay = add("run", help="replay a recipe saved from the GUI on a file")
    replay.add_argument("recipe", help="recipe .json (Denoise widget: Save recipe)")
    replay.add_argument("input", help="input .zarr, .tif, .tiff, .npy or .png")
    replay.add_argument("output", help="output file (written atomically)")
    replay.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.add_argument("--device", default=None, type=device_arg, help="override the recipe's")
    add_export_parser(add)
    bench = add("bench", help="quality and speed table of the denoisers")
    bench.add_argument("--quick", action="store_true", help="a few small images only")
    bench.add_argument("--json", action="store_true", help="JSON instead of a table")
    bench.add_argument("--methods", default=None, help="comma-separated subset")
    return parser


def run_denoise(args: argparse.Namespace) -> int:
    from . import api
    from .data import open_array, store_atomic
    from .data.io import suffix_of
    from .data.writer import check_output

    check_output(args.output, [args.input])  # before any work: refuse what it may not replace
    image = open_array(args.input)
    check_not_colour(image.shape, args.channel_axis)
    if args.roi is not None:
        image = apply_roi(image, args.roi)
    params = parse_settings(args.set)
    if args.tune or args.sure:
        params = _tune_and_rate(image, args, params)
    lazy = api.denoise_lazy(
        image,
        args.method,
        noise=args.noise,
        sigma=args.sigma,
        seed=args.seed,
        tile=args.tile or api.DEFAULT_TILE,
        overlap=args.overlap,
        device=args.device,
        **shape_options(args),
        **params,
    )
    keep_dtype = args.dtype == "input" or (
        suffix_of(args.output) == ".png" and np.issubdtype(image.dtype, np.integer)
    )
    if keep_dtype:
        lazy = cast_output(lazy, image.dtype)
    with _scheduler(args.scheduler), _progress(args.quiet or bool(args.scheduler)) as callback:
        path = store_atomic(lazy, args.output, inputs=[args.input], callback=callback)
    sys.stderr.write(f"napari-tweedie: wrote {path}\n")
    return 0


def _tune_and_rate(image, args: argparse.Namespace, params: dict) -> dict:
    """``--tune`` and ``--sure`` on a central region of ``image``; returns the parameters to use."""
    from .tuning.scores import estimated_psnr, signal_range
    from .tuning.sure import sure_and_output
    from .tuning.tune import tune

    channels = args.channel_axis is not None
    if channels:  # the middle plane of every channel: channel-last for tuning
        image = image.transpose(_last(image.ndim, args.channel_axis))
    region = np.asarray(tuning_region(image, channel_last=channels), np.float32)
    options = {"noise": args.noise, "sigma": args.sigma, "seed": args.seed}
    options |= {"channel_axis": -1} if channels else {}
    if args.tune:
        tuned = tune(region, args.method, **options, **params)
        params = params | tuned
        values = " ".join(f"{key}={value:.4g}" for key, value in tuned.items())
        sys.stdout.write(f"tuned {args.method}: {values}\n")
    if args.sure:
        mse, _ = sure_and_output(region, args.method, **options, **params)
        psnr = estimated_psnr(mse, signal_range(region))
        sys.stdout.write(
            f"SURE MSE {mse:.4g} (estimated PSNR {psnr:.2f} dB, no clean image needed) "
            f"on {'x'.join(map(str, region.shape))} pixels\n"
        )
    return params


def shape_options(args: argparse.Namespace) -> dict:
    """``channel_axis``, ``volumetric``, ``spacing`` of the command line, when given."""
    options = {"channel_axis": args.channel_axis, "spacing": args.spacing}
    options = {key: value for key, value in options.items() if value is not None}
    return options | ({"volumetric": True} if args.volumetric else {})


def _last(ndim: int, axis: int) -> tuple[int, ...]:
    axis %= ndim
    return tuple(a for a in range(ndim) if a != axis) + (axis,)


def tuning_region(image, side: int = TUNING_SIDE, channel_last: bool = False):
    """The middle plane of ``image``, cropped centrally to at most ``side`` x ``side`` pixels.

    With ``channel_last`` the last axis holds channels and is kept.
    """
    planar = 3 if channel_last else 2
    while image.ndim > planar:
        image = image[image.shape[0] // 2]
    h, w = image.shape[:2]
    y0, x0 = max(0, (h - side) // 2), max(0, (w - side) // 2)
    region = image[y0 : y0 + side, x0 : x0 + side]
    return region.compute() if hasattr(region, "compute") else region


def run_restore(args: argparse.Namespace) -> int:
    from .data import open_array, store_atomic
    from .restoration import restore

    settings = parse_settings(args.set)
    params = load_array_values(settings)
    # files loaded through --set (a mask...) are inputs too; all is checked before the solve
    inputs = [args.input] + [v for k, v in settings.items() if params[k] is not v]
    check_restore_outputs(args.output, args.std, inputs)
    source = open_array(args.input)
    settings = dict(sampler=args.sampler, prior=args.prior, steps=args.steps,
                    samples=args.samples, seed=args.seed, device=args.device)  # fmt: skip
    channel_axis = args.channel_axis
    check_not_colour(source.shape, channel_axis)  # (H, W, 3) is no stack of H planes
    if source.ndim > 2 and channel_axis is None:
        from .restoration_stack import restore_stack_cli

        return restore_stack_cli(source, args, inputs, settings, params)
    measurement = np.asarray(source.compute())
    result = restore(measurement, args.operator, channel_axis=channel_axis, **settings, **params)
    path = store_atomic(result.mean, args.output, inputs=inputs)
    if args.std:
        store_atomic(result.std, args.std, inputs=inputs)
    sys.stderr.write(f"napari-tweedie: wrote {path}\n")
    return 0


def run_recipe(args: argparse.Namespace) -> int:
    """Replay a recipe through the ``denoise`` or ``restore`` command (same code path)."""
    from .recipes import load_recipe, recipe_arguments

    recipe = load_recipe(args.recipe)
    argv = recipe_arguments(recipe, args.input, args.output)
    if recipe["command"] == "denoise":
        argv += ["--scheduler", args.scheduler] if args.scheduler else []
        argv += ["--quiet"] if args.quiet else []
    argv += ["--device", args.device] if args.device else []  # the last --device wins
    replayed = build_parser().parse_args(attach_values(argv))
    return {"denoise": run_denoise, "restore": run_restore}[replayed.command](replayed)


def run_bench(args: argparse.Namespace) -> int:
    from .benchmark import report, run_benchmark

    results, skipped = run_benchmark(args.quick, args.methods)
    sys.stdout.write(report(results, skipped, quick=args.quick, as_json=args.json) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``napari-tweedie`` command."""
    parser = build_parser()
    args = parser.parse_args(attach_values(sys.argv[1:] if argv is None else argv))
    commands = {
        "denoise": run_denoise,
        "restore": run_restore,
        "run": run_recipe,
        "bench": run_bench,
        "export": run_export,
    }
    try:
        check_device_option(args)
        return commands[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write("napari-tweedie: interrupted; nothing was written\n")
        return 130
    except Exception as error:
        if args.debug:
            raise
        return report_error(error)


if __name__ == "__main__":
    sys.exit(main())
