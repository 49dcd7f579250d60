"""``napari-tweedie denoise``: tile by tile, with ``--tune`` / ``--sure`` on a central region.

The registry's method through :func:`napari_tweedie.api.denoise_lazy`, written
atomically (never over the input); ``--tune`` minimises SURE/PURE on at most
a ``TUNING_SIDE`` crop of the middle plane first.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .cli_args import (
    _progress,
    _scheduler,
    apply_roi,
    cast_output,
    check_not_colour,
    parse_settings,
)

__all__ = ["TUNING_SIDE", "run_denoise", "shape_options", "tuning_region"]

TUNING_SIDE = 512  # --tune and --sure run on at most this central crop of the middle plane


def run_denoise(args: argparse.Namespace) -> int:
    """Denoise ``args.input`` into ``args.output`` (the ``denoise`` command); exit status 0."""
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
