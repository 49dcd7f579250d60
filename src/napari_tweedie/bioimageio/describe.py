"""The bioimage.io model description (format 0.5) and documentation of an exported model.

:func:`model_description` builds the ``bioimageio.spec`` ``ModelDescr`` of
the files written by :mod:`.export`: one input and one output tensor
``(batch, channel, y, x)`` of any size from 32 pixels in steps of 16, both
weights formats, the reproducibility tolerance, and under
``config.napari_tweedie`` the method, the noise model and its parameters,
the data range and, for Gaussian noise, ``sigma``: what
``prior="bioimageio:PATH"`` reads to use the package as a Gaussian denoiser.
"""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from .models import Exportable

__all__ = ["documentation", "model_description"]

MIN_SIDE, STEP = 32, 16


def model_description(spec: Exportable, files: dict[str, Path], *, name, authors, tolerance: float):
    """The ``ModelDescr`` of an exported model (files from :func:`.export._write_files`)."""
    import torch
    from bioimageio.spec.model import v0_5

    size = v0_5.ParameterizedSize(min=MIN_SIDE, step=STEP)
    input_axes = [
        v0_5.BatchAxis(),
        v0_5.ChannelAxis(channel_names=[v0_5.Identifier("intensity")]),
        v0_5.SpaceInputAxis(id=v0_5.AxisId("y"), size=size),
        v0_5.SpaceInputAxis(id=v0_5.AxisId("x"), size=size),
    ]
    tensor = v0_5.TensorId("noisy")

    def same(axis: str):
        return v0_5.SizeReference(tensor_id=tensor, axis_id=v0_5.AxisId(axis))

    output_axes = [
        v0_5.BatchAxis(),
        v0_5.ChannelAxis(channel_names=[v0_5.Identifier("intensity")]),
        v0_5.SpaceOutputAxis(id=v0_5.AxisId("y"), size=same("y")),
        v0_5.SpaceOutputAxis(id=v0_5.AxisId("x"), size=same("x")),
    ]
    version = v0_5.Version(torch.__version__.split("+")[0])
    state_dict = v0_5.PytorchStateDictWeightsDescr(
        source=files["weights"],
        architecture=v0_5.ArchitectureFromFileDescr(
            source=files["arch"], callable=v0_5.Identifier(spec.callable), kwargs=spec.kwargs
        ),
        pytorch_version=version,
    )
    torchscript = v0_5.TorchscriptWeightsDescr(
        source=files["torchscript"], pytorch_version=version, parent="pytorch_state_dict"
    )
    low, high = spec.data_range
    config = {
        "method": spec.method,
        "noise": spec.noise.get("model"),
        "noise_params": spec.noise.get("params", {}),
        "data_range": [low, high],
        "exported_by": f"napari-tweedie {__version__}",
    }
    if spec.noise.get("model") == "gaussian":
        config["sigma"] = spec.noise["params"]["sigma"]
    tolerance_entry = v0_5.ReproducibilityTolerance(
        relative_tolerance=tolerance,
        absolute_tolerance=tolerance * max(1.0, abs(high - low)),
    )
    return v0_5.ModelDescr(
        name=name
        or f"napari-tweedie {spec.method.split(' (')[0]}"
        + (f" {spec.noise['model']} noise" if spec.noise else ""),
        description=f"{spec.method} denoiser fitted with napari-tweedie. {spec.about}"[:1000],
        authors=[v0_5.Author(name=author) for author in authors],
        cite=[v0_5.CiteEntry(text=text, url=url) for text, url in spec.cite],
        license=v0_5.LicenseId("BSD-3-Clause"),
        documentation=v0_5.FileDescr(source=files["doc"]),
        covers=[v0_5.FileDescr(source=files["cover"])],
        tags=["denoising", "self-supervised", "2d", "napari-tweedie"],
        inputs=[
            v0_5.InputTensorDescr(
                id=tensor,
                description="noisy image in the units the model was fitted on",
                axes=input_axes,
                test_tensor=v0_5.FileDescr(source=files["input"]),
                data=v0_5.IntervalOrRatioDataDescr(type="float32"),
            )
        ],
        outputs=[
            v0_5.OutputTensorDescr(
                id=v0_5.TensorId("denoised"),
                description="denoised image, same units",
                axes=output_axes,
                test_tensor=v0_5.FileDescr(source=files["output"]),
                data=v0_5.IntervalOrRatioDataDescr(type="float32"),
            )
        ],
        weights=v0_5.WeightsDescr(pytorch_state_dict=state_dict, torchscript=torchscript),
        config=v0_5.Config(
            bioimageio=v0_5.BioimageioConfig(
                reproducibility_tolerance=[tolerance_entry], task="denoising"
            ),
            napari_tweedie=config,
        ),
    )


def documentation(spec: Exportable) -> str:
    """The package's ``README.md``: what the network does, its input, the noise model, papers."""
    low, high = spec.data_range
    noise = spec.noise.get("model")
    params = ", ".join(f"{k} = {v:.6g}" for k, v in spec.noise.get("params", {}).items())
    lines = [
        f"# {spec.method}, exported from napari-tweedie",
        "",
        spec.about,
        "",
        "## Input and output",
        "",
        "One single-channel 2-D image `(batch, channel, y, x)`, float32, in the units of the "
        f"images the model was fitted on (typical range {low:.6g} to {high:.6g}); any size "
        f"from {MIN_SIDE} pixels in steps of {STEP}. The output has the input's shape and "
        "units. No pre- or post-processing is needed: the network normalises the data itself.",
        "",
        "## Noise model",
        "",
        (
            f"`{noise}` noise ({params}), in the data's units."
            if noise
            else "None assumed: the filter was fitted self-supervised on the noisy image."
        ),
        "",
        "## Validation",
        "",
        "The test output is napari-tweedie's own result on the test input; the package "
        "reproduces it to a relative tolerance of 1e-4 with either weights format "
        "(`pytorch_state_dict`: architecture in the package's python file; `torchscript`).",
        "",
        "## References",
        "",
        *[f"- {text} {url}" for text, url in spec.cite],
        "",
    ]
    return "\n".join(lines)
