"""Torch device choice for every torch method: ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``.

One place decides where the networks run.  :func:`resolve_device` turns a
user's string into a ``torch.device`` (``"auto"``: CUDA, then Apple MPS, then
CPU; never fails); a named device that this machine lacks is an error that
lists what is available, a string that names no device is a ``ValueError``.
:func:`available_devices` lists the choices for pickers, and
:func:`with_cpu_fallback` runs an operation on CPU, with a warning, when the
device lacks it (``NotImplementedError``, as MPS raises for missing kernels).
torch is imported inside the functions only (``import napari_tweedie`` stays light).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEVICE_PATTERN",
    "available_devices",
    "check_device",
    "resolve_device",
    "uses_device",
    "with_cpu_fallback",
]

#: The device strings accepted everywhere (API, CLI, recipes, widgets).
DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def check_device(name: Any) -> str:
    """Validate a device string (syntax only, nothing is probed); returns it.

    Raises ``ValueError`` naming the accepted forms for anything else
    (``"gpu"``, ``"cuda:x"``, ``""``, non-strings).
    """
    text = str(name) if _is_torch_device(name) else name
    if not isinstance(text, str) or not DEVICE_PATTERN.fullmatch(text):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}")
    return text


def _is_torch_device(name: Any) -> bool:
    return type(name).__name__ == "device" and type(name).__module__.startswith("torch")


def available_devices() -> list[str]:
    """Devices torch can use here, for pickers: ``"cpu"``, then ``"cuda"``, ``"mps"``.

    With several GPUs each is listed as ``"cuda:N"``; ``"auto"`` is not
    listed (pickers put it first themselves).
    """
    import torch

    names = ["cpu"]
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    names += ["cuda"] if gpus == 1 else [f"cuda:{i}" for i in range(gpus)]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` for a device string; ``"auto"`` = CUDA, then MPS, then CPU.

    Parameters
    ----------
    name : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``name`` is not a device string, or names a device this machine
        lacks (the message lists the available ones).  ``"auto"`` never fails.
    """
    import torch

    text = check_device(name)
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(text)
    if not _present(device):
        choices = ", ".join(["auto", *available_devices()])
        raise ValueError(f"device {text!r} is not available on this machine (available: {choices})")
    return device


def uses_device(func: Callable) -> bool:
    """Whether ``func`` (a registry function) takes a ``device`` keyword (the torch methods)."""
    import inspect

    try:
        return "device" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin or C function: no keywords to inspect
        return False


def _present(device: torch.device) -> bool:
    """Whether torch can use ``device`` on this machine."""
    import torch

    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    if device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        return mps is not None and mps.is_available()
    return device.type == "cpu"


def with_cpu_fallback(op: Callable[..., Any], *tensors: Any, **kwargs: Any) -> Any:
    """Run ``op(*tensors, **kwargs)``; on ``NotImplementedError`` rerun it on CPU with a warning.

    Devices lack some kernels (MPS raises ``NotImplementedError`` for them);
    the operation then runs on CPU copies of the tensor arguments and its
    tensor result(s) go back to the device of the first tensor argument, so
    the caller never sees a crash, only a ``RuntimeWarning`` naming the op.
    """
    try:
        return op(*tensors, **kwargs)
    except NotImplementedError as error:
        import torch

        home = next((t.device for t in tensors if isinstance(t, torch.Tensor)), None)
        name = getattr(op, "__name__", repr(op))
        warnings.warn(
            f"{name} is not implemented on {home}; ran it on CPU instead ({error})",
            RuntimeWarning,
            stacklevel=2,
        )
        moved = [t.cpu() if isinstance(t, torch.Tensor) else t for t in tensors]
        result = op(*moved, **kwargs)
        return _to(result, home)


def _to(result: Any, device: Any) -> Any:
    """``result`` (a tensor or a tuple/list of them) moved to ``device``."""
    import torch

    if device is None:
        return result
    if isinstance(result, torch.Tensor):
        return result.to(device)
    if isinstance(result, (tuple, list)):
        return type(result)(_to(r, device) for r in result)
    return result
