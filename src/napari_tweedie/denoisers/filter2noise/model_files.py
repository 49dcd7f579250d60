"""Filter2Noise (Sun et al. 2025) models on disk: safetensors weights and JSON settings.

``<stem>.safetensors`` holds the networks' weights (no pickle) and
``<stem>.json`` the architecture, the normalisation and a summary of the fit;
both are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Filter2Noise

__all__ = ["CONFIG_LIMITS", "FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

FORMAT = "napari-tweedie/filter2noise"
FORMAT_VERSION = 1
#: bounds of the saved architecture (sizes read from a file)
CONFIG_LIMITS = {
    "stages": (1, 8),
    "radius": (1, 32),
    "patch": (1, 256),
    "dim": (1, 1024),
    "window": (0, 4096),
}


def save_model(model: Filter2Noise, path: str | Path) -> Path:
    """Write ``<path>.safetensors`` (weights) and ``<path>.json`` (settings) of ``model``.

    Returns the path of the weights file.
    """
    from safetensors.torch import save_file

    from ..saving import write_atomic

    path = Path(path)
    weights, settings = path.with_suffix(".safetensors"), path.with_suffix(".json")
    state = {k: v.detach().contiguous() for k, v in model.net.state_dict().items()}
    write_atomic(weights, lambda tmp: save_file(state, str(tmp), metadata={"format": FORMAT}))
    info = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "method": "Filter2Noise (Sun et al. 2025)",
        "config": model.config(),
        "offset": model.offset,
        "scale": model.scale,
        "n_parameters": model.n_parameters,
        "iterations": len(model.history),
        "channel_last": model.channel_last,
        "final_loss": model.history[-1] if model.history else None,
    }
    text = json.dumps(info, indent=2)
    write_atomic(settings, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return weights


def load_model(path: str | Path, kind: type[Filter2Noise]) -> Filter2Noise:
    """Read a model written by :func:`save_model` (either file or their common stem).

    ``kind`` is the class of a plane model; one saved with a channel axis comes
    back as :class:`.colour.ColourFilter2Noise`.
    """
    from safetensors.torch import load_file

    from ..saving import check_config, loading
    from .net import F2NNet

    path = Path(path)
    settings_path, weights = path.with_suffix(".json"), path.with_suffix(".safetensors")
    if not settings_path.is_file():
        raise FileNotFoundError(f"no Filter2Noise model file {settings_path}")
    with loading(settings_path, "Filter2Noise"):
        settings = json.loads(settings_path.read_text(encoding="utf-8")[:1_000_000])
    if not isinstance(settings, dict) or settings.get("format") != FORMAT:
        raise ValueError(f"{settings_path} is not a saved Filter2Noise model")
    if not weights.is_file():
        raise FileNotFoundError(f"no Filter2Noise model file {weights}")
    with loading(path, "Filter2Noise"):
        config = dict(settings["config"])
        check_config(config, CONFIG_LIMITS, settings_path, "Filter2Noise")
        net = F2NNet(**config)
        net.load_state_dict(load_file(str(weights)))
        net.eval()
    if settings.get("channel_last"):
        from .colour import ColourFilter2Noise

        kind = ColourFilter2Noise
    return kind(net, float(settings["offset"]), float(settings["scale"]))
