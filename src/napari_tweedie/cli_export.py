"""``napari-tweedie export MODEL OUTPUT.zip``: a fitted model as a bioimage.io package.

MODEL is a model file saved by the plugin (Noise2Score, Filter2Noise or
zero-shot Noise2Noise); see :func:`napari_tweedie.export_bioimageio`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

__all__ = ["add_export_parser", "run_export"]


def add_export_parser(add: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``export`` sub-command (``add`` is the sub-parsers' ``add_parser``)."""
    export = add("export", help="a fitted model as a bioimage.io (BioImage Model Zoo) package")
    export.add_argument("model", help="model file saved by napari-tweedie (.safetensors)")
    export.add_argument("output", help="the package, OUTPUT.zip (written atomically)")
    export.add_argument(
        "--sample", default=None, help="a noisy 2-D image whose centre is the test input"
    )
    export.add_argument("--name", default=None, help="the package's name")
    export.add_argument(
        "--author", action="append", default=None, help="an author's name (repeatable)"
    )


def run_export(args: argparse.Namespace) -> int:
    """Write the package; exit status 0 (errors go through the CLI's one-line report)."""
    from .bioimageio.export import export_bioimageio

    sample = None
    if args.sample:
        from .data.io import open_array

        sample = open_array(args.sample)
        sample = sample.compute() if hasattr(sample, "compute") else sample
    authors = tuple(args.author) if args.author else ("napari-tweedie user",)
    path = export_bioimageio(args.model, args.output, sample=sample, name=args.name,
                             authors=authors)  # fmt: skip
    sys.stderr.write(f"napari-tweedie: wrote {path}\n")
    return 0
