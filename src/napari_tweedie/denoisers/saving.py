"""Fitted models on disk: one safetensors file of tensors plus JSON metadata (no pickle).

:func:`write_model` and :func:`read_model` are the file format of the fitted
models that save themselves in one file (Noise2Score, zero-shot
Noise2Noise): the tensors go in the safetensors body, a JSON object under the
model's ``key`` in its string metadata, and the file is written atomically.
safetensors and torch load on first call.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["check_config", "loading", "read_model", "write_atomic", "write_model"]

#: the largest file a model may be (the biggest fitted model is a few MB)
MAX_MODEL_BYTES = 1 << 30


def write_model(
    path: str | os.PathLike, tensors: Mapping[str, Tensor], key: str, meta: Mapping[str, Any]
) -> Path:
    """Write ``tensors`` and the JSON of ``meta`` (under ``key``) to ``path`` atomically.

    Parameters
    ----------
    path : path-like
        The ``.safetensors`` file (its folder is created).
    tensors : mapping of str to Tensor
        Saved as contiguous CPU tensors.
    key : str
        Metadata entry holding ``meta`` (tells one kind of model from another).
    meta : mapping
        JSON-serialisable description of the model.

    Returns
    -------
    Path
        ``path``.
    """
    from safetensors.torch import save_file

    body = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    metadata = {key: json.dumps(dict(meta))}
    return write_atomic(path, lambda temporary: save_file(body, str(temporary), metadata=metadata))


def write_atomic(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` on a unique sibling of ``path``, then rename it onto ``path``.

    A reader sees the old file or the new one, never a half-written one; if
    ``write`` raises, the temporary file is removed and ``path`` is unchanged.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def read_model(path: str | os.PathLike, key: str, what: str) -> tuple[dict[str, Tensor], dict]:
    """The tensors (float32) and metadata of a file written by :func:`write_model` with ``key``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` (``"<path>
    is not a <what> model file"``) when the file holds no ``key`` entry.
    """
    from ..prior.bundled import read_weights

    if not Path(path).is_file():
        raise FileNotFoundError(f"no model file {path}")
    if Path(path).stat().st_size > MAX_MODEL_BYTES:
        raise ValueError(f"{path} is larger than {MAX_MODEL_BYTES} bytes: not a {what} model file")
    with loading(path, what):
        tensors, metadata = read_weights(path)
        if key not in metadata:
            raise ValueError(f"{path} is not a {what} model file")
        meta = json.loads(metadata[key])
        if not isinstance(meta, dict):
            raise ValueError(f"{path} is not a {what} model file")
    return tensors, meta


@contextmanager
def loading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn any failure of reading a model file into one ``ValueError`` naming the file.

    A file with wrong keys, shapes or metadata makes torch, safetensors or the
    model's constructor raise ``RuntimeError``, ``KeyError``, ``SafetensorError``...
    with multi-line messages; the caller sees ``"<path> is not a valid <what>
    model file (<reason>)"``.  A missing file stays a ``FileNotFoundError``.
    """
    try:
        yield
    except FileNotFoundError:
        raise
    except Exception as error:
        if isinstance(error, ValueError) and str(path) in str(error):
            raise
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise ValueError(f"{path} is not a valid {what} model file ({reason})") from error


def check_config(
    values: Mapping[str, Any], limits: Mapping[str, tuple[int, int]], path, what: str
) -> None:
    """Refuse a saved architecture whose sizes lie outside ``limits`` (name -> (min, max)).

    Sizes read from a file decide how much memory and time building the model
    takes: an absurd one would hang or exhaust memory before any check.
    """
    for name, (low, high) in limits.items():
        if values.get(name) is None:
            continue
        items = values[name] if isinstance(values[name], list | tuple) else [values[name]]
        if not items or len(items) > high:
            raise ValueError(
                f"{path}: {what} model setting {name}={values[name]!r} is out of range"
            )
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
                setting = f"{name}={values[name]!r}"
                raise ValueError(
                    f"{path}: {what} model setting {setting} is outside [{low}, {high}]"
                )
