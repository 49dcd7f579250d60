"""Registry entry ``"bioimageio"``: run a bioimage.io model package through the tiled engine.

Any package with one 2-D single-channel image input and an output of the
same shape is a denoiser here (:class:`~napari_tweedie.bioimageio.runner.
BioimageioModel`; TorchScript weights, or ``pytorch_state_dict`` with
``trust_code=True``).  The package is opened once per call of
``nt.denoise`` (``resolve``), then every plane is cut into ``tile``-sized
tiles with ``overlap`` pixels of context and blended back
(:func:`napari_tweedie.data.map_tiles`).  The model runs on the API's
``device`` (``"auto"`` resolved by :func:`napari_tweedie.devices.resolve_device`).
The noise model is not used: the package was fitted on data like the input,
in the input's units.
bioimageio and torch load on the first call.
"""

from __future__ import annotations

import numpy as np

from ...devices import check_device, resolve_device
from ...specs import Param
from ..registry import DenoiserSpec

__all__ = ["SPECS", "denoise_bioimageio"]


def _open(params: dict) -> dict:
    """``params`` with ``model`` opened as a :class:`BioimageioModel` (a path is required)."""
    model = params.get("model")
    if model is None or model == "":
        raise ValueError(
            "the 'bioimageio' method needs model=PATH: a bioimage.io package (.zip) with at "
            "least one image input and output"
        )
    device = check_device(params.get("device", "auto"))
    if isinstance(model, str | bytes) or hasattr(model, "__fspath__"):
        from ...bioimageio.runner import BioimageioModel

        model = BioimageioModel(
            model,
            trust_code=bool(params.get("trust_code", False)),
            device=str(resolve_device(device)),
        )
    return {**params, "model": model}


def resolve_bioimageio(sample: np.ndarray, sigma: float, params: dict) -> dict:
    """Open the package once for all planes and tiles (``DenoiserSpec.resolve``)."""
    return _open(params)


def denoise_bioimageio(
    image: np.ndarray, *, sigma: float | None = None, seed: int = 0, model=None, tile: int = 512,
    overlap: int = 32, trust_code: bool = False, device: str = "auto",
) -> np.ndarray:  # fmt: skip
    """A bioimage.io package applied to a 2-D plane tile by tile (``sigma``, ``seed`` unused).

    ``model`` is the package's path or an opened ``BioimageioModel``; a path is
    opened on ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``,
    ``"mps"``; :func:`napari_tweedie.devices.resolve_device`).
    """
    run = _open({"model": model, "trust_code": trust_code, "device": device})["model"]
    from ...data.tiles import map_tiles

    def block(b: np.ndarray, *, seed: int) -> np.ndarray:
        return run(b.reshape(b.shape[-2:])).reshape(b.shape)

    from ..fitting import one_torch_thread

    plane = np.asarray(image, np.float32)
    tiles = map_tiles(block, plane, int(tile), int(overlap))
    with one_torch_thread():  # the same bits in any thread (as the fitted methods)
        return np.asarray(tiles.compute(scheduler="synchronous"), np.float32)


SPECS = (
    DenoiserSpec(
        name="bioimageio",
        func=denoise_bioimageio,
        params=(
            Param(
                "model",
                None,
                "The bioimage.io model package (.zip) to run.",
                "path",
                label="bioimage.io package",
            ),
            Param(
                "tile",
                512,
                "Tile side in pixels (memory per model call).",
                "int",
                min=32,
                max=8192,
                step=32,
            ),
            Param(
                "overlap",
                32,
                "Context around each tile, in pixels (the network's reach).",
                "int",
                min=0,
                max=1024,
                step=8,
            ),
            Param(
                "trust_code",
                False,
                "Allow packages without TorchScript weights: their "
                "pytorch_state_dict weights run the package's Python code.",
                "bool",
            ),
        ),  # fmt: skip
        summary="A bioimage.io (BioImage Model Zoo) model package with one image input and "
        "one image output, run tile by tile",
        fast=False,
        gaussian_only=False,
        resolve=resolve_bioimageio,
        radius=lambda sigma, overlap=32, **params: int(overlap),
        extra={"fixed_units": True},  # the package expects its own units: no API rescaling
    ),
)
