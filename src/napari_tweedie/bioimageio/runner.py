"""Run a bioimage.io model package (BioImage Model Zoo) on 2-D images, without running pickles.

:class:`BioimageioModel` opens any package with one image input and one
image output of the same spatial shape (``y``, ``x``; optional batch and
single-channel axes) and runs it with bioimage.io's own prediction pipeline
(pre- and post-processing included).

What loading executes:

- ``torchscript`` weights are preferred: a TorchScript archive holds
  TorchScript code, run by torch's interpreter, and tensors; its pickled
  parts are read by torch's TorchScript unpickler, which rebuilds only
  tensors and TorchScript types (no Python class or function is imported).
- ``pytorch_state_dict`` weights need the package's architecture, a Python
  file: importing it runs that code.  They are used only with
  ``trust_code=True`` (and only when the package has no TorchScript
  weights); their tensors are read with ``torch.load(weights_only=True)``.
- Before torch sees a weights file, its first bytes must show a zip archive
  (torch's format) or safetensors: a bare pickle renamed as weights is
  refused with a ``ValueError`` and never unpickled.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BioimageioModel", "check_weights_bytes"]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: held while a package is read: bioimageio.spec's loading is not thread-safe (its YAML
#: reader failed when four threads opened one package at once)
LOAD_LOCK = threading.Lock()
PICKLE_START = (b"\x80", b"(", b"]", b"}", b"c")


def check_weights_bytes(head: bytes, name: str) -> None:
    """Refuse a weights file that is not a zip archive (torch) or safetensors.

    ``head`` is the file's first 16 bytes.  A bare pickle (protocol 2+ starts
    with ``0x80``) gets a message saying so; nothing is unpickled here.
    """
    if head.startswith(ZIP_MAGIC):
        return
    size = int.from_bytes(head[:8], "little") if len(head) >= 9 else 0
    if 2 <= size <= 100_000_000 and head[8:9] == b"{":
        return  # safetensors: an 8-byte header length, then a JSON header
    kind = "a bare Python pickle" if head[:1] in PICKLE_START else "not a torch archive"
    raise ValueError(
        f"refusing to load the weights file {name}: it is {kind}, not a PyTorch/TorchScript "
        "zip archive or safetensors; unpickling it could run arbitrary code, so it was not read"
    )


class BioimageioModel:
    """A bioimage.io model package run on 2-D planes (see the module for what loading executes).

    Parameters
    ----------
    source : path-like
        The package (``.zip``) or its ``rdf.yaml``/``bioimageio.yaml``.
    trust_code : bool
        Allow ``pytorch_state_dict`` weights, whose architecture is Python
        code from the package (imported, hence executed).
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``...

    Attributes
    ----------
    config : dict
        The package's ``config`` (``config["napari_tweedie"]`` for packages
        exported by this plugin).
    weight_format : str
        The weights in use.
    """

    def __init__(self, source: str | os.PathLike, *, trust_code: bool = False, device="cpu"):
        from .compat import fix_wrap_serializers

        fix_wrap_serializers()
        self.source = Path(source)
        if not self.source.exists():
            raise FileNotFoundError(f"no bioimage.io package {self.source}")
        with LOAD_LOCK:
            self.descr = _load(self.source)
        self.input, self.output = _image_tensors(self.descr, self.source)
        self.weight_format = _pick_weights(self.descr, self.source, trust_code)
        weights = getattr(self.descr.weights, self.weight_format)
        check_weights_bytes(weights.get_reader().read(16), f"{weights.source} in {self.source}")
        from bioimageio.core import create_prediction_pipeline

        with LOAD_LOCK:
            self.pipeline = create_prediction_pipeline(
                bioimageio_model=self.descr, weight_format=self.weight_format,
                devices=[str(device)],
            )  # fmt: skip
        extra = self.descr.config.model_extra or {}
        self.config = {k: v for k, v in extra.items() if isinstance(k, str)}

    def __call__(self, plane: np.ndarray) -> np.ndarray:
        """The package's output on a 2-D image, float32 of the same shape."""
        from bioimageio.core import Tensor, predict

        image = np.asarray(plane, np.float32)
        if image.ndim != 2:
            raise ValueError(f"expected a 2-D image, got shape {image.shape}")
        shape = [image.shape[0] if a == "y" else image.shape[1] if a == "x" else 1
                 for a in self.input["axes"]]  # fmt: skip
        tensor = Tensor(image.reshape(shape), dims=tuple(self.input["axes"]))
        sample = predict(model=self.pipeline, inputs={self.input["id"]: tensor})
        out = sample.members[self.output["id"]].data
        out = out.transpose(*[d for d in out.dims if d not in ("y", "x")], "y", "x")
        result = np.asarray(out.values, np.float32).reshape(out.shape[-2:])
        if result.shape != image.shape:
            raise ValueError(f"{self.source}: output shape {result.shape} != input {image.shape}")
        return result

    def close(self) -> None:
        """Release the model (and its device memory)."""
        self.pipeline.unload()


def _load(source: Path) -> Any:
    from bioimageio.spec import InvalidDescr, load_description
    from bioimageio.spec.model import v0_5

    descr = load_description(source, perform_io_checks=True)
    if isinstance(descr, InvalidDescr):
        errors = [e.msg for d in descr.validation_summary.details for e in d.errors][:2]
        raise ValueError(f"{source} is not a valid bioimage.io resource ({'; '.join(errors)})")
    if not isinstance(descr, v0_5.ModelDescr):
        from bioimageio.spec import load_model_description

        descr = load_model_description(source, format_version="latest", perform_io_checks=True)
    return descr


def _image_tensors(descr, source: Path) -> tuple[dict, dict]:
    """The one input and one output, each with axes (batch?, channel?, y, x) and one channel."""
    if len(descr.inputs) != 1 or len(descr.outputs) != 1:
        raise ValueError(f"{source}: expected one input and one output tensor (an image denoiser)")
    tensors = []
    for tensor in (descr.inputs[0], descr.outputs[0]):
        axes = [str(a.id) for a in tensor.axes]
        channels = [a for a in tensor.axes if a.type == "channel"]
        spatial = [str(a.id) for a in tensor.axes if a.type == "space"]
        if spatial != ["y", "x"] or any(len(a.channel_names) != 1 for a in channels):
            raise ValueError(
                f"{source}: tensor {tensor.id!s} has axes {axes}; expected one 2-D single-channel "
                "image (y, x with optional batch and one channel)"
            )
        tensors.append({"id": str(tensor.id), "axes": axes})
    return tensors[0], tensors[1]


def _pick_weights(descr, source: Path, trust_code: bool) -> str:
    weights = descr.weights
    if weights.torchscript is not None:
        return "torchscript"
    if weights.pytorch_state_dict is not None:
        if trust_code:
            return "pytorch_state_dict"
        raise ValueError(
            f"{source} has no TorchScript weights; its pytorch_state_dict weights need the "
            "package's Python architecture file to run: pass trust_code=True if you trust it"
        )
    raise ValueError(f"{source} has no PyTorch weights (torchscript or pytorch_state_dict)")
