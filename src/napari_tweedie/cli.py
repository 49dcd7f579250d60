"""Command line: ``napari-tweedie denoise INPUT OUTPUT --method NAME [--set key=value ...]``.

Also ``restore`` (diffusion-prior inverse problems), ``run RECIPE.json INPUT
OUTPUT`` (replay settings saved from the GUI, see :mod:`napari_tweedie.recipes`),
``export`` and ``bench``.  The parser is built in :mod:`napari_tweedie.cli_parser`,
``denoise`` runs in :mod:`napari_tweedie.cli_denoise`.

Same registry and tiled engine as the widgets; exits 0 on success and
non-zero with a one-line reason on bad input.  Outputs are written
atomically and never over the input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

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
from .cli_denoise import (
    TUNING_SIDE,
    _last,
    _tune_and_rate,
    run_denoise,
    shape_options,
    tuning_region,
)
from .cli_export import add_export_parser, run_export
from .cli_parser import build_parser

# the commands live here, in cli_denoise (``denoise``) and cli_export (``export``); the parser in
# cli_parser; every name importable from this module before that split still is
__all__ = [
    "DEVICE_HELP",
    "TUNING_SIDE",
    "_last",
    "_positive",
    "_progress",
    "_scheduler",
    "_tune_and_rate",
    "add_export_parser",
    "add_shape_options",
    "apply_roi",
    "attach_values",
    "build_parser",
    "cast_output",
    "check_device_option",
    "check_not_colour",
    "check_restore_outputs",
    "device_arg",
    "load_array_values",
    "main",
    "parse_roi",
    "parse_settings",
    "parse_sigma",
    "report_error",
    "run_bench",
    "run_denoise",
    "run_export",
    "run_recipe",
    "run_restore",
    "shape_options",
    "tuning_region",
]


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
