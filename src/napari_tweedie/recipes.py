"""Recipes: the settings tuned on a region, saved as JSON and replayed on a whole dataset.

A recipe is a small JSON object::

    {"napari_tweedie_recipe": 1, "command": "denoise", "method": "tv",
     "noise": "gaussian", "sigma": 0.08, "seed": 0, "params": {"weight": 0.1},
     "tile": 512, "overlap": null}

    {"napari_tweedie_recipe": 1, "command": "restore", "operator": "inpaint",
     "sampler": "dds", "prior": "default", "steps": 50, "samples": 1, "seed": 0,
     "params": {"mask": "mask.npy", "sigma_y": 0.01}}

The Denoise widget writes the first kind (*Save recipe*);
``napari-tweedie run RECIPE.json INPUT OUTPUT`` replays either through the same
code as ``napari-tweedie denoise`` / ``restore``, so a recipe and the equivalent
command line give the same result.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .devices import check_device

__all__ = ["RECIPE_VERSION", "denoise_recipe", "load_recipe", "recipe_arguments", "save_recipe"]

RECIPE_VERSION = 1
MAX_RECIPE_BYTES = 1 << 20  # a recipe is a few hundred bytes; refuse anything absurd
MAX_RECIPE_PARAMS = 256
_KEY = "napari_tweedie_recipe"
_DENOISE_OPTIONS = {"noise": "--noise", "sigma": "--sigma", "seed": "--seed", "tile": "--tile",
                    "overlap": "--overlap", "channel_axis": "--channel-axis",
                    "device": "--device"}  # fmt: skip
_RESTORE_OPTIONS = {"sampler": "--sampler", "prior": "--prior", "steps": "--steps",
                    "samples": "--samples", "seed": "--seed", "device": "--device"}  # fmt: skip


def denoise_recipe(
    method: str,
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    seed: int = 0,
    tile: int | None = None,
    overlap: int | None = None,
    channel_axis: int | None = None,
    volumetric: bool = False,
    spacing=None,
    device: str = "auto",
    **params: Any,
) -> dict:
    """A denoise recipe: the arguments of :func:`napari_tweedie.denoise` plus tiling.

    ``channel_axis``, ``volumetric`` and ``spacing`` (issue 16) are recorded
    too; recipes without them (older ones) replay as before.  ``device``
    (``"auto"``, ``"cpu"``, ``"cuda[:N]"``, ``"mps"``) is recorded and replayed
    as ``--device`` (``napari-tweedie run --device`` overrides it).
    """
    if sigma is not None and np.ndim(sigma):
        sigma = [float(v) for v in np.ravel(sigma)]  # one per channel
    recipe = {_KEY: RECIPE_VERSION, "command": "denoise", "method": method, "noise": noise,
              "sigma": sigma, "seed": int(seed), "params": dict(params), "tile": tile,
              "overlap": overlap, "channel_axis": channel_axis, "volumetric": bool(volumetric),
              "spacing": None if spacing is None else [float(v) for v in spacing],
              "device": device}  # fmt: skip
    return validate(recipe)


def validate(recipe: dict) -> dict:
    """Check a recipe's version, command, method/operator and parameters; returns it."""
    from .denoisers import DENOISERS

    if not isinstance(recipe, dict) or recipe.get(_KEY) != RECIPE_VERSION:
        raise ValueError(f"not a napari-tweedie recipe (expected '{_KEY}': {RECIPE_VERSION})")
    command = recipe.get("command")
    if command == "denoise":
        if recipe.get("method") not in DENOISERS:
            raise ValueError(f"recipe: unknown method {recipe.get('method')!r}")
    elif command == "restore":
        if not isinstance(recipe.get("operator"), str):
            raise ValueError("recipe: a restore recipe needs an 'operator'")
    else:
        raise ValueError(f"recipe: unknown command {command!r} (denoise or restore)")
    if not isinstance(recipe.get("params", {}), dict):
        raise ValueError("recipe: 'params' must be an object")
    if len(recipe.get("params", {})) > MAX_RECIPE_PARAMS:
        raise ValueError(
            f"recipe: {len(recipe['params'])} parameters, more than the limit of "
            f"{MAX_RECIPE_PARAMS}"
        )
    if recipe.get("device") is not None:
        check_device(recipe["device"])
    json.dumps(recipe)  # raises TypeError on values JSON cannot hold (e.g. arrays)
    return recipe


def save_recipe(recipe: dict, path: str | os.PathLike) -> Path:
    """Write ``recipe`` as JSON to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    text = json.dumps(validate(recipe), indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_recipe(path: str | os.PathLike) -> dict:
    """Read and validate a recipe file (``ValueError`` with the reason when it is not one).

    Relative file names among the parameters (``"mask": "mask.npy"``) are
    taken next to the recipe, wherever the command runs from.
    """
    if Path(path).is_file() and Path(path).stat().st_size > MAX_RECIPE_BYTES:
        raise ValueError(f"recipe {path}: larger than {MAX_RECIPE_BYTES} bytes: not a recipe")
    try:
        recipe = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"recipe {path}: not valid JSON ({error})") from error
    except RecursionError as error:
        raise ValueError(f"recipe {path}: nested too deeply to be a recipe") from error
    recipe = validate(recipe)
    folder = Path(path).resolve().parent
    for key, value in recipe.get("params", {}).items():
        if isinstance(value, str) and not Path(value).is_absolute() and (folder / value).exists():
            recipe["params"][key] = str(folder / value)
    return recipe


def recipe_arguments(recipe: dict, input_path: str, output_path: str) -> list[str]:
    """The ``napari-tweedie`` command-line arguments that replay ``recipe`` on a file."""
    recipe = validate(recipe)
    command = recipe["command"]
    if command == "denoise":
        argv = ["denoise", input_path, output_path, "--method", recipe["method"]]
        options = _DENOISE_OPTIONS
    else:
        argv = ["restore", input_path, output_path, "--operator", recipe["operator"]]
        options = _RESTORE_OPTIONS
    for key, flag in options.items():
        value = recipe.get(key)
        if value is not None:
            argv += [flag, ",".join(map(str, value)) if isinstance(value, list) else str(value)]
    if command == "denoise":
        argv += ["--volumetric"] if recipe.get("volumetric") else []
        spacing = recipe.get("spacing")
        argv += ["--spacing", ",".join(map(str, spacing))] if spacing else []
    params = dict(recipe.get("params", {}))
    legacy = params.pop("device", None)  # older recipes kept the prior's device as a parameter
    if legacy is not None and recipe.get("device") is None:
        argv += ["--device", check_device(str(legacy))]
    for key, value in params.items():
        argv += ["--set", f"{key}={value!r}"]
    return argv
