"""What an output may replace: only a store or file of the kind this project writes.

:func:`check_replaceable` refuses an existing target that is not recognisably
an output (an ordinary directory holding other files, a file of another
format) so that writing a result never deletes a user's data;
:func:`clean_stale` removes temporary stores left beside a target by runs that
died (killed, crashed) before their rename.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from pathlib import Path

__all__ = ["check_replaceable", "clean_stale", "is_zarr_store", "temporary_path"]

ZARR_METADATA = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"})
_CHUNK_KEY = re.compile(r"^\d+([._]\d+)*$")  # zarr v2 chunk files ("0.0"), nested keys ("0")
MAGIC = {  # the first bytes of a file of each output format
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".npy": (b"\x93NUMPY",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
STALE_AGE_S = 24 * 3600  # a temporary store of no known process is stale after this long


def temporary_path(target: Path) -> Path:
    """A hidden sibling of ``target`` for writing before the rename (names this process)."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def is_zarr_store(path: Path, depth: int = 0) -> bool:
    """Whether the directory ``path`` holds a zarr array or group and nothing else.

    Every top-level entry must be zarr metadata, a chunk (``c/`` of zarr v3,
    ``0.0`` or ``0/`` of v2) or a child array or group (an OME-Zarr level).
    """
    if depth > 8 or not path.is_dir() or path.is_symlink():
        return False
    names = {entry.name for entry in os.scandir(path)}
    if not names & {"zarr.json", ".zarray", ".zgroup"}:
        return False
    for name in names - ZARR_METADATA:
        entry = path / name
        if name == "c" and entry.is_dir() or _CHUNK_KEY.match(name):
            continue
        if not is_zarr_store(entry, depth + 1):
            return False
    return True


def check_replaceable(target: Path, suffix: str) -> None:
    """Refuse ``target`` if it exists and is not an output of format ``suffix``.

    A ``.zarr`` output replaces a zarr store (:func:`is_zarr_store`); a file
    output replaces an empty file or one starting with its format's magic
    bytes.  Anything else (an ordinary directory, a file of another kind, a
    link to a directory) is a ``ValueError`` naming it: nothing is deleted.
    """
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_dir():
        if suffix == ".zarr" and not target.is_symlink() and is_zarr_store(target):
            return
        raise ValueError(
            f"refusing to replace {target}: it is a directory that is not a zarr store "
            "written by this program (remove it yourself or choose another output)"
        )
    if suffix == ".zarr":
        raise ValueError(f"refusing to replace the file {target} with a .zarr store")
    with open(target, "rb") as handle:
        head = handle.read(8)
    if head and not head.startswith(MAGIC.get(suffix, ())):
        raise ValueError(
            f"refusing to replace {target}: it is not a {suffix} file "
            "(remove it yourself or choose another output)"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(target: Path) -> list[Path]:
    """Remove temporary stores of ``target`` left by dead writers; returns what was removed.

    A temporary store is stale when the process its name records no longer
    runs, or (names without a process id) when it was not modified for a day.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.tmp-(?:(\d+)-)?[0-9a-f]{{8}}$")
    removed = []
    with contextlib.suppress(OSError):
        entries = list(os.scandir(target.parent))
        for entry in entries:
            match = pattern.match(entry.name)
            if not match:
                continue
            pid = match.group(1)
            if pid is not None:
                stale = int(pid) != os.getpid() and not _pid_alive(int(pid))
            else:
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AGE_S
            if stale:
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
    return removed
