"""A fast import: torch, numba, bioimageio, dask.distributed load on first use, not at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "numba", "distributed", "bioimageio")


def loaded_after(statement: str) -> list[str]:
    """The heavy top-level modules in ``sys.modules`` after ``statement`` in a fresh process."""
    code = (
        f"import sys\n{statement}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return eval(out.strip().splitlines()[-1])


def test_import_loads_no_heavy_module():
    assert loaded_after("import napari_tweedie") == []


@pytest.mark.parametrize(
    "statement",
    [
        "import napari_tweedie.cli as c; c.build_parser()",
        "import napari_tweedie as nt; nt.DENOISERS; nt.NOISE_MODELS; nt.denoise",
    ],
)
def test_registries_and_cli_parser_load_no_heavy_module(statement):
    assert loaded_after(statement) == []


def test_public_names_resolve():
    import napari_tweedie as nt

    for name in nt.__all__:
        assert getattr(nt, name) is not None
    with pytest.raises(AttributeError, match="no attribute"):
        nt.not_a_name  # noqa: B018
