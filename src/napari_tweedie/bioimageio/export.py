"""bioimage.io (BioImage Model Zoo) export of a fitted Noise2Score, Filter2Noise or ZS-N2N model.

:func:`export_bioimageio` writes a model package (``rdf.yaml`` in a zip, format
0.5) with the weights as ``pytorch_state_dict`` (architecture from a python
file in the package: :mod:`.arch_noise2score`, :mod:`.arch_filter2noise`,
:mod:`.arch_zs_n2n`) and as ``torchscript``, a test input and output, a cover
image, documentation, citations and the noise model in ``config``.  The
package's network includes the normalisation, the variance-stabilising
transform and the Tweedie step, and its test output is this plugin's own
result: before writing, the export checks that the package reproduces it to
``TOLERANCE``.  torch and bioimageio load on first call.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .describe import model_description
from .models import Exportable, exportable, read_fitted

__all__ = ["TOLERANCE", "export_bioimageio"]

#: relative (and, times the data's range, absolute) tolerance of the package's reproduction
TOLERANCE = 1e-4
#: side of the test tensors (a valid size: 32 + 16 n)
TEST_SIDE = 64


def export_bioimageio(
    model: Any,
    output: str | os.PathLike,
    *,
    sample: np.ndarray | None = None,
    name: str | None = None,
    authors: tuple[str, ...] = ("napari-tweedie user",),
) -> Path:
    """Write a fitted model as a bioimage.io model package (BioImage Model Zoo, format 0.5).

    Parameters
    ----------
    model : path-like or fitted model
        A model file saved by this plugin (Noise2Score ``.safetensors``,
        Filter2Noise ``.safetensors`` + ``.json``, zero-shot Noise2Noise
        ``.safetensors``) or the fitted model itself.
    output : path-like
        The package, ``*.zip`` (written atomically).
    sample : ndarray, optional
        A 2-D noisy image of the kind the model was fitted on: its central
        64 x 64 crop is the package's test input (default: a synthetic test
        pattern in the model's data range, with the model's noise).
    name : str, optional
        The package's name (default from the method and noise model).
    authors : tuple of str
        Names of the package's authors.

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    FileNotFoundError, ValueError
        No such model file, not a model file of this plugin, a bad output
        name, or a package that would not reproduce the plugin's output.
    """
    from .compat import fix_wrap_serializers

    fix_wrap_serializers()
    output = Path(output)
    if output.suffix.lower() != ".zip":
        raise ValueError(f"the bioimage.io package must be a .zip file, got {output}")
    fitted = read_fitted(model) if isinstance(model, str | os.PathLike) else model
    spec = exportable(fitted)
    test_input = _test_input(spec, sample)
    expected = np.asarray(spec.denoise(test_input), np.float32)
    from ..denoisers.saving import write_atomic

    with tempfile.TemporaryDirectory(prefix="nt-bioimageio-") as folder:
        files = _write_files(Path(folder), spec, test_input, expected)
        descr = model_description(spec, files, name=name, authors=authors, tolerance=TOLERANCE)
        from bioimageio.spec import save_bioimageio_package

        return write_atomic(output, lambda tmp: _save(save_bioimageio_package, descr, tmp))


def _save(save, descr, temporary: Path) -> None:
    package = temporary.with_name(temporary.name + ".zip")  # bioimageio wants a .zip name
    try:
        save(descr, output_path=package)
        package.replace(temporary)
    finally:
        package.unlink(missing_ok=True)


def _test_input(spec: Exportable, sample: np.ndarray | None) -> np.ndarray:
    """The package's 2-D test input: the central crop of ``sample`` or a synthetic image."""
    if sample is not None:
        image = np.asarray(sample, np.float32)
        image = (
            image.reshape(image.shape[-2:]) if image.size == np.prod(image.shape[-2:]) else image
        )
        if image.ndim != 2 or min(image.shape) < 32 or not np.isfinite(image).all():
            raise ValueError("sample must be a finite 2-D image of at least 32 x 32 pixels")
        side = min(TEST_SIDE, 32 + 16 * ((min(image.shape) - 32) // 16))
        y0, x0 = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        return np.ascontiguousarray(image[y0 : y0 + side, x0 : x0 + side])
    low, high = spec.data_range
    yy, xx = np.mgrid[:TEST_SIDE, :TEST_SIDE] / TEST_SIDE
    pattern = 0.2 + 0.3 * xx + 0.4 * (np.hypot(yy - 0.5, xx - 0.5) < 0.3)
    clean = low + (high - low) * pattern
    return _add_noise(spec.noise, clean).astype(np.float32)


def _add_noise(noise: dict, clean: np.ndarray) -> np.ndarray:
    """``clean`` with the model's noise (a tenth of the range when it assumes none)."""
    rng = np.random.default_rng(0)
    if noise:
        from ..noise import make_noise_model

        model = make_noise_model(noise["model"], **noise["params"])
        return np.asarray(model.sample(np.clip(clean, 1e-6, None), rng), np.float64)
    return clean + 0.1 * float(np.ptp(clean) or 1.0) * rng.standard_normal(clean.shape)


def _write_files(folder: Path, spec: Exportable, test_input, expected) -> dict[str, Path]:
    """Architecture, weights, test tensors, cover and documentation in ``folder``."""
    import torch

    from . import models as _here

    arch = Path(_here.__file__).with_name(spec.source)
    files = {"arch": folder / spec.source, "weights": folder / "weights.pt",
             "torchscript": folder / "weights_torchscript.pt",
             "input": folder / "test_input.npy", "output": folder / "test_output.npy",
             "cover": folder / "cover.png", "doc": folder / "README.md"}  # fmt: skip
    files["arch"].write_text(arch.read_text(encoding="utf-8"), encoding="utf-8")
    module = _load_module(files["arch"], spec)
    torch.save({k: v.detach().cpu().contiguous() for k, v in spec.state.items()}, files["weights"])
    scripted = torch.jit.script(module)
    scripted.save(str(files["torchscript"]))
    batch = torch.from_numpy(test_input)[None, None]
    with torch.no_grad():
        for label, network in (("pytorch_state_dict", module), ("torchscript", scripted)):
            _check_reproduction(label, network(batch)[0, 0].numpy(), expected, spec)
    np.save(files["input"], test_input[None, None])
    np.save(files["output"], expected[None, None])
    _write_cover(files["cover"], test_input, expected)
    from .describe import documentation

    files["doc"].write_text(documentation(spec), encoding="utf-8")
    return files


def _load_module(source: Path, spec: Exportable):
    """``spec.callable(**spec.kwargs)`` from our own architecture file, weights loaded, eval."""
    import importlib.util

    module_spec = importlib.util.spec_from_file_location(f"_nt_export_{source.stem}", source)
    code = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(code)
    network = getattr(code, spec.callable)(**spec.kwargs)
    network.load_state_dict(spec.state, strict=True)
    return network.eval()


def _check_reproduction(label: str, actual, expected, spec: Exportable) -> None:
    scale = max(1.0, abs(spec.data_range[1] - spec.data_range[0]), float(np.abs(expected).max()))
    error = float(np.max(np.abs(actual - expected)))
    if not error <= TOLERANCE * scale:
        raise ValueError(
            f"the exported {label} network differs from the plugin's {spec.method} output by "
            f"{error:.3g} (tolerance {TOLERANCE * scale:.3g}); package not written"
        )


def _write_cover(path: Path, noisy: np.ndarray, clean: np.ndarray) -> None:
    """Noisy input | denoised output, side by side (2:1), 8-bit PNG on the input's range."""
    from PIL import Image

    low, high = np.percentile(noisy, [0.5, 99.5])
    pair = np.concatenate([noisy, clean], axis=1)
    scaled = np.clip((pair - low) / max(high - low, 1e-12), 0, 1)
    image = Image.fromarray((255 * scaled).astype(np.uint8))
    image.resize((4 * pair.shape[1], 4 * pair.shape[0]), Image.NEAREST).save(path)
