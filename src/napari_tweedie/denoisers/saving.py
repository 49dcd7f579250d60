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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["read_model", "write_atomic", "write_model"]


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
    tensors, metadata = read_weights(path)
    if key not in metadata:
        raise ValueError(f"{path} is not a {what} model file")
    return tensors, json.loads(metadata[key])
